-- depends_on: {{ ref('orders') }}
{{ config(materialized='table') }}
{% set methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}
select
    order_date,
    {% for m in methods %}
    sum(case when payment_method = '{{ m }}' then p.amount else 0 end) as {{ m }}_amount{{ ',' if not loop.last }}
    {% endfor %}
from {{ ref('stg_orders') }} o
join {{ ref('stg_payments') }} p using (order_id)
group by order_date
