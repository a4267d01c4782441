// The idioms widely used packages (dbt-utils and its kin) build on, in a package of our own on a
// real DuckDB file: a ref() that passes a _is_relation-style check (a mapping whose
// get('metadata').type ends in "Relation"), an ephemeral ref seen as a CTE, api.Relation and
// api.Column, columns with dbt's Column methods, a dispatched generic test setting its fail_calc
// with config(), should_store_failures() and load_relation(), agate MappedSequence methods,
// `compile --inline` with a connection and its `model`, and run-operation of a package's macro.
#include <gtest/gtest.h>

#include "duckdb_project.h"
#include "test_util.h"

namespace strata::transform {
namespace {

class PackageIdioms : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("root");
    testing::write_files(dir_.path() + "/kit", {
        {"dbt_project.yml", "name: kit\nversion: '1.0'\nconfig-version: 2\n"},
        {"macros/relations.sql",
         "{% macro is_relation(obj) %}{{ return(obj is mapping and "
         "obj.get('metadata', {}).get('type', '').endswith('Relation')) }}{% endmacro %}\n"
         "{% macro describe_columns(rel) %}"
         "{%- for c in adapter.get_columns_in_relation(rel) -%}"
         "{{ c.quoted }}:{{ c.is_string() }}:{{ c.is_numeric() }}:{{ c.is_float() }}:{{ c.is_integer() }}:"
         "{{ c.numeric_precision }}:{{ c.numeric_scale }}:{{ c.string_size() if c.is_string() else '-' }};"
         "{%- endfor -%}{% endmacro %}\n"
         "{% macro say(message) %}{% do log('kit says ' ~ message, info=true) %}{% endmacro %}\n"},
        {"macros/same_rows.sql",
         "{% test same_rows(model, compare_model) %}"
         "{{ return(adapter.dispatch('test_same_rows', 'kit')(model, compare_model)) }}{% endtest %}\n"
         "{% macro default__test_same_rows(model, compare_model) %}\n"
         "{{ config(fail_calc = 'sum(coalesce(diff_count, 0))') }}\n"
         "{%- if not execute -%}{{ return('') }}{% endif %}\n"
         "select abs((select count(*) from {{ model }}) - (select count(*) from {{ compare_model }})) as diff_count\n"
         "{% endmacro %}\n"},
    });
    testing::write_files(project_, {
        {"dbt_project.yml", "name: root\nprofile: lab\nconfig-version: 2\n"},
        {"profiles.yml", "lab:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                         "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 1\n"},
        {"packages.yml", "packages:\n  - local: ../kit\n"},
        {"models/items.sql", "select 1 as id, 'a'::varchar(20) as label, 2.50::decimal(10,2) as price, 1.5::double as w"},
        {"models/items_copy.sql", "select * from {{ ref('items') }}"},
        {"models/eph.sql", "{{ config(materialized='ephemeral') }} select 1 as x"},
        {"models/schema.yml",
         "version: 2\nmodels:\n  - name: items\n    tests:\n      - kit.same_rows:\n"
         "          compare_model: ref('items_copy')\n"},
    });
    ASSERT_EQ(invoke_with(options("deps")), 0) << output_;
  }

  // `compile --inline sql`: its output.
  std::string compile_inline(const std::string& sql) {
    InvocationOptions o = options("compile");
    o.inline_sql = sql;
    EXPECT_EQ(invoke_with(o), 0) << output_;
    return output_;
  }
};

TEST_F(PackageIdioms, RelationsColumnsAndApiAreWhatPackagesCheckFor) {
  ASSERT_EQ(invoke_with(options("run")), 0) << output_;
  const std::string out = compile_inline(
      "{{ kit.is_relation(ref('items')) }}|{{ kit.is_relation('items') }}|{{ ref('eph').is_cte }}|"
      "{{ ref('items').is_cte }}|{{ ref('eph') }}|{{ api.Relation.add_ephemeral_prefix('eph') }}|"
      "{{ api.Relation.create(schema='s', identifier='t', type='view').is_view }}|"
      "{{ api.Relation.create(database='wh', schema='s', identifier='t') }}|"
      "{{ api.Column.create('n', 'STRING').is_string() }}|{{ execute }}|{{ model.name }}|"
      "{{ kit.describe_columns(ref('items')) }}");
  EXPECT_NE(out.find("True|False|True|False|__dbt__cte__eph|__dbt__cte__eph|True|\"wh\".\"s\".\"t\"|True|True|"
                     "inline_query|"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"id\":False:False:False:True:None:None:-;"), std::string::npos) << out;
  EXPECT_NE(out.find("\"label\":True:False:False:False:None:None:256;"), std::string::npos) << out;
  EXPECT_NE(out.find("\"price\":False:True:False:False:10:2:-;"), std::string::npos) << out;
  EXPECT_NE(out.find("\"w\":False:False:True:False:None:None:-;"), std::string::npos) << out;
}

TEST_F(PackageIdioms, ATestMacrosConfigAndBuiltinHelpersApply) {
  ASSERT_EQ(invoke_with(options("build")), 0) << output_;  // same_rows passes: sum(diff_count) is 0
  const Json manifest = artifact("manifest.json");
  std::string fail_calc;
  for (const auto& [id, node] : manifest["nodes"].items())
    if (id.rfind("test.root.kit_same_rows", 0) == 0) fail_calc = node["config"]["fail_calc"].get<std::string>();
  EXPECT_EQ(fail_calc, "sum(coalesce(diff_count, 0))");
  const std::string out = compile_inline(
      "{{ should_store_failures() }}|{{ load_relation(ref('items')) is not none }}|"
      "{{ load_relation(api.Relation.create(schema='main', identifier='nope')) is none }}|"
      "{% set t = run_query('select 1 as a, 2 as b') %}{% for k, c in t.columns.items() %}{{ k }}{% endfor %}|"
      "{{ t.columns.values() | length }}|{{ t.columns.get('b')[0] }}|{{ t.columns.get('z', 'none') }}|"
      "{{ t.rows[0].get('a') }}");
  EXPECT_NE(out.find("False|True|True|ab|2|2|none|1"), std::string::npos) << out;
}

TEST_F(PackageIdioms, RunOperationCallsAPackagesMacro) {
  InvocationOptions o = options("run-operation");
  o.operation = "kit.say";
  o.operation_args = "{message: hello}";
  EXPECT_EQ(invoke_with(o), 0) << output_;
  o.operation = "say";  // unqualified: found in the installed packages, as dbt's
  EXPECT_EQ(invoke_with(o), 0) << output_;
  o.operation = "kit.nothing";
  EXPECT_EQ(invoke_with(o), 2) << output_;
  EXPECT_NE(output_.find("no macro named 'kit.nothing'"), std::string::npos) << output_;
}

}  // namespace
}  // namespace strata::transform
