select id, name, country from {{ source('bronze', 'customers') }}
