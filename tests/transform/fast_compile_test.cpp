// The Jinja-free compile path must produce exactly what the Jinja engine renders: every node of a
// project with many template shapes is compiled both ways and compared.
#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "test_util.h"
#include "transform/compiler.h"
#include "transform/compiler_internal.h"
#include "transform/relations.h"

namespace strata::transform {
namespace {

using testing::load_graph;
using testing::write_files;

TEST(PlainTemplate, SplitsTextAndCallsWithWhitespaceControl) {
  auto parts = detail::plain_template("select *\nfrom {{ ref('a') }} x  {{- ref('pkg', 'b') -}}\n  join\n");
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].text, "select *\nfrom ");
  EXPECT_EQ((*parts)[0].call.ref.name, "a");
  EXPECT_EQ((*parts)[1].text, " x");
  EXPECT_EQ((*parts)[1].call.ref.package, "pkg");
  EXPECT_EQ((*parts)[2].text, "join");  // strip after, and the trailing newline dropped
}

TEST(PlainTemplate, RefusesWhatNeedsJinja) {
  EXPECT_FALSE(detail::plain_template("{% if x %}a{% endif %}").has_value());
  EXPECT_FALSE(detail::plain_template("select {{ var('x') }}").has_value());
  EXPECT_FALSE(detail::plain_template("select 1\r\n").has_value());
  EXPECT_FALSE(detail::plain_template("select {{ ref(name) }}").has_value());
  EXPECT_FALSE(detail::plain_template("select {{ ref('a', v=2) }}").has_value());
  EXPECT_TRUE(detail::plain_template("{{ config(materialized='table', tags=['a']) }}select 1 {# note #}").has_value());
}

class FastCompile : public ::testing::Test {
 protected:
  void SetUp() override {
    write_files(dir_.path(), {
        {"dbt_project.yml", "name: fc\nprofile: fc\nconfig-version: 2\nmodels:\n  fc:\n    +materialized: view\n"},
        {"models/sources.yml", "version: 2\nsources:\n  - name: raw\n    schema: bronze\n    tables:\n"
                               "      - name: orders\n        columns:\n          - name: id\n"
                               "            tests: [unique]\n"},
        {"models/a.sql", "{{ config(materialized='table') }}\nselect id, status from {{ source('raw', 'orders') }}\n"},
        {"models/b.sql", "select *\nfrom {{ ref('a') }} as a   {{- ref('eph') -}}   \n\n"},
        {"models/eph.sql", "{{ config(materialized='ephemeral') }}\nselect 1 as id {# a comment #}\n"},
        {"models/c.sql", "with x as (select * from {{ ref('eph') }})\nselect * from x join {{ ref('b') }} using (id)"},
        {"models/d.sql", "{% set n = 2 %}select {{ n }} as id, '{{ \"}}\" }}' as t from {{ ref('a') }}\n"},
        {"models/e.sql", "select id from {{ ref('c') }}\r\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests:\n"
         "          - unique\n          - not_null:\n              config: {where: \"id > 0\"}\n"
         "          - relationships:\n              to: source('raw', 'orders')\n              field: id\n"
         "      - name: status\n        tests:\n"
         "          - accepted_values:\n              values: ['placed', \"o'clock\", 'done']\n"
         "          - accepted_values:\n              values: [1, 2, 3]\n              quote: false\n"
         "  - name: b\n    columns:\n      - name: id\n        tests:\n"
         "          - relationships:\n              to: ref('a')\n              field: id\n"
         "          - unique\n"},
    });
  }

  std::vector<std::string> compile_all(bool fast) {
    auto g = load_graph(dir_.path());
    EXPECT_TRUE(g.ok()) << g.error().to_string();
    if (!g.ok()) return {};
    graph_ = std::make_unique<Graph>(std::move(*g));
    TargetInfo target;
    target.database = "fc";
    CompilerOptions options;
    options.target = target;
    options.env = map_env({});
    auto compiler = Compiler::create(*graph_, options);
    EXPECT_TRUE(compiler.ok());
    (*compiler)->set_fast_paths(fast);
    EXPECT_TRUE((*compiler)->parse_render(*graph_).ok());
    EXPECT_TRUE(resolve_relations(*graph_, target, sql::duckdb_dialect(), (*compiler)->name_macro()).ok());
    std::vector<std::string> out;
    RenderOptions ro;
    ro.execute = false;
    for (size_t i = 0; i < graph_->size(); ++i) {
      if (graph_->node(i).resource_type == ResourceType::kSource) continue;
      auto sql = (*compiler)->compile(i, ro);
      EXPECT_TRUE(sql.ok()) << graph_->node(i).unique_id << ": " << sql.error().to_string();
      out.push_back(graph_->node(i).unique_id + "\n" + (sql.ok() ? *sql : std::string("<error>")));
    }
    return out;
  }

  strata::testing::TempDir dir_;
  std::unique_ptr<Graph> graph_;
};

TEST_F(FastCompile, SameSqlAsTheJinjaEngineForEveryNode) {
  auto jinja = compile_all(false);
  auto fast = compile_all(true);
  ASSERT_EQ(jinja.size(), fast.size());
  ASSERT_GE(jinja.size(), 13u);
  for (size_t k = 0; k < jinja.size(); ++k) EXPECT_EQ(fast[k], jinja[k]);
  // The ephemeral model is inlined as a CTE in b, after whitespace control joined the text.
  bool saw_b = false;
  for (const auto& sql : fast)
    if (sql.rfind("model.fc.b\n", 0) == 0) {
      saw_b = true;
      EXPECT_NE(sql.find("with __dbt__cte__eph as ("), std::string::npos) << sql;
      EXPECT_NE(sql.find("\"fc\".\"main\".\"a\" as a__dbt__cte__eph"), std::string::npos) << sql;
    }
  EXPECT_TRUE(saw_b);
}

}  // namespace
}  // namespace strata::transform
