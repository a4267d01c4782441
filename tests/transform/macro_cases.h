#pragma once
// Cases of the cross-database macro tests: a Jinja expression and the text its value casts to,
// turned into one model of (name, value) rows that a test compares with the expectations.

#include <string>
#include <vector>

namespace strata::transform::testing {

// One value a macro computes: the model selects `expression` (Jinja) cast to text as `name`.
struct MacroCase {
  std::string name, expression, expected;
};

// Cases whose SQL and value are the same on every warehouse (DuckDB and PostgreSQL).
inline const std::vector<MacroCase>& portable_macro_cases() {
  static const std::vector<MacroCase> cases = {
      {"cast", "{{ dbt.cast(\"'7'\", type_int()) }} + 1", "8"},
      {"cast_bool_to_text", "{{ cast_bool_to_text('1 = 1') }}", "true"},
      {"concat", "{{ dbt.concat([\"'a'\", \"'b'\", \"'c'\"]) }}", "abc"},
      {"hash", "{{ hash(\"'abc'\") }}", "900150983cd24fb0d6963f7d28e17f72"},
      {"length", "{{ length(\"'hello'\") }}", "5"},
      {"position", "{{ dbt.position(\"'l'\", \"'hello'\") }}", "3"},
      {"replace", "{{ replace(\"'hello'\", \"'l'\", \"'L'\") }}", "heLLo"},
      {"right", "{{ dbt.right(\"'hello'\", 3) }}", "llo"},
      {"split_part_2", "{{ split_part(\"'a,b,c'\", \"','\", 2) }}", "b"},
      {"split_part_last", "{{ dbt.split_part(\"'a,b,c'\", \"','\", -1) }}", "c"},
      {"split_part_first_from_end", "{{ split_part(\"'a,b,c'\", \"','\", -3) }}", "a"},
      {"split_part_beyond", "'[' || {{ split_part(\"'a,b,c'\", \"','\", 5) }} || ']'", "[]"},
      {"split_part_long_delimiter", "{{ split_part(\"'a--b--c'\", \"'--'\", -2) }}", "b"},
      {"equals", "{{ dbt.equals('1', '1') }}", "true"},
      {"dateadd_day", "cast({{ dateadd('day', 1, \"date '2024-01-31'\") }} as date)", "2024-02-01"},
      {"dateadd_month", "cast({{ dbt.dateadd('month', 1, \"date '2024-01-31'\") }} as date)", "2024-02-29"},
      {"dateadd_negative_hour", "{{ dateadd('hour', -2, \"timestamp '2024-01-01 01:00:00'\") }}",
       "2023-12-31 23:00:00"},
      {"datediff_day", "{{ datediff(\"date '2024-01-01'\", \"date '2024-03-01'\", 'day') }}", "60"},
      {"datediff_day_backwards", "{{ dbt.datediff(\"'2024-03-01'\", \"'2024-01-01'\", 'day') }}", "-60"},
      {"datediff_month_boundary", "{{ datediff(\"date '2024-01-31'\", \"date '2024-02-01'\", 'month') }}", "1"},
      {"datediff_year_boundary", "{{ dbt.datediff(\"date '2023-12-31'\", \"date '2024-01-01'\", 'year') }}", "1"},
      {"datediff_quarter", "{{ datediff(\"date '2024-03-31'\", \"date '2024-10-01'\", 'quarter') }}", "3"},
      {"datediff_hour",
       "{{ datediff(\"timestamp '2024-01-01 10:59:00'\", \"timestamp '2024-01-01 11:01:00'\", 'hour') }}", "1"},
      {"datediff_week_sat_to_sun", "{{ datediff(\"date '2024-01-06'\", \"date '2024-01-07'\", 'week') }}", "1"},
      {"datediff_week_sun_to_sat", "{{ datediff(\"date '2024-01-07'\", \"date '2024-01-13'\", 'week') }}", "0"},
      {"date_trunc", "cast({{ date_trunc('month', \"date '2024-02-15'\") }} as date)", "2024-02-01"},
      {"last_day_month", "{{ last_day(\"date '2024-02-10'\", 'month') }}", "2024-02-29"},
      {"last_day_quarter", "{{ dbt.last_day(\"date '2024-05-10'\", 'quarter') }}", "2024-06-30"},
      {"date", "{{ dbt.date(2024, 2, 29) }}", "2024-02-29"},
  };
  return cases;
}

// A warehouse's own cases followed by the portable ones.
inline std::vector<MacroCase> with_portable_macro_cases(std::vector<MacroCase> own) {
  own.insert(own.end(), portable_macro_cases().begin(), portable_macro_cases().end());
  return own;
}

// A model of (name, value) rows, one per case, each value cast to varchar.
inline std::string macro_values_model(const std::vector<MacroCase>& cases) {
  std::string sql;
  for (const auto& c : cases)
    sql += std::string(sql.empty() ? "" : "union all\n") + "select '" + c.name + "' as name, cast((" + c.expression +
           ") as varchar) as value\n";
  return sql;
}

}  // namespace strata::transform::testing
