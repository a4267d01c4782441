// The static scan behind manifest.json's depends_on.macros: which names Jinja code calls, and how
// they resolve to the project's and its packages' macros.
#include <gtest/gtest.h>

#include "transform/macro_deps.h"

namespace strata::transform {
namespace {

std::vector<std::string> names(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& c : jinja_calls(text)) out.push_back((c.dispatched ? "dispatch:" : "") + c.name +
                                                         (c.dispatch_package.empty() ? "" : "@" + c.dispatch_package));
  return out;
}

TEST(JinjaCalls, FindsCallsInExpressionsAndStatementsOnly) {
  EXPECT_EQ(names("select cents(1) from t -- {{ cents('x') }} {% set y = dbt_utils.star(from=ref('a')) %}"),
            (std::vector<std::string>{"cents", "dbt_utils.star", "ref"}));
  // Comments, strings and the macro's own header are no calls; repeats count once.
  EXPECT_EQ(names("{# hidden(1) #}{{ shown('not_a_call(') }}{{ shown(2) }}"), std::vector<std::string>{"shown"});
  EXPECT_EQ(names("{% macro outer(a) %}{{ inner(a) }}{% endmacro %}"), std::vector<std::string>{"inner"});
  EXPECT_EQ(names("{{ x.y.z(1) }}{{ adapter.get_relation(this) }}"),
            (std::vector<std::string>{"x.y.z", "adapter.get_relation"}));
}

TEST(JinjaCalls, AdapterDispatchNamesTheMacroItDispatches) {
  EXPECT_EQ(names("{{ return(adapter.dispatch('proper_case', 'novadrive')(s)) }}"),
            (std::vector<std::string>{"return", "dispatch:proper_case@novadrive"}));
  EXPECT_EQ(names("{{ adapter.dispatch(\"lpad\")(s) }}"), std::vector<std::string>{"dispatch:lpad"});
}

MacroDef macro(const std::string& package, const std::string& name, const std::string& sql) {
  MacroDef m;
  m.package_name = package;
  m.name = name;
  m.unique_id = "macro." + package + "." + name;
  m.macro_sql = sql;
  return m;
}

TEST(LinkMacroDependencies, ResolvesAsDbtDoesAndFollowsDispatch) {
  ParsedProject p;
  p.project.name = "shop";
  p.macros = {macro("shop", "money", "{% macro money(c) %}{{ adapter.dispatch('money')(c) }}{% endmacro %}"),
              macro("shop", "duckdb__money", "{% macro duckdb__money(c) %}{{ c }}::decimal{% endmacro %}"),
              macro("shop", "default__money", "{% macro default__money(c) %}{{ c }}{% endmacro %}"),
              macro("utils", "money", "{% macro money(c) %}{{ c }}{% endmacro %}"),
              macro("utils", "star", "{% macro star() %}*{% endmacro %}")};
  Node n;
  n.package_name = "shop";
  n.raw_code = "select {{ money('x') }}, {{ utils.money('y') }}, {{ star() }}, {{ unknown() }} from t";
  p.nodes.push_back(n);
  link_macro_dependencies(p);
  EXPECT_EQ(p.nodes[0].depends_on_macros,
            (std::vector<std::string>{"macro.shop.money", "macro.utils.money", "macro.utils.star"}));
  EXPECT_EQ(p.macros[0].depends_on_macros,
            (std::vector<std::string>{"macro.shop.duckdb__money", "macro.shop.default__money"}));
  EXPECT_TRUE(p.macros[1].depends_on_macros.empty());
}

}  // namespace
}  // namespace strata::transform
