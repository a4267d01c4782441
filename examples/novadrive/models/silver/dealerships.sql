-- Dealerships and the city each one is in.
select
    cast(id_concessionarias as integer) as dealership_id,
    {{ proper_case('concessionaria') }} as dealership_name,
    cast(id_cidades as integer) as city_id,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from {{ source('bronze', 'concessionarias') }}
{{ latest_per_key('id_concessionarias') }}
