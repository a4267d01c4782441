select c.country, count(*) as orders, sum(o.amount) as revenue
from {{ ref('orders') }} o join {{ ref('customers') }} c using (customer_id)
group by c.country
