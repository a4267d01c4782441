-- The vehicle catalogue: English vehicle types, list prices parsed from the ERP's text.
select
    cast(id_veiculos as integer) as vehicle_id,
    {{ proper_case('nome') }} as vehicle_name,
    case lower(strip_accents(trim(tipo)))
        when 'suv' then 'suv'
        when 'seda' then 'sedan'
        when 'sedan' then 'sedan'
        when 'hatch' then 'hatchback'
        when 'picape' then 'pickup'
        when 'eletrico' then 'electric'
        else lower(trim(tipo))
    end as vehicle_type,
    {{ parse_brl('valor') }} as list_price,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from {{ source('bronze', 'veiculos') }}
{{ latest_per_key('id_veiculos') }}
