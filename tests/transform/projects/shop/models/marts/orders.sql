{{ config(post_hook="insert into {{ target.schema }}_audit.run_log values ('built orders', '{{ invocation_id }}')") }}
select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.status,
    coalesce(p.amount, 0) as amount,
    '{{ var("currency") }}' as currency
from {{ ref('stg_orders') }} o
left join {{ ref('int_order_payments') }} p using (order_id)
