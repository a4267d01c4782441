-- Each salesperson's sales and revenue, ranked within their dealership.
with per_person as (
    select
        p.salesperson_id,
        p.salesperson_name,
        p.dealership_id,
        count(s.sale_id) as sales_count,
        coalesce(sum(s.amount_paid), 0) as revenue,
        round(coalesce(avg(s.amount_paid), 0), 2) as average_ticket,
        max(s.sold_at) as last_sale_at
    from {{ ref('salespeople') }} p
    left join {{ ref('sales') }} s on s.salesperson_id = p.salesperson_id
    group by 1, 2, 3
)
select
    per_person.*,
    d.dealership_name,
    rank() over (partition by per_person.dealership_id order by per_person.revenue desc) as rank_in_dealership
from per_person
join {{ ref('dealerships') }} d on d.dealership_id = per_person.dealership_id
