-- Every order's amount equals the sum of its payments.
select o.order_id
from {{ ref('orders') }} o
join (select order_id, sum(amount) as paid from {{ ref('stg_payments') }} group by 1) p using (order_id)
where abs(o.amount - p.paid) > 0.001
