// dbt-core's cross-database ("utils") and data-type macros, written as Jinja with dbt's names,
// signatures and dispatch structure: each `x(...)` calls adapter.dispatch('x', 'dbt'), which finds
// a project's `duckdb__x` / `default__x` first, then these (duckdb__, postgres__ — which DuckDB
// inherits, as dbt-duckdb does — then default__). Date macros: builtin_date_macros.cpp.
#include "transform/compiler_internal.h"

namespace strata::transform::detail {

const char* builtin_utils_macros_source() {
  return R"JINJA(
{#- Data types: the names dbt's base Column.translate_type gives. -#}
{% macro type_string() %}{{ return(adapter.dispatch('type_string', 'dbt')()) }}{% endmacro %}
{% macro default__type_string() %}{{ return('TEXT') }}{% endmacro %}
{% macro type_timestamp() %}{{ return(adapter.dispatch('type_timestamp', 'dbt')()) }}{% endmacro %}
{% macro default__type_timestamp() %}{{ return('TIMESTAMP') }}{% endmacro %}
{% macro type_float() %}{{ return(adapter.dispatch('type_float', 'dbt')()) }}{% endmacro %}
{% macro default__type_float() %}{{ return('FLOAT') }}{% endmacro %}
{% macro type_numeric() %}{{ return(adapter.dispatch('type_numeric', 'dbt')()) }}{% endmacro %}
{% macro default__type_numeric() %}{{ return('numeric(28,6)') }}{% endmacro %}
{% macro type_bigint() %}{{ return(adapter.dispatch('type_bigint', 'dbt')()) }}{% endmacro %}
{% macro default__type_bigint() %}{{ return('bigint') }}{% endmacro %}
{% macro type_int() %}{{ return(adapter.dispatch('type_int', 'dbt')()) }}{% endmacro %}
{% macro default__type_int() %}{{ return('INT') }}{% endmacro %}
{% macro type_boolean() %}{{ return(adapter.dispatch('type_boolean', 'dbt')()) }}{% endmacro %}
{% macro default__type_boolean() %}{{ return('BOOLEAN') }}{% endmacro %}

{#- Aggregates and arrays. -#}
{% macro any_value(expression) %}{{ return(adapter.dispatch('any_value', 'dbt')(expression)) }}{% endmacro %}
{% macro default__any_value(expression) -%} any_value({{ expression }}) {%- endmacro %}
{% macro postgres__any_value(expression) -%} min({{ expression }}) {%- endmacro %}
{% macro duckdb__any_value(expression) -%} arbitrary({{ expression }}) {%- endmacro %}

{% macro bool_or(expression) %}{{ return(adapter.dispatch('bool_or', 'dbt')(expression)) }}{% endmacro %}
{% macro default__bool_or(expression) -%} bool_or({{ expression }}) {%- endmacro %}

{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
{{ return(adapter.dispatch('listagg', 'dbt')(measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro %}
{#- Snowflake's form: listagg(...) within group (order by ...). -#}
{% macro default__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- if limit_num -%}
array_to_string(array_slice(array_agg({{ measure }})
  {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}, 0, {{ limit_num }}), {{ delimiter_text }})
{%- else -%}
listagg({{ measure }}, {{ delimiter_text }})
  {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endif -%}
{%- endmacro %}
{% macro postgres__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- if limit_num -%}
array_to_string((array_agg({{ measure }}{% if order_by_clause %} {{ order_by_clause }}{% endif %}))[1:{{ limit_num }}],
  {{ delimiter_text }})
{%- else -%}
string_agg({{ measure }}, {{ delimiter_text }}{% if order_by_clause %} {{ order_by_clause }}{% endif %})
{%- endif -%}
{%- endmacro %}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- if limit_num -%}
list_aggr((array_agg({{ measure }}{% if order_by_clause %} {{ order_by_clause }}{% endif %}))[1:{{ limit_num }}],
  'string_agg', {{ delimiter_text }})
{%- else -%}
{{ dbt.postgres__listagg(measure, delimiter_text, order_by_clause, limit_num) }}
{%- endif -%}
{%- endmacro %}

{% macro array_construct(inputs=[], data_type=none) -%}
{{ return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type if data_type else dbt.type_int())) }}
{%- endmacro %}
{% macro default__array_construct(inputs, data_type) -%}
{%- if inputs | length > 0 -%} array[ {{ inputs | join(' , ') }} ]
{%- else -%} array[]::{{ data_type }}[] {%- endif -%}
{%- endmacro %}
{% macro postgres__array_construct(inputs, data_type) -%}
array[ {{ inputs | join(' , ') }} ]::{{ data_type }}[]
{%- endmacro %}

{% macro array_append(array, new_element) -%}
{{ return(adapter.dispatch('array_append', 'dbt')(array, new_element)) }}
{%- endmacro %}
{% macro default__array_append(array, new_element) -%} array_append({{ array }}, {{ new_element }}) {%- endmacro %}

{% macro array_concat(array_1, array_2) -%}
{{ return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) }}
{%- endmacro %}
{% macro default__array_concat(array_1, array_2) -%} array_cat({{ array_1 }}, {{ array_2 }}) {%- endmacro %}

{#- Casts and literals. -#}
{% macro cast(field, type) %}{{ return(adapter.dispatch('cast', 'dbt')(field, type)) }}{% endmacro %}
{% macro default__cast(field, type) -%} cast({{ field }} as {{ type }}) {%- endmacro %}

{#- Most databases have no safe cast: dbt's default is a plain cast. -#}
{% macro safe_cast(field, type) %}{{ return(adapter.dispatch('safe_cast', 'dbt')(field, type)) }}{% endmacro %}
{% macro default__safe_cast(field, type) -%} {{ dbt.default__cast(field, type) }} {%- endmacro %}
{% macro duckdb__safe_cast(field, type) -%} try_cast({{ field }} as {{ type }}) {%- endmacro %}

{% macro cast_bool_to_text(field) %}{{ return(adapter.dispatch('cast_bool_to_text', 'dbt')(field)) }}{% endmacro %}
{% macro default__cast_bool_to_text(field) -%} {{ dbt.default__cast(field, dbt.type_string()) }} {%- endmacro %}

{% macro string_literal(value) %}{{ return(adapter.dispatch('string_literal', 'dbt')(value)) }}{% endmacro %}
{% macro default__string_literal(value) -%} '{{ value }}' {%- endmacro %}

{% macro escape_single_quotes(expression) -%}
{{ return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) }}
{%- endmacro %}
{% macro default__escape_single_quotes(expression) -%} {{ expression | replace("'", "''") }} {%- endmacro %}

{#- Strings. -#}
{% macro concat(fields) %}{{ return(adapter.dispatch('concat', 'dbt')(fields)) }}{% endmacro %}
{% macro default__concat(fields) -%} {{ fields | join(' || ') }} {%- endmacro %}

{% macro hash(field) %}{{ return(adapter.dispatch('hash', 'dbt')(field)) }}{% endmacro %}
{% macro default__hash(field) -%} md5({{ dbt.default__cast(field, dbt.type_string()) }}) {%- endmacro %}

{% macro length(expression) %}{{ return(adapter.dispatch('length', 'dbt')(expression)) }}{% endmacro %}
{% macro default__length(expression) -%} length({{ expression }}) {%- endmacro %}

{% macro position(substring_text, string_text) -%}
{{ return(adapter.dispatch('position', 'dbt')(substring_text, string_text)) }}
{%- endmacro %}
{% macro default__position(substring_text, string_text) -%}
position({{ substring_text }} in {{ string_text }})
{%- endmacro %}

{% macro replace(field, old_chars, new_chars) -%}
{{ return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) }}
{%- endmacro %}
{% macro default__replace(field, old_chars, new_chars) -%}
replace({{ field }}, {{ old_chars }}, {{ new_chars }})
{%- endmacro %}

{% macro right(string_text, length_expression) -%}
{{ return(adapter.dispatch('right', 'dbt')(string_text, length_expression)) }}
{%- endmacro %}
{% macro default__right(string_text, length_expression) -%}
right({{ string_text }}, {{ length_expression }})
{%- endmacro %}

{#- Part `part_number` (1-based; negative counts from the end) of the text split on the delimiter;
    '' when there is no such part. -#}
{% macro split_part(string_text, delimiter_text, part_number) -%}
{{ return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) }}
{%- endmacro %}
{% macro default__split_part(string_text, delimiter_text, part_number) -%}
split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro %}
{#- A negative part as a positive one: the number of parts (delimiters + 1) + 1 + part_number. -#}
{% macro _split_part_negative(string_text, delimiter_text, part_number) -%}
split_part({{ string_text }}, {{ delimiter_text }},
  cast((length({{ string_text }}) - length(replace({{ string_text }}, {{ delimiter_text }}, '')))
       / length({{ delimiter_text }}) as integer) + 2 + ({{ part_number }}))
{%- endmacro %}
{% macro postgres__split_part(string_text, delimiter_text, part_number) -%}
{%- if part_number >= 0 -%} {{ dbt.default__split_part(string_text, delimiter_text, part_number) }}
{%- else -%} {{ dbt._split_part_negative(string_text, delimiter_text, part_number) }} {%- endif -%}
{%- endmacro %}
{#- DuckDB's list index counts from the end when negative. -#}
{% macro duckdb__split_part(string_text, delimiter_text, part_number) -%}
coalesce(string_split({{ string_text }}, {{ delimiter_text }})[{{ part_number }}], '')
{%- endmacro %}

{#- `expr1 = expr2`, as dbt's default (its truthy-nulls behaviour flag off). -#}
{% macro equals(expr1, expr2) %}{{ return(adapter.dispatch('equals', 'dbt')(expr1, expr2)) }}{% endmacro %}
{% macro default__equals(expr1, expr2) -%} ({{ expr1 }} = {{ expr2 }}) {%- endmacro %}

{#- Set operators. -#}
{% macro except() %}{{ return(adapter.dispatch('except', 'dbt')()) }}{% endmacro %}
{% macro default__except() %}except{% endmacro %}
{% macro intersect() %}{{ return(adapter.dispatch('intersect', 'dbt')()) }}{% endmacro %}
{% macro default__intersect() %}intersect{% endmacro %}

{#- The test's store_failures config, else the --store-failures flag. -#}
{% macro should_store_failures() -%}
{%- set config_store_failures = config.get('store_failures') -%}
{%- if config_store_failures is none -%}{%- set config_store_failures = flags.STORE_FAILURES -%}{%- endif -%}
{{ return(config_store_failures) }}
{%- endmacro %}

{#- The relation as the warehouse has it now (none when it does not exist). -#}
{% macro load_cached_relation(relation) -%}
{{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
{%- endmacro %}
{% macro load_relation(relation) -%} {{ return(load_cached_relation(relation)) }} {%- endmacro %}

{#- The model's full_refresh config, else the --full-refresh flag. -#}
{% macro should_full_refresh() -%}
{%- set config_full_refresh = config.get('full_refresh') -%}
{%- if config_full_refresh is none -%}{%- set config_full_refresh = flags.FULL_REFRESH -%}{%- endif -%}
{{ return(config_full_refresh) }}
{%- endmacro %}
)JINJA";
}

}  // namespace strata::transform::detail
