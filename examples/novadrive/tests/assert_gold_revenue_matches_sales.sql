-- Every sale is counted once in revenue_by_dealership: its total equals silver's (no rows fail).
select g.revenue_total, s.sales_total
from (select coalesce(sum(revenue), 0) as revenue_total from {{ ref('revenue_by_dealership') }}) g
cross join (select coalesce(sum(amount_paid), 0) as sales_total from {{ ref('sales') }}) s
where g.revenue_total <> s.sales_total
