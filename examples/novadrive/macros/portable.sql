{#- The few SQL functions that differ between the warehouses NovaDrive builds on, each an
    adapter.dispatch macro as in dbt: a duckdb__ or postgres__ variant where the SQL differs, and a
    default__ in standard SQL otherwise. The models call only these, so the same project builds on
    DuckDB (target dev) and PostgreSQL (target pg) with the same results. -#}

{#- Lower and upper case over all of Unicode ("SÃO" → "são"), whatever the warehouse's locale.
    dbt-duckdb inherits postgres__ macros, so DuckDB names its (default) variant. -#}
{% macro text_lower(expr) -%}
  {{ return(adapter.dispatch('text_lower', 'novadrive')(expr)) }}
{%- endmacro %}

{% macro default__text_lower(expr) -%}
  lower({{ expr }})
{%- endmacro %}

{% macro duckdb__text_lower(expr) -%}
  {{ return(default__text_lower(expr)) }}
{%- endmacro %}

{#- PostgreSQL maps only ASCII letters in a database whose LC_CTYPE is C: ask ICU's root locale
    (PostgreSQL built --with-icu, as Debian's, the official images' and the clouds' are), and give the
    result the column's default collation back. -#}
{% macro postgres__text_lower(expr) -%}
  (lower(({{ expr }}) collate "und-x-icu") collate "default")
{%- endmacro %}

{% macro text_upper(expr) -%}
  {{ return(adapter.dispatch('text_upper', 'novadrive')(expr)) }}
{%- endmacro %}

{% macro default__text_upper(expr) -%}
  upper({{ expr }})
{%- endmacro %}

{% macro duckdb__text_upper(expr) -%}
  {{ return(default__text_upper(expr)) }}
{%- endmacro %}

{% macro postgres__text_upper(expr) -%}
  (upper(({{ expr }}) collate "und-x-icu") collate "default")
{%- endmacro %}

{#- The text without its accents and other combining marks: "Elétrico" → "Eletrico". -#}
{% macro without_accents(expr) -%}
  {{ return(adapter.dispatch('without_accents', 'novadrive')(expr)) }}
{%- endmacro %}

{% macro duckdb__without_accents(expr) -%}
  strip_accents({{ expr }})
{%- endmacro %}

{#- Decomposed (NFD), each accent is a combining mark of its own, which the pattern removes. -#}
{% macro postgres__without_accents(expr) -%}
  regexp_replace(normalize({{ expr }}, NFD), '[\u0300-\u036f]', '', 'g')
{%- endmacro %}

{#- A date or timestamp's calendar month as text: "2024-03". -#}
{% macro year_month(expr) -%}
  {{ return(adapter.dispatch('year_month', 'novadrive')(expr)) }}
{%- endmacro %}

{% macro duckdb__year_month(expr) -%}
  strftime({{ expr }}, '%Y-%m')
{%- endmacro %}

{% macro default__year_month(expr) -%}
  to_char({{ expr }}, 'YYYY-MM')
{%- endmacro %}

{#- A query of the newest row of each `key` in `relation` (the latest data_atualizacao, then the
    latest extraction): every column of the relation, and in default__ a row number as well. Bronze
    is already deduplicated; this guards silver. Meant for a CTE that the model selects columns from. -#}
{% macro latest_per_key(relation, key) -%}
  {{ return(adapter.dispatch('latest_per_key', 'novadrive')(relation, key)) }}
{%- endmacro %}

{% macro newest_first() -%}
  data_atualizacao desc nulls last, _strata_extracted_at desc
{%- endmacro %}

{% macro duckdb__latest_per_key(relation, key) -%}
  select * from {{ relation }}
  qualify row_number() over (partition by {{ key }} order by {{ newest_first() }}) = 1
{%- endmacro %}

{% macro default__latest_per_key(relation, key) -%}
  select * from (
      select candidate.*, row_number() over (partition by {{ key }} order by {{ newest_first() }}) as _newest_rank
      from {{ relation }} as candidate
  ) as ranked
  where _newest_rank = 1
{%- endmacro %}
