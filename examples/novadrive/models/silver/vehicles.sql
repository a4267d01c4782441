-- The vehicle catalogue: English vehicle types, list prices parsed from the ERP's text.
with latest as (
    {{ latest_per_key(source('bronze', 'veiculos'), 'id_veiculos') }}
)

select
    cast(id_veiculos as integer) as vehicle_id,
    {{ proper_case('nome') }} as vehicle_name,
    case {{ text_lower(without_accents('trim(tipo)')) }}
        when 'suv' then 'suv'
        when 'seda' then 'sedan'
        when 'sedan' then 'sedan'
        when 'hatch' then 'hatchback'
        when 'picape' then 'pickup'
        when 'eletrico' then 'electric'
        else {{ text_lower('trim(tipo)') }}
    end as vehicle_type,
    {{ parse_brl('valor') }} as list_price,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at
from latest
