-- Cities, with trimmed and properly cased names.
with latest as (
    {{ latest_per_key(source('bronze', 'cidades'), 'id_cidades') }}
)

select
    cast(id_cidades as integer) as city_id,
    {{ proper_case('cidade') }} as city_name,
    cast(id_estados as integer) as state_id,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from latest
