select id as order_id, customer_id, cast(amount as decimal(12, 2)) as amount, cast(ordered_at as date) as ordered_on
from {{ source('bronze', 'orders') }}
where amount is not null
