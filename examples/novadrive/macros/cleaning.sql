{#- Text cleaning shared by the silver models (DuckDB SQL). -#}

{#- Trims, collapses runs of whitespace to one space, and turns '' into NULL. -#}
{% macro clean_text(column) -%}
  nullif(trim(regexp_replace({{ column }}, '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Proper case for Brazilian names: "  SÃO PAULO " → "São Paulo", "jaboatão DOS guararapes" →
    "Jaboatão dos Guararapes", "ji-paraná" → "Ji-Paraná" (the particles da, de, do, das, dos, e stay lower case). -#}
{% macro proper_case(column) -%}
  array_to_string(
    list_transform(
      string_split(lower({{ clean_text(column) }}), ' '),
      w -> CASE WHEN w IN ('da', 'de', 'do', 'das', 'dos', 'e') THEN w
                ELSE array_to_string(list_transform(string_split(w, '-'), x -> upper(x[1]) || x[2:]), '-') END),
    ' ')
{%- endmacro %}

{#- A price stored as text: "71990.00", " 71990.00 ", "R$ 71.990,00" or "71.990,00" → DECIMAL(12,2);
    anything else → NULL (caught by the not_null test on the column). -#}
{% macro parse_brl(column) -%}
  try_cast(
    CASE WHEN {{ column }} LIKE '%,%'
         THEN replace(replace(trim(replace({{ column }}, 'R$', '')), '.', ''), ',', '.')
         ELSE trim({{ column }}) END
    AS DECIMAL(12, 2))
{%- endmacro %}

{#- Keeps the newest version of each key (bronze is already deduplicated; this guards silver). -#}
{% macro latest_per_key(key) -%}
  qualify row_number() over (partition by {{ key }} order by data_atualizacao desc nulls last, _strata_extracted_at desc) = 1
{%- endmacro %}
