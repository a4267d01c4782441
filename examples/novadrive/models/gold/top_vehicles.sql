-- Vehicles by units sold, with revenue and the average discount off the current list price.
select
    v.vehicle_id,
    v.vehicle_name,
    v.vehicle_type,
    v.list_price,
    count(s.sale_id) as units_sold,
    coalesce(sum(s.amount_paid), 0) as revenue,
    round(coalesce(avg(1 - s.amount_paid / nullif(v.list_price, 0)) * 100, 0), 2) as average_discount_pct,
    rank() over (order by count(s.sale_id) desc, coalesce(sum(s.amount_paid), 0) desc) as sales_rank
from {{ ref('vehicles') }} v
left join {{ ref('sales') }} s on s.vehicle_id = v.vehicle_id
group by 1, 2, 3, 4
