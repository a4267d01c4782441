-- Brazil's states: clean names and two-letter codes.
select
    cast(id_estados as integer) as state_id,
    {{ proper_case('estado') }} as state_name,
    upper(trim(sigla)) as state_code,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from {{ source('bronze', 'estados') }}
{{ latest_per_key('id_estados') }}
