-- Salespeople and the dealership each one works at.
with latest as (
    {{ latest_per_key(source('bronze', 'vendedores'), 'id_vendedores') }}
)

select
    cast(id_vendedores as integer) as salesperson_id,
    {{ proper_case('nome') }} as salesperson_name,
    cast(id_concessionarias as integer) as dealership_id,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from latest
