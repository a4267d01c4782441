-- Every sale is counted once in gold: revenue by dealership and monthly sales by state add up to
-- the same total (no rows fail). Both are gold models, so the test runs after the gold group's
-- models and never ties the silver group to gold.
select d.revenue_total, m.revenue_total as monthly_total
from (select coalesce(sum(revenue), 0) as revenue_total from {{ ref('revenue_by_dealership') }}) d
cross join (select coalesce(sum(revenue), 0) as revenue_total from {{ ref('monthly_sales_by_state') }}) m
where d.revenue_total <> m.revenue_total
