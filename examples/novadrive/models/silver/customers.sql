-- Customers: clean names, the current address, the home dealership.
with latest as (
    {{ latest_per_key(source('bronze', 'clientes'), 'id_clientes') }}
)

select
    cast(id_clientes as integer) as customer_id,
    {{ proper_case('cliente') }} as customer_name,
    {{ clean_text('endereco') }} as address,
    cast(id_concessionarias as integer) as home_dealership_id,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from latest
