-- Sales, incremental: each run merges the bronze rows loaded since the last run (by sale_id).
{{ config(materialized='incremental', unique_key='sale_id', incremental_strategy='delete+insert') }}

with loaded as (
    select * from {{ source('bronze', 'vendas') }}
    {% if is_incremental() %}
    where _strata_extracted_at > (select max(extracted_at) from {{ this }})
       or (select max(extracted_at) from {{ this }}) is null
    {% endif %}
),

latest as (
    {{ latest_per_key('loaded', 'id_vendas') }}
)

select
    cast(id_vendas as bigint) as sale_id,
    cast(id_veiculos as integer) as vehicle_id,
    cast(id_concessionarias as integer) as dealership_id,
    cast(id_vendedores as integer) as salesperson_id,
    cast(id_clientes as integer) as customer_id,
    cast(valor_pago as decimal(12, 2)) as amount_paid,
    data_venda as sold_at,
    cast(data_venda as date) as sale_date,
    data_inclusao as created_at,
    coalesce(data_atualizacao, data_inclusao) as updated_at,
    _strata_extracted_at as extracted_at
from latest
