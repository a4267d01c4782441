{#- Text cleaning shared by the silver models. The SQL that differs between DuckDB and PostgreSQL
    is dispatched (adapter.dispatch, as in dbt); see also portable.sql. -#}

{#- Trims, collapses runs of whitespace to one space, and turns '' into NULL. -#}
{% macro clean_text(column) -%}
  nullif(trim(regexp_replace({{ column }}, '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Proper case for Brazilian names: "  SÃO PAULO " → "São Paulo", "jaboatão DOS guararapes" →
    "Jaboatão dos Guararapes", "ji-paraná" → "Ji-Paraná" (the particles da, de, do, das, dos, e stay lower case). -#}
{% macro proper_case(column) -%}
  {{ return(adapter.dispatch('proper_case', 'novadrive')(column)) }}
{%- endmacro %}

{#- The words that stay lower case inside a name, as a SQL list. -#}
{% macro name_particles() -%}
  ('da', 'de', 'do', 'das', 'dos', 'e')
{%- endmacro %}

{#- The cleaned, lower-cased words of `column`, split at single spaces. -#}
{% macro lower_words(column) -%}
  {{ text_lower(clean_text(column)) }}
{%- endmacro %}

{% macro duckdb__proper_case(column) -%}
  array_to_string(
    list_transform(
      string_split({{ lower_words(column) }}, ' '),
      w -> CASE WHEN w IN {{ name_particles() }} THEN w
                ELSE array_to_string(list_transform(string_split(w, '-'), x -> upper(x[1]) || x[2:]), '-') END),
    ' ')
{%- endmacro %}

{#- The same with arrays: the words and their hyphenated parts in order (WITH ORDINALITY). -#}
{% macro postgres__proper_case(column) -%}
  (select string_agg(
              CASE WHEN w IN {{ name_particles() }} THEN w
                   ELSE (select string_agg({{ text_upper('left(x, 1)') }} || substr(x, 2), '-' order by j)
                         from unnest(string_to_array(w, '-')) with ordinality as parts(x, j)) END,
              ' ' order by i)
   from unnest(string_to_array({{ lower_words(column) }}, ' ')) with ordinality as words(w, i))
{%- endmacro %}

{#- A price stored as text: "71990.00", " 71990.00 ", "R$ 71.990,00" or "71.990,00" → DECIMAL(12,2);
    anything else → NULL (caught by the not_null test on the column). -#}
{% macro parse_brl(column) -%}
  {{ return(adapter.dispatch('parse_brl', 'novadrive')(column)) }}
{%- endmacro %}

{#- The price in the form a cast reads: Brazilian separators swapped, "R$" and spaces gone. -#}
{% macro brl_as_decimal_text(column) -%}
  CASE WHEN {{ column }} LIKE '%,%'
       THEN replace(replace(trim(replace({{ column }}, 'R$', '')), '.', ''), ',', '.')
       ELSE trim({{ column }}) END
{%- endmacro %}

{% macro duckdb__parse_brl(column) -%}
  try_cast({{ brl_as_decimal_text(column) }} AS DECIMAL(12, 2))
{%- endmacro %}

{#- PostgreSQL has no try_cast: cast only text that is a number of at most 10 integer digits. -#}
{% macro postgres__parse_brl(column) -%}
  CASE WHEN ({{ brl_as_decimal_text(column) }}) ~ '^[+-]?([0-9]{1,10}(\.[0-9]*)?|\.[0-9]+)$'
       THEN cast({{ brl_as_decimal_text(column) }} AS DECIMAL(12, 2)) END
{%- endmacro %}
