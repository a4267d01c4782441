// dbt-core's date and time macros (current_timestamp, date_trunc, dateadd, datediff, last_day,
// date_spine and its helpers), written as Jinja with dbt's names, signatures and dispatch
// structure; see builtin_utils_macros.cpp for how dispatch finds them.
#include "transform/compiler_internal.h"

namespace strata::transform::detail {

const char* builtin_date_macros_source() {
  return R"JINJA(
{#- The current time. -#}
{% macro current_timestamp() -%}
{{ return(adapter.dispatch('current_timestamp', 'dbt')()) }}
{%- endmacro %}
{% macro default__current_timestamp() -%}
{{ exceptions.raise_not_implemented('current_timestamp macro not implemented for adapter ' ~ adapter.type()) }}
{%- endmacro %}
{% macro postgres__current_timestamp() -%} now() {%- endmacro %}
{% macro duckdb__current_timestamp() -%} now() {%- endmacro %}

{% macro snapshot_get_time() -%}
{{ return(adapter.dispatch('snapshot_get_time', 'dbt')()) }}
{%- endmacro %}
{% macro default__snapshot_get_time() -%} {{ current_timestamp() }} {%- endmacro %}
{% macro postgres__snapshot_get_time() -%} {{ current_timestamp() }}::timestamp without time zone {%- endmacro %}
{% macro duckdb__snapshot_get_time() -%} {{ current_timestamp() }}::timestamp {%- endmacro %}

{% macro current_timestamp_backcompat() -%}
{{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}
{%- endmacro %}
{% macro default__current_timestamp_backcompat() -%} current_timestamp::timestamp {%- endmacro %}
{% macro postgres__current_timestamp_backcompat() -%} current_timestamp::{{ type_timestamp() }} {%- endmacro %}

{% macro current_timestamp_in_utc_backcompat() -%}
{{ return(adapter.dispatch('current_timestamp_in_utc_backcompat', 'dbt')()) }}
{%- endmacro %}
{% macro default__current_timestamp_in_utc_backcompat() -%}
{{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}
{%- endmacro %}
{% macro postgres__current_timestamp_in_utc_backcompat() -%}
(current_timestamp at time zone 'utc')::{{ type_timestamp() }}
{%- endmacro %}

{#- A date literal from its parts (Python ints). -#}
{% macro date(year, month, day) %}{{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}{% endmacro %}
{% macro default__date(year, month, day) -%}
to_date('{{ modules.datetime.date(year, month, day).strftime('%Y-%m-%d') }}', 'YYYY-MM-DD')
{%- endmacro %}
{% macro duckdb__date(year, month, day) -%} make_date({{ year }}, {{ month }}, {{ day }}) {%- endmacro %}

{% macro date_trunc(datepart, date) %}{{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}{% endmacro %}
{% macro default__date_trunc(datepart, date) -%} date_trunc('{{ datepart }}', {{ date }}) {%- endmacro %}

{% macro dateadd(datepart, interval, from_date_or_timestamp) -%}
{{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro %}
{% macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
{% macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
{{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))
{%- endmacro %}
{% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) -%}
date_add({{ from_date_or_timestamp }}, interval ({{ interval }}) {{ datepart }})
{%- endmacro %}

{#- The number of `datepart` boundaries crossed from first_date to second_date (negative when
    second_date is earlier); weeks start on Sunday. -#}
{% macro datediff(first_date, second_date, datepart) -%}
{{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}
{%- endmacro %}
{% macro default__datediff(first_date, second_date, datepart) -%}
datediff({{ datepart }}, {{ first_date }}, {{ second_date }})
{%- endmacro %}
{#- Weeks (as dbt-postgres): whole weeks of `days` (`div` the integer division), plus one when the
    second date's weekday comes before the first's (minus one going backwards). -#}
{% macro _datediff_weeks(first_date, second_date, days, div) -%}
({{ days }} {{ div }} 7 + case
    when date_part('dow', ({{ first_date }})::timestamp) <= date_part('dow', ({{ second_date }})::timestamp)
    then case when {{ first_date }} <= {{ second_date }} then 0 else -1 end
    else case when {{ first_date }} <= {{ second_date }} then 1 else 0 end
  end)
{%- endmacro %}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
{%- set d = dbt.postgres__datediff -%}
{%- set a = '(' ~ first_date ~ ')' -%}
{%- set b = '(' ~ second_date ~ ')' -%}
{%- set fields = {'quarter': ['year', 4], 'month': ['year', 12], 'hour': ['day', 24], 'minute': ['hour', 60],
                  'second': ['minute', 60], 'millisecond': ['minute', 60000], 'microsecond': ['minute', 60000000]} -%}
{%- if datepart == 'year' -%}
(date_part('year', {{ b }}::date) - date_part('year', {{ a }}::date))
{%- elif datepart == 'day' -%}
({{ b }}::date - {{ a }}::date)
{%- elif datepart == 'week' -%}
{{ dbt._datediff_weeks(first_date, second_date, d(first_date, second_date, 'day'), '/') }}
{%- elif datepart in fields -%}
{%- set coarser = fields[datepart][0] -%}
{%- set factor = fields[datepart][1] -%}
{%- set to_type = '::date' if datepart in ['quarter', 'month'] else '::timestamp' -%}
{%- set part = 'floor(date_part(' if datepart in ['second', 'millisecond', 'microsecond'] else '(date_part(' -%}
({{ d(first_date, second_date, coarser) }} * {{ factor }} + {{ part }}'{{ datepart }}', {{ b }}{{ to_type }}))
  - {{ part }}'{{ datepart }}', {{ a }}{{ to_type }})))
{%- else -%}
{{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: '" ~ datepart ~ "'") }}
{%- endif -%}
{%- endmacro %}
{#- DuckDB's date_diff counts boundaries as dbt-postgres's arithmetic does, except for weeks (its
    weeks start on Monday). -#}
{% macro duckdb__datediff(first_date, second_date, datepart) -%}
{%- if datepart == 'week' -%}
{{ dbt._datediff_weeks(first_date, second_date, dbt.duckdb__datediff(first_date, second_date, 'day'), '//') }}
{%- else -%}
date_diff('{{ datepart }}', ({{ first_date }})::timestamp, ({{ second_date }})::timestamp)
{%- endif -%}
{%- endmacro %}

{#- The last day of the `datepart` period holding `date`. -#}
{% macro last_day(date, datepart) %}{{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}{% endmacro %}
{% macro default_last_day(date, datepart) -%}
cast({{ dbt.dateadd('day', '-1', dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))) }} as date)
{%- endmacro %}
{% macro default__last_day(date, datepart) -%} {{ dbt.default_last_day(date, datepart) }} {%- endmacro %}
{#- A quarter as three months (DuckDB's and PostgreSQL's intervals have no quarters). -#}
{% macro postgres__last_day(date, datepart) -%} {{ duckdb__last_day(date, datepart) }} {%- endmacro %}
{% macro duckdb__last_day(date, datepart) -%}
{%- if datepart == 'quarter' -%}
cast({{ dbt.dateadd('day', '-1', dbt.dateadd('month', '3', dbt.date_trunc(datepart, date))) }} as date)
{%- else -%}
{{ dbt.default_last_day(date, datepart) }}
{%- endif -%}
{%- endmacro %}

{#- The smallest n with 2 ** n >= upper_bound. -#}
{% macro get_powers_of_two(upper_bound) -%}
{{ return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) }}
{%- endmacro %}
{% macro default__get_powers_of_two(upper_bound) -%}
{%- if upper_bound <= 0 -%}{{ exceptions.raise_compiler_error("upper bound must be positive") }}{%- endif -%}
{%- for n in range(1, 100) -%}
{%- if upper_bound <= 2 ** n -%}{{ return(n) }}{%- endif -%}
{%- endfor -%}
{%- endmacro %}

{#- A query of one column, generated_number, holding 1 .. upper_bound. -#}
{% macro generate_series(upper_bound) -%}
{{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}
{%- endmacro %}
{% macro default__generate_series(upper_bound) -%}
{%- set n = dbt.get_powers_of_two(upper_bound) -%}
with p as (select 0 as generated_number union all select 1),
unioned as (
  select
  {%- for i in range(n) %} p{{ i }}.generated_number * power(2, {{ i }}){{ ' +' if not loop.last }}{% endfor %} + 1
  as generated_number
  from
  {%- for i in range(n) %} p as p{{ i }}{{ ' cross join' if not loop.last }}{% endfor %}
)
select * from unioned where generated_number <= {{ upper_bound }} order by generated_number
{%- endmacro %}
{% macro duckdb__generate_series(upper_bound) -%}
select generate_series as generated_number from generate_series(1, {{ upper_bound }})
{%- endmacro %}

{#- datediff(start_date, end_date, datepart) run on the warehouse; 1 when not executing. -#}
{% macro get_intervals_between(start_date, end_date, datepart) -%}
{{ return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) }}
{%- endmacro %}
{% macro default__get_intervals_between(start_date, end_date, datepart) -%}
{%- call statement('get_intervals_between', fetch_result=True) -%}
select {{ dbt.datediff(start_date, end_date, datepart) }}
{%- endcall -%}
{%- set result = load_result('get_intervals_between') -%}
{%- if result and result['data'] -%}{{ return(result['data'][0][0]) }}{%- else -%}{{ return(1) }}{%- endif -%}
{%- endmacro %}

{#- One row per `datepart` from start_date (included) to end_date (excluded), in column
    date_<datepart>. -#}
{% macro date_spine(datepart, start_date, end_date) -%}
{{ return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) }}
{%- endmacro %}
{% macro default__date_spine(datepart, start_date, end_date) -%}
with rawdata as (
  {{ dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) }}
),
all_periods as (
  select ({{ dbt.dateadd(datepart, 'row_number() over (order by generated_number) - 1', start_date) }})
    as date_{{ datepart }}
  from rawdata
),
filtered as (
  select * from all_periods where date_{{ datepart }} <= {{ end_date }}
)
select * from filtered
{%- endmacro %}
)JINJA";
}

}  // namespace strata::transform::detail
