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

// A model of (name, value) rows, one per case, each value cast to varchar.
inline std::string macro_values_model(const std::vector<MacroCase>& cases) {
  std::string sql;
  for (const auto& c : cases)
    sql += std::string(sql.empty() ? "" : "union all\n") + "select '" + c.name + "' as name, cast((" + c.expression +
           ") as varchar) as value\n";
  return sql;
}

}  // namespace strata::transform::testing
