-- No sale is dated before the business existed (novadrive_first_sale_date) or in the future.
select sale_id, sold_at
from {{ ref('sales') }}
where sold_at < cast('{{ var("novadrive_first_sale_date") }}' as timestamp)
   or sold_at > now() + interval '1 day'
