-- Sales and revenue per calendar month and state (the state of the selling dealership).
select
    {{ year_month('s.sold_at') }} || '-' || st.state_code as month_state_key,
    cast(date_trunc('month', s.sold_at) as date) as sales_month,
    st.state_code,
    st.state_name,
    count(*) as sales_count,
    sum(s.amount_paid) as revenue
from {{ ref('sales') }} s
join {{ ref('dealerships') }} d on d.dealership_id = s.dealership_id
join {{ ref('cities') }} c on c.city_id = d.city_id
join {{ ref('states') }} st on st.state_id = c.state_id
group by 1, 2, 3, 4
