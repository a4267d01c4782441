-- Cities, with trimmed and properly cased names.
select
    cast(id_cidades as integer) as city_id,
    {{ proper_case('cidade') }} as city_name,
    cast(id_estados as integer) as state_id,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from {{ source('bronze', 'cidades') }}
{{ latest_per_key('id_cidades') }}
