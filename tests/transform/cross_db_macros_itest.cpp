// dbt-core's cross-database and data-type macros, built in, on a real DuckDB file: the values each
// computes (called qualified as dbt.x and unqualified), date_spine and generate_series rows,
// listagg with order and limit, a root project's duckdb__dateadd reached through dbt.dateadd, and a
// local package building a surrogate key from dbt.type_string / dbt.concat / dbt.hash, as
// dbt_utils' generate_surrogate_key does.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "duckdb_project.h"
#include "macro_cases.h"
#include "test_util.h"

namespace strata::transform {
namespace {

using testing::MacroCase;

const std::vector<MacroCase>& macro_cases() {
  static const std::vector<MacroCase> cases = testing::with_portable_macro_cases({
      // Data types, as DuckDB names the types they give.
      {"type_string", "typeof(cast('a' as {{ dbt.type_string() }}))", "VARCHAR"},
      {"type_string_text", "'{{ type_string() }}'", "TEXT"},
      {"type_timestamp", "typeof(cast('2024-01-01' as {{ type_timestamp() }}))", "TIMESTAMP"},
      {"type_float", "typeof(cast(1 as {{ dbt.type_float() }}))", "FLOAT"},
      {"type_numeric", "typeof(cast(1 as {{ type_numeric() }}))", "DECIMAL(28,6)"},
      {"type_bigint", "typeof(cast(1 as {{ dbt.type_bigint() }}))", "BIGINT"},
      {"type_int", "typeof(cast(1 as {{ type_int() }}))", "INTEGER"},
      {"type_boolean", "typeof(cast(1 as {{ dbt.type_boolean() }}))", "BOOLEAN"},
      // Casts and literals.
      {"safe_cast_bad", "coalesce(cast({{ safe_cast(\"'x'\", dbt.type_int()) }} as varchar), 'NULL')", "NULL"},
      {"safe_cast_good", "{{ dbt.safe_cast(\"'12'\", 'int') }} + 1", "13"},
      {"string_literal", "{{ dbt.string_literal('hi') }}", "hi"},
      {"escape_single_quotes", "'{{ escape_single_quotes(\"it's\") }}'", "it's"},
      // Strings.
      {"hash_int", "{{ dbt.hash('12') }} = md5('12')", "true"},
      {"split_part_negative_postgres_form", "{{ dbt._split_part_negative(\"'a--b--c'\", \"'--'\", -1) }}", "c"},
      {"equals_null", "coalesce(cast({{ equals('1', 'null') }} as varchar), 'NULL')", "NULL"},
      // Arrays.
      {"array_construct", "{{ array_construct(['1', '2']) }}", "[1, 2]"},
      {"array_construct_empty", "len({{ dbt.array_construct([]) }})", "0"},
      {"array_append", "{{ dbt.array_append(array_construct(['1', '2']), '3') }}", "[1, 2, 3]"},
      {"array_concat", "{{ array_concat(array_construct(['1']), dbt.array_construct(['2', '3'])) }}", "[1, 2, 3]"},
      // Dates.
      {"datediff_week_two", "{{ dbt.datediff(\"date '2024-01-01'\", \"date '2024-01-15'\", 'week') }}", "2"},
      {"last_day_year", "{{ last_day(\"date '2024-05-10'\", 'year') }}", "2024-12-31"},
      {"date_unqualified", "{{ date(2023, 12, 1) }} + 1", "2023-12-02"},
      {"current_timestamp", "typeof({{ current_timestamp() }})", "TIMESTAMP WITH TIME ZONE"},
      {"current_timestamp_recent", "abs(epoch({{ dbt.current_timestamp() }}) - epoch(now())) < 60", "true"},
      {"current_timestamp_backcompat", "typeof({{ current_timestamp_backcompat() }})", "TIMESTAMP"},
      {"current_timestamp_in_utc_backcompat", "typeof({{ dbt.current_timestamp_in_utc_backcompat() }})", "TIMESTAMP"},
      {"snapshot_get_time", "typeof({{ snapshot_get_time() }})", "TIMESTAMP"},
      // The postgres__ forms (a postgres target's), where DuckDB runs their SQL alike.
      {"pg_datediff_day", "{{ dbt.postgres__datediff(\"date '2024-03-01'\", \"date '2024-01-01'\", 'day') }}", "-60"},
      {"pg_datediff_month", "{{ dbt.postgres__datediff(\"date '2023-11-30'\", \"date '2024-02-01'\", 'month') }}", "3"},
      {"pg_datediff_quarter", "{{ dbt.postgres__datediff(\"date '2024-03-31'\", \"date '2024-10-01'\", 'quarter') }}",
       "3"},
      {"pg_datediff_second",
       "cast({{ dbt.postgres__datediff(\"timestamp '2024-01-01 23:59:59.9'\", \"timestamp '2024-01-02 00:00:01'\","
       " 'second') }} as int)",  // floor() gives a double
       "2"},
      {"pg_dateadd", "cast({{ dbt.postgres__dateadd('month', 2, \"date '2024-01-31'\") }} as date)", "2024-03-31"},
      {"pg_split_part_negative", "{{ dbt.postgres__split_part(\"'a,b,c'\", \"','\", -2) }}", "b"},
      {"pg_any_value", "(select {{ dbt.postgres__any_value('n') }} from (values (2), (1)) v(n))", "1"},
      {"pg_listagg_limit",
       "(select {{ dbt.postgres__listagg('s', \"'/'\", 'order by s desc', 2) }}"
       " from (values ('a'), ('c'), ('b')) v(s))",
       "c/b"},
      // Helpers and set operators.
      {"get_powers_of_two_9", "{{ get_powers_of_two(9) }}", "4"},
      {"get_powers_of_two_8", "{{ dbt.get_powers_of_two(8) }}", "3"},
      {"except", "(select count(*) from (select 1 union all select 2 {{ except() }} select 2))", "1"},
      {"intersect", "(select max(n) from (select 1 as n union all select 2 {{ dbt.intersect() }} select 2))", "2"},
      {"should_full_refresh", "{{ should_full_refresh() }}", "false"},
      {"dbt_is_incremental", "{{ dbt.is_incremental() }}", "false"},
      {"dbt_get_where_subquery", "'{{ dbt.get_where_subquery('t') }}'", "t"},
  });
  return cases;
}

std::string values_model() { return testing::macro_values_model(macro_cases()); }

constexpr const char* kProfiles =
    "lab:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
    "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 2\n";

class CrossDbMacros : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("xdb");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: xdb\nprofile: lab\nconfig-version: 2\nmodels:\n  xdb:\n    +materialized: table\n"},
        {"profiles.yml", kProfiles},
        {"models/macro_values.sql", values_model()},
        {"models/aggregates.sql",
         "with t as (select * from (values (3, 'c', false), (1, 'a', false), (2, 'b', true), (1, 'd', false))"
         " v(n, s, f))\n"
         "select\n"
         "  {{ listagg('s', \"', '\", 'order by s', 2) }} as first_two,\n"
         "  {{ dbt.listagg('s', \"'-'\", 'order by n desc, s') }} as ordered,\n"
         "  length({{ listagg('s') }}) as default_delimited_length,\n"
         "  {{ bool_or('f') }} as any_f,\n"
         "  {{ dbt.bool_or('n > 5') }} as none_big,\n"
         "  {{ any_value('n') }} in (1, 2, 3) as any_n\n"
         "from t\n"},
        {"models/day_spine.sql",
         "{{ dbt.date_spine('day', \"cast('2024-01-30' as date)\", \"cast('2024-02-02' as date)\") }}\n"},
        {"models/month_spine.sql",
         "{{ date_spine('month', \"cast('2024-01-01' as date)\", \"cast('2024-04-01' as date)\") }}\n"},
        {"models/series.sql", "{{ dbt.default__generate_series(10) }}\n"},
        {"models/duck_series.sql", "{{ generate_series(5) }}\n"},
    });
  }

  int invoke(const std::string& command, std::vector<std::string> select = {}, bool full_refresh = false) {
    InvocationOptions o = options(command);
    o.select = std::move(select);
    o.full_refresh = full_refresh;
    return invoke_with(o);
  }

  std::map<std::string, std::string> macro_values() {
    std::map<std::string, std::string> out;
    for (const auto& row : rows("select name || '|' || coalesce(value, 'NULL') from main.macro_values"))
      out[row.substr(0, row.find('|'))] = row.substr(row.find('|') + 1);
    return out;
  }
};

TEST_F(CrossDbMacros, EachMacroComputesDbtsValueOnDuckdb) {
  ASSERT_EQ(invoke("run"), 0) << output_;
  std::map<std::string, std::string> values = macro_values();
  for (const auto& c : macro_cases()) EXPECT_EQ(values[c.name], c.expected) << c.name << ": " << c.expression;
  EXPECT_EQ(rows("select first_two, ordered, default_delimited_length, any_f, none_big, any_n from main.aggregates"),
            (std::vector<std::string>{"a, b|c-b-a-d|7|true|false|true"}));
}

TEST_F(CrossDbMacros, DateSpineAndGenerateSeriesRows) {
  ASSERT_EQ(invoke("run"), 0) << output_;
  // The end date is excluded, as dbt's date_spine.
  EXPECT_EQ(rows("select cast(date_day as date) from main.day_spine order by 1"),
            (std::vector<std::string>{"2024-01-30", "2024-01-31", "2024-02-01"}));
  EXPECT_EQ(rows("select cast(date_month as date) from main.month_spine order by 1"),
            (std::vector<std::string>{"2024-01-01", "2024-02-01", "2024-03-01"}));
  EXPECT_EQ(rows("select count(*), min(generated_number)::int, max(generated_number)::int, sum(generated_number)::int "
                 "from main.series"),
            (std::vector<std::string>{"10|1|10|55"}));
  EXPECT_EQ(rows("select list(generated_number order by generated_number) from main.duck_series"),
            (std::vector<std::string>{"[1, 2, 3, 4, 5]"}));
}

TEST_F(CrossDbMacros, ShouldFullRefreshFollowsTheFlagAndTheConfig) {
  testing::write_files(project_, {{"models/refresh_config.sql",
                                   "{{ config(full_refresh=false) }}\nselect {{ should_full_refresh() }} as fr\n"},
                                  {"models/refresh_flag.sql", "select {{ should_full_refresh() }} as fr\n"}});
  ASSERT_EQ(invoke("run", {"refresh_config", "refresh_flag"}, true), 0) << output_;
  EXPECT_EQ(rows("select fr from main.refresh_flag"), (std::vector<std::string>{"true"}));
  EXPECT_EQ(rows("select fr from main.refresh_config"), (std::vector<std::string>{"false"}));
}

TEST_F(CrossDbMacros, RootDuckdbOverrideIsReachedThroughDbtNamespace) {
  // The root project's duckdb__dateadd wins over the built-in one, through dbt.dateadd and the
  // unqualified dateadd alike; dbt.default__dateadd stays reachable.
  testing::write_files(project_, {
      {"macros/dateadd.sql",
       "{% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) -%}\n"
       "date_add({{ from_date_or_timestamp }}, interval ({{ interval }} * 10) {{ datepart }})\n"
       "{%- endmacro %}\n"},
      {"models/overridden.sql",
       "select cast({{ dbt.dateadd('day', 1, \"date '2024-01-01'\") }} as date) as qualified,\n"
       "  cast({{ dateadd('day', 2, \"date '2024-01-01'\") }} as date) as unqualified,\n"
       "  '{{ dbt.default__dateadd('day', 1, 'x') }}' as default_text\n"},
  });
  ASSERT_EQ(invoke("run", {"overridden"}), 0) << output_;
  EXPECT_EQ(rows("select qualified, unqualified, default_text from main.overridden"),
            (std::vector<std::string>{"2024-01-11|2024-01-21|dateadd(day, 1, x)"}));
}

TEST_F(CrossDbMacros, PackageMacroBuildsASurrogateKeyFromDbtMacros) {
  const std::string package = dir_.path() + "/keys_src";
  testing::write_files(package, {
      {"dbt_project.yml", "name: keys\nversion: '1.0'\nconfig-version: 2\n"},
      // As dbt_utils.generate_surrogate_key: each field cast to dbt.type_string(), nulls as a
      // placeholder, joined with '-' by dbt.concat, hashed by dbt.hash.
      {"macros/surrogate_key.sql",
       "{% macro surrogate_key(field_list) -%}\n"
       "{%- set fields = [] -%}\n"
       "{%- for field in field_list -%}\n"
       "{%- do fields.append(\"coalesce(cast(\" ~ field ~ \" as \" ~ dbt.type_string() ~ \"), '_null_')\") -%}\n"
       "{%- if not loop.last %}{% do fields.append(\"'-'\") %}{% endif -%}\n"
       "{%- endfor -%}\n"
       "{{ dbt.hash(dbt.concat(fields)) }}\n"
       "{%- endmacro %}\n"},
  });
  testing::write_files(project_, {
      {"packages.yml", "packages:\n  - local: ../keys_src\n"},
      {"models/keyed.sql",
       "select {{ keys.surrogate_key(['1', \"'x'\", 'null']) }} as k, md5('1-x-_null_') as expected\n"},
  });
  ASSERT_EQ(invoke("deps"), 0) << output_;
  ASSERT_EQ(invoke("run", {"keyed"}), 0) << output_;
  EXPECT_EQ(rows("select k = expected, length(k) from main.keyed"), (std::vector<std::string>{"true|32"}));
}

}  // namespace
}  // namespace strata::transform
