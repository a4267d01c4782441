{{ config(materialized='incremental', unique_key='order_id', tags=['finance', 'daily']) }}

with orders as (
    select * from {{ ref('stg_orders') }}
), payments as (
    select * from {{ ref('stg_payments') }}
), customers as (
    select * from {{ ref('stg_customers') }}
), items as (
    select * from {{ ref('stg_order_items') }}
), products as (
    select * from {{ ref('stg_products') }}
)
select
{%- for col in columns %}
    {{ col.name }} as {{ col.alias | default(col.name) }}{% if not loop.last %},{% endif %}
{%- endfor %}
from orders
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
