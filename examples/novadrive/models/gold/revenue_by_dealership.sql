-- Revenue per dealership, with its city and state. Dealerships without sales show zero.
select
    d.dealership_id,
    d.dealership_name,
    c.city_name,
    st.state_code,
    st.state_name,
    count(s.sale_id) as sales_count,
    coalesce(sum(s.amount_paid), 0) as revenue,
    round(coalesce(avg(s.amount_paid), 0), 2) as average_ticket,
    min(s.sold_at) as first_sale_at,
    max(s.sold_at) as last_sale_at
from {{ ref('dealerships') }} d
join {{ ref('cities') }} c on c.city_id = d.city_id
join {{ ref('states') }} st on st.state_id = c.state_id
left join {{ ref('sales') }} s on s.dealership_id = d.dealership_id
group by 1, 2, 3, 4, 5
