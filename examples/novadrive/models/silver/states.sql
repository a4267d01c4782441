-- Brazil's states: clean names and two-letter codes.
with latest as (
    {{ latest_per_key(source('bronze', 'estados'), 'id_estados') }}
)

select
    cast(id_estados as integer) as state_id,
    {{ proper_case('estado') }} as state_name,
    upper(trim(sigla)) as state_code,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from latest
