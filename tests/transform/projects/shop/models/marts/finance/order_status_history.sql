{{
  config(
    materialized='incremental',
    unique_key=['order_id', 'status'],
    incremental_strategy='merge',
    on_schema_change='append_new_columns'
  )
}}
select
    order_id,
    status,
    changed_at
from {{ source('bronze', 'order_events') }}
{% if is_incremental() %}
where changed_at > (select max(changed_at) from {{ this }})
{% endif %}
