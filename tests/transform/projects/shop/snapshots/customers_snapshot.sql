{% snapshot customers_snapshot %}
{{
  config(
    unique_key='customer_id',
    strategy='timestamp',
    updated_at='updated_at',
    invalidate_hard_deletes=True
  )
}}
select * from {{ source('bronze', 'customer_updates') }}
{% endsnapshot %}
