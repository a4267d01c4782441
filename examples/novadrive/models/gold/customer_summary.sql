-- One row per customer: purchases, total spent, first and last purchase, home dealership.
select
    cu.customer_id,
    cu.customer_name,
    cu.address,
    cu.home_dealership_id,
    d.dealership_name as home_dealership_name,
    count(s.sale_id) as purchases,
    coalesce(sum(s.amount_paid), 0) as total_spent,
    min(s.sold_at) as first_purchase_at,
    max(s.sold_at) as last_purchase_at
from {{ ref('customers') }} cu
join {{ ref('dealerships') }} d on d.dealership_id = cu.home_dealership_id
left join {{ ref('sales') }} s on s.customer_id = cu.customer_id
group by 1, 2, 3, 4, 5
