-- The run's data interval reaches models as dbt vars.
select id, customer_id, amount,
       '{{ var("data_interval_start") }}' as interval_start,
       '{{ var("ds") }}' as ds
from {{ source('bronze', 'orders') }}
