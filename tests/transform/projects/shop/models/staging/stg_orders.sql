{{ config(alias='stg_orders_v') }}
select
    id as order_id,
    customer_id,
    cast(order_date as date) as order_date,
    status,
    coalesce(is_gift, false) as is_gift
from {{ ref('raw_orders') }}
