-- Dealerships and the city each one is in.
with latest as (
    {{ latest_per_key(source('bronze', 'concessionarias'), 'id_concessionarias') }}
)

select
    cast(id_concessionarias as integer) as dealership_id,
    {{ proper_case('concessionaria') }} as dealership_name,
    cast(id_cidades as integer) as city_id,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from latest
