// dbt features on a real DuckDB file, one small project: incremental merge / delete+insert /
// on_schema_change, seeds with and without --full-refresh, a check-strategy snapshot,
// store_failures, --fail-fast, source freshness, docs generate, modules/graph/doc()/dispatch,
// agate tables from run_query, hooks and on-run-end's context, run-operation, ls --output json.
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "common/time.h"
#include "support/temp_dir.h"
#include "duckdb_project.h"
#include "test_util.h"
#include "transform/invocation.h"
#include "warehouse/warehouse.h"

namespace strata::transform {
namespace {

namespace fs = std::filesystem;

class LabProject : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("lab");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: lab\nprofile: lab\nconfig-version: 2\nmodels:\n  lab:\n    +materialized: table\n"},
        {"profiles.yml", "lab:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                         "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 2\n"},
        {"seeds/people.csv", "id,name\n1,Ada\n2,Alan\n"},
        {"models/sources.yml",
         "version: 2\nsources:\n  - name: bronze\n    schema: bronze\n    tables:\n      - name: events\n"
         "        loaded_at_field: ts\n        freshness:\n          warn_after: {count: 1, period: hour}\n"
         "          error_after: {count: 2, period: day}\n"},
        {"models/inc_merge.sql",
         "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}\n"
         "select id, k2, val from {{ source('bronze', 'events') }}\n"
         "{% if is_incremental() %}where ts > (select max(ts) from {{ source('bronze', 'events') }}) - interval 1 hour"
         "{% endif %}\n"},
        {"models/inc_di.sql",
         "{{ config(materialized='incremental', unique_key=['id', 'k2'], incremental_strategy='delete+insert') }}\n"
         "select id, k2, val from {{ source('bronze', 'events') }}\n"},
        {"models/inc_fail.sql",
         "{{ config(materialized='incremental', on_schema_change='fail') }}\n"
         "select id{% if var('extra', false) %}, 1 as extra{% endif %} from {{ source('bronze', 'events') }}\n"},
        {"models/inc_sync.sql",
         "{{ config(materialized='incremental', on_schema_change='sync_all_columns') }}\n"
         "select id, {% if var('extra', false) %}2 as extra{% else %}val{% endif %} from {{ source('bronze', 'events') }}"
         "\n"},
        {"models/context.sql",
         "{{ config(persist_docs={'relation': true}) }}\n"
         "select '{{ modules.datetime.date(2024, 1, 31).strftime('%Y/%m/%d') }}' as d,\n"
         "  '{{ modules.re.sub('[0-9]+', 'N', 'a1b22') }}' as r,\n"
         "  {{ graph.nodes | length }} as n_nodes,\n"
         "  {{ greet() }} as greeting,\n"
         "  '{{ 'yes' if modules.re.match('inc_', 'inc_merge') else 'no' }}' as matched,\n"
         "  '{{ run_started_at.strftime('%Y') | length }}' as year_len,\n"
         "  '{{ dbt_version }}' as dbt_version\n"},
        {"models/docs.md", "{% docs context_doc %}Context values, rendered.{% enddocs %}\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n  - name: context\n    description: \"{{ doc('context_doc') }}\"\n"
         "  - name: inc_merge\n    columns:\n      - name: val\n        tests:\n"
         "          - not_null:\n              config: {store_failures: true, severity: warn}\n"},
        {"macros/greet.sql",
         "{% macro greet() %}{{ adapter.dispatch('greet')() }}{% endmacro %}\n"
         "{% macro postgres__greet() %}'postgres'{% endmacro %}\n"
         "{% macro default__greet() %}'default'{% endmacro %}\n"},
        {"snapshots/check_snap.sql",
         "{% snapshot check_snap %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='check',"
         " check_cols=['val']) }}\nselect id, val, k2 from {{ source('bronze', 'events') }}\n{% endsnapshot %}\n"},
    });
    exec("create schema bronze; create table bronze.events (id integer, k2 integer, val varchar, ts timestamp);"
         "insert into bronze.events values (1, 1, 'a', " + ago(3) + "), (2, 1, 'b', " + ago(3) + "), (3, 1, null, " +
         ago(3) + ")");
  }

  // A UTC timestamp literal `hours` before now (freshness compares in UTC, whatever the local zone).
  static std::string ago(int hours) {
    std::string iso = format_iso8601(now_micros() - static_cast<int64_t>(hours) * 3600 * 1000000);
    return "cast('" + iso.substr(0, 10) + " " + iso.substr(11, 8) + "' as timestamp)";
  }

  int invoke(const std::string& command, std::vector<std::string> select = {}, bool full_refresh = false,
             const std::string& vars = "", bool fail_fast = false, int threads = 2) {
    InvocationOptions o = options(command);
    o.select = std::move(select);
    o.full_refresh = full_refresh;
    o.vars = vars;
    o.fail_fast = fail_fast;
    o.threads = threads;
    return invoke_with(o);
  }
};

TEST_F(LabProject, IncrementalStrategiesAndSchemaChanges) {
  ASSERT_EQ(invoke("run", {"inc_merge", "inc_di", "inc_fail", "inc_sync"}), 0) << output_;
  exec("update bronze.events set val = 'a2', ts = " + ago(0) + " where id = 1;"
       "insert into bronze.events values (4, 1, 'd', " + ago(0) + "), (2, 2, 'b2', " + ago(0) + ")");
  ASSERT_EQ(invoke("run", {"inc_merge", "inc_di"}), 0) << output_;
  // merge: id 1 updated in place, id 2's newest row wins, 4 added; no duplicates of a key.
  EXPECT_EQ(rows("select id, val from main.inc_merge order by id"),
            (std::vector<std::string>{"1|a2", "2|b2", "3|NULL", "4|d"}));
  // delete+insert on (id, k2): every changed key pair replaced.
  EXPECT_EQ(rows("select id, k2, val from main.inc_di order by id, k2"),
            (std::vector<std::string>{"1|1|a2", "2|1|b", "2|2|b2", "3|1|NULL", "4|1|d"}));
  // on_schema_change: fail → the node errors with a hint; sync_all_columns → columns follow the model.
  EXPECT_EQ(invoke("run", {"inc_fail"}, false, "{extra: true}"), 1) << output_;
  EXPECT_NE(output_.find("out of sync"), std::string::npos) << output_;
  EXPECT_EQ(invoke("run", {"inc_sync"}, false, "{extra: true}"), 0) << output_;
  EXPECT_EQ(rows("select column_name from information_schema.columns where table_name = 'inc_sync' order by 1"),
            (std::vector<std::string>{"extra", "id"}));
  // --full-refresh rebuilds from scratch.
  EXPECT_EQ(invoke("run", {"inc_fail"}, true, "{extra: true}"), 0) << output_;
  EXPECT_EQ(rows("select count(*), min(extra) from main.inc_fail"), (std::vector<std::string>{"5|1"}));
}

TEST_F(LabProject, MergeLeavesExcludedColumnsOfMatchedRows) {
  testing::write_files(project_, {{"models/inc_excl.sql",
                                   "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge',"
                                   " merge_exclude_columns=['first_val']) }}\n"
                                   "select id, val, val as first_val from {{ source('bronze', 'events') }}\n"}});
  ASSERT_EQ(invoke("run", {"inc_excl"}), 0) << output_;
  exec("update bronze.events set val = 'z' where id = 1; insert into bronze.events values (5, 1, 'e', now())");
  ASSERT_EQ(invoke("run", {"inc_excl"}), 0) << output_;
  EXPECT_EQ(rows("select id, val, first_val from main.inc_excl where id in (1, 5) order by id"),
            (std::vector<std::string>{"1|z|a", "5|e|e"}));
}

TEST_F(LabProject, AMaterializationErrorPointsAtThePropertyFileThatSetIt) {
  testing::write_files(project_, {{"models/typo.sql", "select 1 as id\n"},
                                  {"models/typo.yml", "version: 2\nmodels:\n  - name: typo\n    config:\n"
                                                      "      materialized: tabel\n"}});
  EXPECT_EQ(invoke("run", {"typo"}), 1) << output_;
  EXPECT_NE(output_.find("models/typo.yml:5:21: error: unknown materialization 'tabel'"), std::string::npos)
      << output_;
}

// Configs that only a parse-time render finds (Jinja the static scan cannot read, a generic test
// macro's own config()) decide tags, meta and enabled, as in dbt.
TEST_F(LabProject, ConfigsFoundByAParseTimeRenderSetTagsMetaAndEnabled) {
  testing::write_files(
      project_,
      {{"models/rendered_tag.sql", "{% set n = 1 %}{{ config(tags=['t' ~ n], meta={'owner': 'ann'}) }}\nselect 1 as id\n"},
       {"models/rendered_off.sql",
        "{% if var('rendered_on', false) %}{{ config(enabled=true) }}{% else %}{{ config(enabled=false) }}{% endif %}\n"
        "select 1 as id\n"},
       {"macros/config_tests.sql",
        "{% test tagged_null(model, column_name) %}{{ config(tags=['quality']) }}\n"
        "select * from {{ model }} where {{ column_name }} is null{% endtest %}\n"
        "{% test off_null(model, column_name) %}{{ config(enabled=false) }}\n"
        "select * from {{ model }} where {{ column_name }} is null{% endtest %}\n"},
       {"models/rendered.yml",
        "version: 2\nmodels:\n  - name: rendered_tag\n    columns:\n      - name: id\n"
        "        data_tests: [tagged_null, off_null, not_null]\n"
        "  - name: rendered_off\n    columns:\n      - name: id\n        data_tests: [not_null]\n"}});
  ASSERT_EQ(invoke("ls", {"tag:t1"}), 0) << output_;  // the model, and its tests (eager indirect selection)
  EXPECT_EQ(output_, "lab.rendered_tag\nlab.not_null_rendered_tag_id\nlab.tagged_null_rendered_tag_id\n");
  ASSERT_EQ(invoke("ls", {"tag:quality"}), 0) << output_;
  EXPECT_EQ(output_, "lab.tagged_null_rendered_tag_id\n");
  ASSERT_EQ(invoke("ls", {"rendered_tag rendered_off"}), 0) << output_;
  EXPECT_EQ(output_.find("off_null"), std::string::npos) << output_;     // the test macro disables it
  EXPECT_EQ(output_.find("rendered_off"), std::string::npos) << output_;  // and its tests with it
  EXPECT_NE(output_.find("lab.not_null_rendered_tag_id"), std::string::npos) << output_;
  ASSERT_EQ(invoke("ls", {"rendered_off"}, false, "{rendered_on: true}"), 0) << output_;
  EXPECT_EQ(output_, "lab.rendered_off\nlab.not_null_rendered_off_id\n");
  ASSERT_EQ(invoke("parse"), 0) << output_;
  EXPECT_EQ(artifact("manifest.json")["nodes"]["model.lab.rendered_tag"]["meta"]["owner"], "ann");

  // Two versions of a model, each enabled by a condition: one at a time, else a duplicate.
  testing::write_files(project_, {{"models/v1/twin.sql", "{{ config(enabled=var('v', 1) == 1) }}\nselect 1 as v\n"},
                                  {"models/v2/twin.sql", "{{ config(enabled=var('v', 1) == 2) }}\nselect 2 as v\n"}});
  InvocationOptions paths = options("ls");
  paths.select = {"twin"};
  paths.output = "path";
  ASSERT_EQ(invoke_with(paths), 0) << output_;
  EXPECT_EQ(output_, "models/v1/twin.sql\n");
  paths.vars = "{v: 2}";
  ASSERT_EQ(invoke_with(paths), 0) << output_;
  EXPECT_EQ(output_, "models/v2/twin.sql\n");
  testing::write_files(project_, {{"models/v2/twin.sql", "{{ config(enabled=var('v', 1) > 0) }}\nselect 2 as v\n"}});
  EXPECT_EQ(invoke("ls"), 2);
  EXPECT_NE(output_.find("two resources share the unique id model.lab.twin"), std::string::npos) << output_;
  std::filesystem::remove_all(project_ + "/models/v2");

  // A config() call in a branch not taken sets nothing; a node the render disables is not linked
  // (its ref to a missing model is no error), and a test that refs it is dropped, as in dbt.
  testing::write_files(
      project_,
      {{"models/branch_not_taken.sql",
        "{% if target.name == 'nope' %}{{ config(enabled=false, materialized='view') }}{% endif %}\nselect 1 as id\n"},
       {"models/off_with_missing_ref.sql",
        "{% set off = true %}{{ config(enabled=not off) }}\nselect * from {{ ref('no_such_model') }}\n"},
       {"models/checks_off.yml",
        "version: 2\nmodels:\n  - name: branch_not_taken\n"
        "    config: {materialized: \"{{ 'view' if target.name != 'nope' else 'table' }}\"}\n"
        "    columns:\n      - name: id\n        data_tests:\n"
        "          - relationships: {to: ref('rendered_off'), field: id}\n"},
       {"models/one_hook.sql",
        "{% if target.name == 'nope' %}{{ config(post_hook=\"select 'nope'\") }}"
        "{% else %}{{ config(post_hook=\"select 'taken'\") }}{% endif %}\nselect 1 as id\n"}});
  InvocationOptions listing = options("ls");
  listing.select = {"branch_not_taken off_with_missing_ref one_hook"};
  listing.output = "json";
  listing.output_keys = {"name", "config"};
  auto warnings = std::make_shared<std::string>();
  listing.logger.add_sink([warnings](LogLevel, std::string_view line) { *warnings += std::string(line) + "\n"; });
  ASSERT_EQ(invoke_with(listing), 0) << output_;
  EXPECT_NE(warnings->find("models/checks_off.yml"), std::string::npos) << *warnings;
  EXPECT_NE(warnings->find("is ignored: rendered_off is disabled or missing"), std::string::npos) << *warnings;
  EXPECT_NE(output_.find("\"name\":\"branch_not_taken\""), std::string::npos) << output_;
  // The property file's value, rendered, not the project's nor the Jinja text.
  EXPECT_NE(output_.find("\"materialized\":\"view\""), std::string::npos) << output_;
  EXPECT_NE(output_.find("\"post-hook\":[{\"sql\":\"select 'taken'\",\"transaction\":true,\"index\":0}]"),
            std::string::npos)
      << output_;  // the branch taken only
  EXPECT_EQ(output_.find("off_with_missing_ref"), std::string::npos) << output_;
  EXPECT_EQ(output_.find("relationships"), std::string::npos) << output_;
  std::filesystem::remove(project_ + "/models/checks_off.yml");
  std::filesystem::remove(project_ + "/models/off_with_missing_ref.sql");
  std::filesystem::remove(project_ + "/models/one_hook.sql");

  testing::write_files(project_, {{"models/reads_off.sql", "select * from {{ ref('rendered_off') }}\n"}});
  EXPECT_EQ(invoke("ls"), 2);
  EXPECT_NE(output_.find("models/reads_off.sql:1:22: error: Model 'model.lab.reads_off' (models/reads_off.sql) "
                         "depends on a node named 'rendered_off' which is disabled"),
            std::string::npos)
      << output_;
}

TEST_F(LabProject, ATestsMessageNamesTheThresholdItCrossed) {
  testing::write_files(project_, {{"models/four.sql", "select v, null::int as w from (values (1), (2), (3), (4)) t(v)\n"},
                                  {"models/four.yml",
                                   "version: 2\nmodels:\n  - name: four\n    columns:\n      - name: v\n"
                                   "        data_tests:\n"
                                   "          - accepted_values:\n              values: [0]\n"
                                   "              config: {warn_if: '>1', error_if: '>5'}\n"
                                   "      - name: w\n        data_tests:\n"
                                   "          - not_null:\n              config: {error_if: '>3'}\n"}});
  EXPECT_EQ(invoke("build", {"four"}), 1) << output_;
  std::map<std::string, std::string> messages;
  const Json results = artifact("run_results.json")["results"];
  for (const auto& r : results)
    if (r["unique_id"].get<std::string>().rfind("test.", 0) == 0)
      messages[r["status"].get<std::string>()] = r["message"].get<std::string>();
  EXPECT_EQ(messages["warn"], "Got 4 results, configured to warn if >1") << output_;
  EXPECT_EQ(messages["fail"], "Got 4 results, configured to fail if >3") << output_;
}

TEST_F(LabProject, AQuotedColumnsTestsQuoteItsName) {
  exec("create table bronze.spaced as select 1 as \"Mixed Col\" union all select null");
  testing::write_files(project_, {{"models/spaced.sql", "select 1 as \"Mixed Col\"\n"},
                                  {"models/spaced.yml",
                                   "version: 2\nmodels:\n  - name: spaced\n    columns:\n      - name: Mixed Col\n"
                                   "        quote: true\n        data_tests: [not_null, unique]\n"
                                   "sources:\n  - name: raw\n    schema: bronze\n    quoting: {column: true}\n"
                                   "    tables:\n      - name: spaced\n        columns:\n"
                                   "          - name: Mixed Col\n            data_tests: [not_null]\n"}});
  EXPECT_EQ(invoke("build", {"spaced", "source:raw"}), 1) << output_;
  std::map<std::string, std::string> status;  // by test name
  const Json results = artifact("run_results.json")["results"];
  for (const auto& r : results) {
    const std::string id = r["unique_id"].get<std::string>();
    if (id.rfind("test.lab.", 0) == 0) status[split(id, '.')[2]] = r["status"];
  }
  EXPECT_EQ(status["not_null_spaced_Mixed_Col"], "pass") << output_;
  EXPECT_EQ(status["unique_spaced_Mixed_Col"], "pass") << output_;
  EXPECT_EQ(status["source_not_null_raw_spaced_Mixed_Col"], "fail") << output_;  // the source has a NULL
}

TEST_F(LabProject, SeedsKeepTheTableUnlessFullRefresh) {
  ASSERT_EQ(invoke("seed"), 0) << output_;
  exec("comment on table main.people is 'kept'");
  testing::write_files(project_, {{"seeds/people.csv", "id,name\n1,Ada\n2,Alan\n3,Grace\n"}});
  ASSERT_EQ(invoke("seed"), 0) << output_;
  EXPECT_EQ(rows("select count(*) from main.people"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(rows("select comment from duckdb_tables() where table_name = 'people'"),
            (std::vector<std::string>{"kept"}));  // rows replaced, table kept
  testing::write_files(project_, {{"seeds/people.csv", "id,full_name\n1,Ada Lovelace\n"}});
  EXPECT_EQ(invoke("seed"), 1) << output_;
  EXPECT_NE(output_.find("--full-refresh"), std::string::npos) << output_;
  ASSERT_EQ(invoke("seed", {}, true), 0) << output_;
  EXPECT_EQ(rows("select id, full_name from main.people"), (std::vector<std::string>{"1|Ada Lovelace"}));
}

TEST_F(LabProject, CheckStrategySnapshot) {
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  exec("update bronze.events set val = 'a2' where id = 1; update bronze.events set k2 = 9 where id = 2");
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  // Only a change in a check column (val) opens a new version; k2 is not checked.
  EXPECT_EQ(rows("select id, val, dbt_valid_to is null from snapshots.check_snap order by id, dbt_valid_to nulls last"),
            (std::vector<std::string>{"1|a|false", "1|a2|true", "2|b|true", "3|NULL|true"}));
}

TEST_F(LabProject, SnapshotTakesAColumnTheSourceGained) {
  testing::write_files(project_, {{"snapshots/star_snap.sql",
                                   "{% snapshot star_snap %}\n{{ config(target_schema='snapshots', unique_key='id', "
                                   "strategy='check', check_cols=['val']) }}\nselect * from "
                                   "{{ source('bronze', 'events') }}\n{% endsnapshot %}\n"}});
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  exec("alter table bronze.events add column tier varchar; update bronze.events set tier = 'gold', val = 'a3' "
       "where id = 1");
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  EXPECT_EQ(rows("select id, val, coalesce(tier, '-') from snapshots.star_snap order by id, dbt_valid_to nulls last"),
            (std::vector<std::string>{"1|a|-", "1|a3|gold", "2|b|-", "3|NULL|-"}));
}

// unique_key may be an expression over the query's columns, as in dbt; the current versions'
// keys are computed with it over the snapshot table's own columns.
TEST_F(LabProject, SnapshotKeyedByAnExpression) {
  testing::write_files(project_, {{"snapshots/expr_snap.sql",
                                   "{% snapshot expr_snap %}\n{{ config(target_schema='snapshots', unique_key=\"id || "
                                   "'-' || lower(code)\", strategy='check', check_cols=['val'], "
                                   "hard_deletes='invalidate') }}\nselect id, upper(val) as code, val from "
                                   "{{ source('bronze', 'events') }} where val is not null\n{% endsnapshot %}\n"}});
  ASSERT_EQ(invoke("snapshot", {"expr_snap"}), 0) << output_;
  exec("update bronze.events set val = 'A' where id = 1; delete from bronze.events where id = 2");
  ASSERT_EQ(invoke("snapshot", {"expr_snap"}), 0) << output_;
  // Row 1's code is the same key lowered ('a'), so 'A' is a new version of it; row 2 left the source.
  EXPECT_EQ(rows("select id, code, val, dbt_valid_to is null from snapshots.expr_snap order by id, "
                 "dbt_valid_to nulls last"),
            (std::vector<std::string>{"1|A|a|false", "1|A|A|true", "2|B|b|false"}));
  ASSERT_EQ(invoke("snapshot", {"expr_snap"}), 0) << output_;  // nothing changed: no new version
  EXPECT_EQ(rows("select count(*) from snapshots.expr_snap"), (std::vector<std::string>{"3"}));
}

// --empty (run, build): ref() and source() read no rows, so models build with their columns and
// nothing else; a ref with its own alias stays valid SQL on DuckDB.
TEST_F(LabProject, EmptyBuildsModelsWithTheirColumnsAndNoRows) {
  testing::write_files(project_, {{"models/joined.sql",
                                   "{{ config(materialized='table') }}\nselect d.id, e.val from {{ ref('inc_di') }} as d "
                                   "join {{ source('bronze', 'events') }} e on e.id = d.id\n"}});
  InvocationOptions o = options("build");
  o.select = {"inc_di", "joined"};
  o.empty = true;
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(rows("select count(*) from main.inc_di"), (std::vector<std::string>{"0"}));
  EXPECT_EQ(rows("select count(*) from main.joined"), (std::vector<std::string>{"0"}));
  EXPECT_EQ(rows("select column_name from information_schema.columns where table_name = 'joined' order by 1"),
            (std::vector<std::string>{"id", "val"}));
  std::ifstream compiled(project_ + "/target/compiled/lab/models/joined.sql");
  const std::string text((std::istreambuf_iterator<char>(compiled)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("(select * from \"lab\".\"main\".\"inc_di\" where false limit 0) as d"), std::string::npos)
      << text;
  // Without --empty the same models read every row.
  ASSERT_EQ(invoke("build", {"inc_di", "joined"}), 0) << output_;
  EXPECT_EQ(rows("select count(*) from main.joined"), (std::vector<std::string>{"3"}));
}

// A column whose type changed is a schema change, as in dbt: sync_all_columns alters the column,
// fail fails, append_new_columns leaves the type.
TEST_F(LabProject, IncrementalColumnTypeChanges) {
  testing::write_files(project_, {{"models/inc_types.sql",
                                   "{{ config(materialized='incremental', on_schema_change=var('osc', "
                                   "'sync_all_columns')) }}\nselect id, cast(id as {{ var('t', 'integer') }}) as n "
                                   "from {{ source('bronze', 'events') }}\n"}});
  auto type_of_n = [&] {
    return rows("select data_type from information_schema.columns where table_name = 'inc_types' and "
                "column_name = 'n'");
  };
  ASSERT_EQ(invoke("run", {"inc_types"}), 0) << output_;
  EXPECT_EQ(type_of_n(), (std::vector<std::string>{"INTEGER"}));
  ASSERT_EQ(invoke("run", {"inc_types"}, false, "{t: bigint}"), 0) << output_;
  EXPECT_EQ(type_of_n(), (std::vector<std::string>{"BIGINT"}));
  EXPECT_EQ(rows("select count(*) from main.inc_types"), (std::vector<std::string>{"6"}));
  EXPECT_EQ(invoke("run", {"inc_types"}, false, "{t: varchar, osc: fail}"), 1) << output_;
  EXPECT_NE(output_.find("out of sync"), std::string::npos) << output_;
  ASSERT_EQ(invoke("run", {"inc_types"}, false, "{t: smallint, osc: append_new_columns}"), 0) << output_;
  EXPECT_EQ(type_of_n(), (std::vector<std::string>{"BIGINT"}));
  EXPECT_EQ(rows("select count(*) from main.inc_types"), (std::vector<std::string>{"9"}));
}

TEST_F(LabProject, StoreFailuresContextModulesDocsAndDispatch) {
  ASSERT_EQ(invoke("build", {"inc_merge", "context"}), 0) << output_;
  EXPECT_NE(output_.find("WARN=1"), std::string::npos) << output_;
  EXPECT_EQ(rows("select count(*) from main_dbt_test__audit.not_null_inc_merge_val"), (std::vector<std::string>{"1"}));
  auto results = artifact("run_results.json");
  bool saw_test = false;
  for (const auto& r : results["results"])
    if (r["unique_id"].get<std::string>().rfind("test.", 0) == 0) {
      saw_test = true;
      EXPECT_EQ(r["status"], "warn");
      EXPECT_EQ(r["failures"], 1);
    }
  EXPECT_TRUE(saw_test);
  // graph.nodes: 5 models, the seed, the snapshot and the test (sources are in graph.sources).
  // dbt-duckdb's plugin has no parent adapter: dispatch tries duckdb__greet, then default__greet.
  EXPECT_EQ(rows("select d, r, n_nodes, greeting, matched, year_len, dbt_version from main.context"),
            (std::vector<std::string>{"2024/01/31|aNbN|8|default|yes|4|1.9.0"}));
  EXPECT_EQ(artifact("manifest.json")["metadata"]["dbt_version"], "1.9.0");
  auto manifest = artifact("manifest.json");
  EXPECT_EQ(manifest["nodes"]["model.lab.context"]["description"], "Context values, rendered.");
}

TEST_F(LabProject, StoreFailuresAndWarnErrorFlags) {
  testing::write_files(project_, {{"models/more.yml",
                                   "version: 2\nmodels:\n  - name: inc_di\n    columns:\n      - name: id\n"
                                   "        tests: [unique]\n"}});
  ASSERT_EQ(invoke("run", {"inc_merge", "inc_di"}), 0) << output_;
  InvocationOptions o = options("test");
  o.store_failures = true;
  ASSERT_EQ(invoke_with(o), 0) << output_;  // the not_null test warns: exit 0
  EXPECT_EQ(rows("select count(*) from main_dbt_test__audit.unique_inc_di_id"), (std::vector<std::string>{"0"}));
  o.store_failures = false;
  o.warn_error = true;
  EXPECT_EQ(invoke_with(o), 1) << output_;
  EXPECT_NE(output_.find("FAIL test not_null_inc_merge_val"), std::string::npos) << output_;
}

TEST_F(LabProject, FailFastSkipsEverythingAfterTheFirstFailure) {
  testing::write_files(project_, {{"models/a_broken.sql", "select no_such_column from {{ source('bronze', 'events') }}"}});
  EXPECT_EQ(invoke("run", {}, false, "", true, 1), 1) << output_;
  auto results = artifact("run_results.json");
  ASSERT_EQ(results["results"].size(), 6u);
  // Results are in completion order: one error, and nothing but skips after it.
  size_t error_at = results["results"].size();
  int skipped = 0;
  for (size_t k = 0; k < results["results"].size(); ++k) {
    std::string status = results["results"][k]["status"];
    if (status == "error") {
      EXPECT_EQ(error_at, results["results"].size()) << "two errors";
      error_at = k;
    } else if (k > error_at) {
      EXPECT_EQ(status, "skipped") << results["results"][k]["unique_id"];
    }
    skipped += status == "skipped";
  }
  EXPECT_LT(error_at, results["results"].size());
  EXPECT_GE(skipped, 4);
  EXPECT_NE(output_.find("ERROR=1"), std::string::npos) << output_;
}

TEST_F(LabProject, SourceFreshnessAndDocsGenerate) {
  EXPECT_EQ(invoke("freshness"), 0) << output_;  // 3 hours old: warn (exit 0, as dbt)
  auto sources = artifact("sources.json");
  ASSERT_EQ(sources["results"].size(), 1u);
  EXPECT_EQ(sources["results"][0]["status"], "warn");
  EXPECT_GT(sources["results"][0]["max_loaded_at_time_ago_in_s"].get<double>(), 3 * 3600 - 120);
  exec("update bronze.events set ts = " + ago(72));
  EXPECT_EQ(invoke("freshness"), 1) << output_;
  EXPECT_EQ(artifact("sources.json")["results"][0]["status"], "error");

  ASSERT_EQ(invoke("run", {"inc_merge"}), 0) << output_;
  InvocationOptions docs = options("docs");
  std::string site_dir;
  docs.docs_site = [&site_dir](const std::string& target_dir) {
    site_dir = target_dir;
    return ok_status();
  };
  ASSERT_EQ(invoke_with(docs), 0) << output_;
  EXPECT_EQ(site_dir, project_ + "/target");  // the site is written once the artifacts are
  auto catalog = artifact("catalog.json");
  const Json& node = catalog["nodes"]["model.lab.inc_merge"];
  EXPECT_EQ(node["metadata"]["type"], "BASE TABLE");
  EXPECT_EQ(node["columns"]["val"]["index"], 3);
  EXPECT_TRUE(catalog["sources"].contains("source.lab.bronze.events"));
  EXPECT_FALSE(catalog["nodes"].contains("model.lab.inc_di"));  // not built
  // As dbt's, docs generate compiles first: the manifest has the models' compiled SQL.
  auto manifest = artifact("manifest.json");
  ASSERT_TRUE(manifest["nodes"]["model.lab.inc_merge"].contains("compiled_code"));
  EXPECT_EQ(manifest["nodes"]["model.lab.inc_merge"]["compiled_code"].get<std::string>().find("{{"), std::string::npos);

  docs.compile_docs = false;  // --no-compile
  docs.empty_catalog = true;  // --empty-catalog
  ASSERT_EQ(invoke_with(docs), 0) << output_;
  EXPECT_FALSE(artifact("manifest.json")["nodes"]["model.lab.inc_merge"].contains("compiled_code"));
  EXPECT_TRUE(artifact("catalog.json")["nodes"].empty());

  docs.docs_site = [](const std::string&) -> Status { return Error(ErrorCode::kFailed, "cannot write the site"); };
  EXPECT_EQ(invoke_with(docs), 2);
  EXPECT_NE(output_.find("cannot write the site"), std::string::npos) << output_;
}

TEST_F(LabProject, RunQueryGivesAgateTablesWithTypedCells) {
  testing::write_files(project_, {{"models/agate.sql",
      "{% set t = run_query(\"select 1 as n, 'a' as s, 2.5 as f, true as b union all select 2, 'b', 0.5, false "
      "order by n\") %}\n"
      "{% if execute %}\n"
      "select '{{ t.columns['s'].values() | join(',') }}' as by_name, {{ t.columns[0].values() | sum }} as total,\n"
      "  '{% for row in t.rows %}{{ row['s'] }}{{ row.n + 1 }}{% endfor %}' as rows_text,\n"
      "  {{ t.rows[0].f * 2 }} as doubled, '{{ t.rows[1].b }}' as flag, '{{ t.column_names | join(',') }}' as names,\n"
      "  '{% for a, b in zip([1, 2], ['x', 'y']) %}{{ a }}{{ b }}{% endfor %}' as zipped\n"
      "{% else %}select 1 as x{% endif %}\n"}});
  ASSERT_EQ(invoke("run", {"agate"}), 0) << output_;
  EXPECT_EQ(rows("select by_name, total, rows_text, doubled, flag, names, zipped from main.agate"),
            (std::vector<std::string>{"a,b|3|a2b3|5.0|False|n,s,f,b|1x2y"}));
}

TEST_F(LabProject, HooksRunOnceAndOnRunEndSeesResults) {
  testing::write_files(project_, {
      {"dbt_project.yml",
       "name: lab\nprofile: lab\nconfig-version: 2\nmodels:\n  lab:\n    +materialized: table\n"
       "on-run-start:\n  - create table if not exists main.hook_log (event varchar)\n"
       "on-run-end:\n  - \"insert into main.hook_log values ('{{ results | length }} {{ results[0].node.name }} "
       "{{ results[0].status }} {{ schemas | join(\\\",\\\") }} {{ flags.WHICH }}')\"\n"},
      // The {% if %} block keeps the static scan from reading this file exactly: it is rendered too.
      {"models/hooked.sql",
       "{{ config(post_hook=\"insert into main.hook_log values ('post')\") }}\n"
       "select {% if var('two', false) %}2{% else %}1{% endif %} as x\n"}});
  ASSERT_EQ(invoke("run", {"hooked"}), 0) << output_;
  EXPECT_EQ(rows("select event from main.hook_log order by event"),
            (std::vector<std::string>{"1 hooked success main run", "post"}));
  auto manifest = artifact("manifest.json");
  EXPECT_EQ(manifest["nodes"]["model.lab.hooked"]["config"]["post-hook"].size(), 1u);
}

TEST_F(LabProject, ProjectFileConfigsAreRendered) {
  testing::write_files(project_, {
      {"dbt_project.yml",
       "name: lab\nprofile: lab\nconfig-version: 2\nmodels:\n  lab:\n"
       "    +materialized: \"{{ 'view' if target.name == 'dev' else 'table' }}\"\n"
       "    +schema: \"{{ var('area', 'misc') }}\"\n"},
      {"models/rendered.sql", "select 1 as x\n"}});
  ASSERT_EQ(invoke("run", {"rendered"}, false, "{area: sales}"), 0) << output_;
  EXPECT_EQ(rows("select table_schema, table_type from information_schema.tables where table_name = 'rendered'"),
            (std::vector<std::string>{"main_sales|VIEW"}));
}

TEST_F(LabProject, RunOperationCallsAMacroWithArgs) {
  testing::write_files(project_, {{"macros/ops.sql",
                                   "{% macro make_table(table_name, n=1) %}\n"
                                   "{% do run_query('create table main.' ~ table_name ~ ' as select ' ~ n ~ ' as n') %}\n"
                                   "{% endmacro %}\n"}});
  InvocationOptions o = options("run-operation");
  o.operation = "make_table";
  o.operation_args = "{table_name: op_out, n: 3}";
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(rows("select n from main.op_out"), (std::vector<std::string>{"3"}));
  // Running it again fails in the macro (the table exists): exit 1 with the warehouse's message.
  EXPECT_EQ(invoke_with(o), 1) << output_;
  EXPECT_NE(output_.find("op_out"), std::string::npos) << output_;
  o.operation = "make_tabel";
  EXPECT_EQ(invoke_with(o), 2) << output_;
  EXPECT_NE(output_.find("no macro named 'make_tabel'"), std::string::npos) << output_;
}

TEST_F(LabProject, WarnsAboutACriterionThatMatchesNothing) {
  InvocationOptions o = options("ls");
  o.select = {"inc_merge inc_mrege"};
  auto lines = std::make_shared<std::string>();
  o.logger.add_sink([lines](LogLevel, std::string_view line) { *lines += std::string(line) + "\n"; });
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_NE(lines->find("The selection criterion 'inc_mrege' does not match any enabled nodes"), std::string::npos)
      << *lines;
  EXPECT_EQ(lines->find("'inc_merge'"), std::string::npos) << *lines;
}

TEST_F(LabProject, IndirectSelectionComesFromTheFlagOrDbtsVariable) {
  testing::write_files(project_, {{"models/picked.sql", "select 1 as id\n"},
                                  {"models/picked.yml", "version: 2\nmodels:\n  - name: picked\n    columns:\n"
                                                        "      - name: id\n        data_tests: [not_null]\n"}});
  InvocationOptions o = options("ls");
  o.select = {"picked"};
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(output_, "lab.picked\nlab.not_null_picked_id\n");  // eager
  o.env = map_env({{"LAB_DB", db_path_}, {"DBT_INDIRECT_SELECTION", "empty"}});
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(output_, "lab.picked\n");
  o.indirect_selection = "cautious";  // the flag wins
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(output_, "lab.picked\nlab.not_null_picked_id\n");
  o.indirect_selection = "lazy";
  EXPECT_EQ(invoke_with(o), 2);
  EXPECT_NE(output_.find("unknown indirect selection 'lazy'"), std::string::npos) << output_;
}

TEST_F(LabProject, TargetPathComesFromTheFlagOrDbtsVariable) {
  InvocationOptions o = options("parse");
  o.target_path = "elsewhere";
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_TRUE(std::filesystem::exists(project_ + "/elsewhere/manifest.json"));
  o.target_path.clear();
  o.env = map_env({{"LAB_DB", db_path_}, {"DBT_TARGET_PATH", project_ + "/absolute"}});
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_TRUE(std::filesystem::exists(project_ + "/absolute/manifest.json"));
}

TEST_F(LabProject, AnUndefinedPackageNameGetsAHint) {
  testing::write_files(project_, {{"packages.yml", "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n"},
                                  {"models/keyed.sql", "select {{ dbt_utils.generate_surrogate_key(['id']) }} as k\n"}});
  EXPECT_EQ(invoke("run", {"keyed"}), 1) << output_;
  EXPECT_NE(output_.find("'dbt_utils' is undefined"), std::string::npos) << output_;
  EXPECT_NE(output_.find("'dbt_utils' is a package declared in packages.yml that is not installed: run `strata deps`"),
            std::string::npos)
      << output_;
}

TEST_F(LabProject, ShowPreviewsANodeOrInlineSqlWithoutBuildingIt) {
  InvocationOptions o = options("show");
  o.select = {"inc_merge"};
  o.limit = 2;
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_NE(output_.find("Previewing node 'inc_merge':\n| id | k2 | val |\n| -- | -- | --- |\n| 1  | 1  | a   |\n"
                         "| 2  | 1  | b   |\n"),
            std::string::npos)
      << output_;
  EXPECT_EQ(output_.find("| 3 "), std::string::npos) << output_;  // --limit 2
  EXPECT_EQ(rows("select count(*) from information_schema.tables where table_name = 'inc_merge'"),
            (std::vector<std::string>{"0"}));
  o.select.clear();
  o.inline_sql = "select 42 as answer";
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_NE(output_.find("Previewing inline node:\n| answer |\n| ------ |\n| 42     |\n"), std::string::npos) << output_;
}

TEST_F(LabProject, LsJsonPrintsDbtKeysOrTheOutputKeys) {
  InvocationOptions o = options("ls");
  o.select = {"inc_merge"};
  o.output = "json";
  o.resource_types = {"model"};
  ASSERT_EQ(invoke_with(o), 0) << output_;
  Json line = Json::parse(output_.substr(0, output_.find('\n')));
  EXPECT_EQ(line["unique_id"], "model.lab.inc_merge");
  EXPECT_EQ(line["config"]["materialized"], "incremental");
  EXPECT_EQ(line["depends_on"]["nodes"], Json::array({"source.lab.bronze.events"}));
  EXPECT_TRUE(line.contains("tags"));
  EXPECT_TRUE(line.contains("alias"));
  EXPECT_FALSE(line.contains("raw_code"));
  o.output_keys = {"name unique_id"};
  ASSERT_EQ(invoke_with(o), 0) << output_;
  line = Json::parse(output_.substr(0, output_.find('\n')));
  EXPECT_EQ(line.size(), 2u) << line.dump();
  EXPECT_EQ(line["name"], "inc_merge");
  EXPECT_EQ(line["unique_id"], "model.lab.inc_merge");
}

// hard_deletes='new_record' (dbt 1.9): a key gone from the query closes its version and gets a
// version marked deleted (once, however often the snapshot runs); when the key comes back, the
// deletion version closes and a new version opens.
TEST_F(LabProject, SnapshotHardDeletesAsNewRecords) {
  testing::write_files(project_, {{"snapshots/del_snap.sql",
                                   "{% snapshot del_snap %}\n{{ config(target_schema='snapshots', unique_key='id', "
                                   "strategy='check', check_cols=['val'], hard_deletes='new_record') }}\nselect id, "
                                   "val from {{ source('bronze', 'events') }}\n{% endsnapshot %}\n"}});
  auto versions = [&] {
    return rows("select id, coalesce(val, '-'), dbt_is_deleted, dbt_valid_to is null from snapshots.del_snap "
                "order by id, dbt_valid_to nulls last, dbt_is_deleted");
  };
  ASSERT_EQ(invoke("snapshot", {"del_snap"}), 0) << output_;
  EXPECT_EQ(versions(), (std::vector<std::string>{"1|a|False|true", "2|b|False|true", "3|-|False|true"}));
  exec("delete from bronze.events where id = 2");
  ASSERT_EQ(invoke("snapshot", {"del_snap"}), 0) << output_;
  ASSERT_EQ(invoke("snapshot", {"del_snap"}), 0) << output_;  // still gone: no second deletion version
  EXPECT_EQ(versions(),
            (std::vector<std::string>{"1|a|False|true", "2|b|False|false", "2|b|True|true", "3|-|False|true"}));
  exec("insert into bronze.events values (2, 1, 'b2', now())");
  ASSERT_EQ(invoke("snapshot", {"del_snap"}), 0) << output_;
  EXPECT_EQ(versions(), (std::vector<std::string>{"1|a|False|true", "2|b|False|false", "2|b|True|false",
                                                  "2|b2|False|true", "3|-|False|true"}));
  // Each version has its own id.
  EXPECT_EQ(rows("select count(distinct dbt_scd_id) from snapshots.del_snap"), (std::vector<std::string>{"5"}));
}

// snapshot_meta_column_names and dbt_valid_to_current (dbt 1.9): the metadata columns carry the
// names given, and current versions hold the given end instead of NULL.
TEST_F(LabProject, SnapshotMetaColumnNamesAndValidToCurrent) {
  testing::write_files(
      project_,
      {{"snapshots/named.yml",
        "snapshots:\n  - name: named_snap\n    relation: source('bronze', 'events')\n    config:\n"
        "      schema: snapshots\n      unique_key: id\n      strategy: timestamp\n      updated_at: ts\n"
        "      dbt_valid_to_current: \"cast('9999-12-31' as timestamp)\"\n      hard_deletes: invalidate\n"
        "      snapshot_meta_column_names: {dbt_valid_from: start_at, dbt_valid_to: end_at, dbt_scd_id: version_id,"
        " dbt_updated_at: changed_at}\n"}});
  ASSERT_EQ(invoke("snapshot", {"named_snap"}), 0) << output_;
  EXPECT_EQ(rows("select count(*) from information_schema.columns where table_name = 'named_snap' and column_name "
                 "in ('start_at', 'end_at', 'version_id', 'changed_at')"),
            (std::vector<std::string>{"4"}));
  EXPECT_EQ(rows("select count(*) from information_schema.columns where table_name = 'named_snap' and column_name "
                 "like 'dbt\\_%' escape '\\'"),
            (std::vector<std::string>{"0"}));
  exec("update bronze.events set val = 'a2', ts = ts + interval 1 hour where id = 1; "
       "delete from bronze.events where id = 3");
  ASSERT_EQ(invoke("snapshot", {"named_snap"}), 0) << output_;
  EXPECT_EQ(rows("select id, coalesce(val, '-'), end_at = cast('9999-12-31' as timestamp), "
                 "end_at = changed_at + interval 1 hour from main_snapshots.named_snap order by id, end_at"),
            (std::vector<std::string>{"1|a|false|true", "1|a2|true|false", "2|b|true|false", "3|-|false|false"}));
  ASSERT_EQ(invoke("snapshot", {"named_snap"}), 0) << output_;  // nothing changed: no new version
  EXPECT_EQ(rows("select count(*) from main_snapshots.named_snap"), (std::vector<std::string>{"4"}));

  testing::write_files(project_, {{"snapshots/named.yml", "snapshots:\n  - name: named_snap\n    relation: "
                                                          "source('bronze', 'events')\n    config:\n      unique_key: "
                                                          "id\n      strategy: check\n      hard_deletes: keep\n"}});
  EXPECT_NE(invoke("snapshot", {"named_snap"}), 0);
  EXPECT_NE(output_.find("hard_deletes 'keep' is not a choice"), std::string::npos) << output_;
}

// incremental_predicates narrow the target rows a merge or delete+insert touches, as in dbt: a new
// row whose old version falls outside them is inserted beside it.
TEST_F(LabProject, IncrementalPredicatesNarrowTheTargetRows) {
  testing::write_files(
      project_,
      {{"models/pred_merge.sql",
        "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge', "
        "incremental_predicates=['DBT_INTERNAL_DEST.id > 1']) }}\nselect id, coalesce(val, '-') as val from "
        "{{ source('bronze', 'events') }}\n"},
       {"models/pred_di.sql",
        "{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', "
        "incremental_predicates=\"id > 1\") }}\nselect id, coalesce(val, '-') as val from "
        "{{ source('bronze', 'events') }}\n"}});
  ASSERT_EQ(invoke("run", {"pred_merge", "pred_di"}), 0) << output_;
  exec("update bronze.events set val = coalesce(val, '') || '!'");
  ASSERT_EQ(invoke("run", {"pred_merge", "pred_di"}), 0) << output_;
  const std::vector<std::string> expected{"1|a", "1|a!", "2|b!", "3|!"};
  EXPECT_EQ(rows("select id, val from main.pred_merge order by id, val"), expected);
  EXPECT_EQ(rows("select id, val from main.pred_di order by id, val"), expected);
}

// retry (dbt retry): the previous build again, with its flags, for the nodes that errored or were
// skipped only; then nothing to do; and a clear error without a previous run.
TEST_F(LabProject, RetryRepeatsTheFailedAndSkippedNodesOfThePreviousRun) {
  testing::write_files(project_, {{"models/fragile.sql", "select {{ var('n') }} as n, * from bronze.maybe\n"},
                                  {"models/after_fragile.sql", "select n + 1 as m from {{ ref('fragile') }}\n"},
                                  {"models/once.sql", "{{ config(materialized='incremental') }}\nselect 1 as x\n"}});
  ASSERT_EQ(invoke("build", {"fragile+", "once"}, false, "{n: 7}"), 1) << output_;
  Json first = artifact("run_results.json");
  EXPECT_EQ(first["args"]["which"], "build");
  exec("create table bronze.maybe (k integer); insert into bronze.maybe values (1)");
  ASSERT_EQ(invoke("retry"), 0) << output_;
  EXPECT_EQ(rows("select n, k from main.fragile"), (std::vector<std::string>{"7|1"}));  // --vars of the build
  EXPECT_EQ(rows("select m from main.after_fragile"), (std::vector<std::string>{"8"}));
  EXPECT_EQ(rows("select count(*) from main.once"), (std::vector<std::string>{"1"}));  // succeeded: not run again
  const Json second = artifact("run_results.json");
  std::vector<std::string> retried;
  for (const auto& r : second["results"]) retried.push_back(r["unique_id"]);
  std::sort(retried.begin(), retried.end());
  EXPECT_EQ(retried, (std::vector<std::string>{"model.lab.after_fragile", "model.lab.fragile"}));
  ASSERT_EQ(invoke("retry"), 0) << output_;
  EXPECT_NE(output_.find("Nothing to do"), std::string::npos) << output_;
  fs::remove(project_ + "/target/run_results.json");
  EXPECT_EQ(invoke("retry"), 2);
  EXPECT_NE(output_.find("Could not find previous run in 'target' target directory"), std::string::npos) << output_;
}

// incremental_strategy='microbatch' (dbt 1.9): the first build covers begin..today a day at a
// time, reading each day's rows of the source through its event_time; a later run rebuilds the
// lookback's days only (late rows of older days stay out); --event-time-start/end backfill a range.
TEST_F(LabProject, MicrobatchBuildsBatchesOfTheEventTime) {
  auto day = [](int days_ago) { return format_iso8601(now_micros() - days_ago * 86400LL * 1000000).substr(0, 10); };
  testing::write_files(
      project_,
      {{"models/clicks.yml", "version: 2\nsources:\n  - name: raw\n    schema: bronze\n    tables:\n"
                             "      - name: clicks\n        config: {event_time: ts}\n"},
       {"models/daily_clicks.sql",
        "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='day', "
        "batch_size='day', begin='" + day(2) + "') }}\nselect cast(ts as date) as day, count(*) as n, "
        "'{{ model.batch.id }}' as batch from {{ source('raw', 'clicks') }} group by 1\n"}});
  auto add = [&](int days_ago, int rows) {
    exec("insert into bronze.clicks select cast('" + day(days_ago) + "' as timestamp) + interval 1 hour, 1 from "
         "range(" + std::to_string(rows) + ")");
  };
  exec("create table bronze.clicks (ts timestamp, x integer)");
  add(2, 2);
  add(1, 1);
  add(0, 3);
  add(5, 4);  // before begin: never read
  auto built = [&] { return rows("select cast(day as varchar), n from main.daily_clicks order by day"); };
  ASSERT_EQ(invoke("run", {"daily_clicks"}), 0) << output_;
  EXPECT_NE(output_.find("MICROBATCH 3 batches"), std::string::npos) << output_;
  EXPECT_EQ(built(), (std::vector<std::string>{day(2) + "|2", day(1) + "|1", day(0) + "|3"}));
  // model.batch.id: the batch's start, as dbt's (20240131 for a day).
  EXPECT_EQ(rows("select count(*) from main.daily_clicks where batch = replace(cast(day as varchar), '-', '')"),
            (std::vector<std::string>{"3"}));
  add(2, 5);
  add(1, 1);
  add(0, 1);
  ASSERT_EQ(invoke("run", {"daily_clicks"}), 0) << output_;  // lookback 1: yesterday and today
  EXPECT_EQ(built(), (std::vector<std::string>{day(2) + "|2", day(1) + "|2", day(0) + "|4"}));
  InvocationOptions backfill = options("run");
  backfill.select = {"daily_clicks"};
  backfill.event_time_start = day(2);
  backfill.event_time_end = day(1);
  ASSERT_EQ(invoke_with(backfill), 0) << output_;
  EXPECT_EQ(built(), (std::vector<std::string>{day(2) + "|7", day(1) + "|2", day(0) + "|4"}));

  testing::write_files(project_, {{"models/daily_clicks.sql",
                                   "{{ config(materialized='incremental', incremental_strategy='microbatch', "
                                   "event_time='day') }}\nselect 1 as day\n"}});
  EXPECT_EQ(invoke("run", {"daily_clicks"}), 1);
  EXPECT_NE(output_.find("has no batch_size"), std::string::npos) << output_;
}

// unit_tests (dbt 1.8): the model's SQL on the given rows (cast to the input's column types, the
// columns left out NULL; dict or CSV), compared with the expected rows over their columns; a
// failure shows both. In a build they run before their model, which a failing one skips; their
// overrides' vars win; they select as test_type:unit.
TEST_F(LabProject, UnitTestsRunTheModelOnGivenRows) {
  testing::write_files(
      project_,
      {{"models/upper_vals.sql",
        "select id, upper(val) as val_up, k2 * {{ var('factor', 10) }} as k from {{ source('bronze', 'events') }} "
        "where val is not null\n"},
       {"models/unit.yml",
        "unit_tests:\n"
        "  - name: uppercases\n    model: upper_vals\n    given:\n"
        "      - input: source('bronze', 'events')\n        rows:\n"
        "          - {id: 1, val: ab, k2: 2}\n          - {id: 2, val: null}\n"
        "    overrides: {vars: {factor: 100}}\n"
        "    expect:\n      rows:\n        - {id: 1, val_up: AB, k: 200}\n"
        "  - name: wrong_on_purpose\n    model: upper_vals\n    given:\n"
        "      - input: source('bronze', 'events')\n        format: csv\n        rows: |\n"
        "          id,val,k2\n          3,x,1\n"
        "    expect:\n      rows:\n        - {id: 3, val_up: x}\n"}});
  EXPECT_EQ(invoke("build", {"upper_vals"}), 1) << output_;
  EXPECT_NE(output_.find("FAIL unit_test upper_vals::wrong_on_purpose"), std::string::npos) << output_;
  EXPECT_NE(output_.find("actual differs from expected"), std::string::npos) << output_;
  EXPECT_NE(output_.find("  3 | X"), std::string::npos) << output_;  // the actual row
  std::map<std::string, std::string> status;
  const Json results = artifact("run_results.json");
  for (const auto& r : results["results"]) status[r["unique_id"]] = r["status"];
  EXPECT_EQ(status["unit_test.lab.upper_vals.uppercases"], "pass");
  EXPECT_EQ(status["unit_test.lab.upper_vals.wrong_on_purpose"], "fail");
  EXPECT_EQ(status["model.lab.upper_vals"], "skipped");  // its unit test failed first
  const Json manifest = artifact("manifest.json");
  EXPECT_EQ(manifest["unit_tests"]["unit_test.lab.upper_vals.uppercases"]["model"], "upper_vals");
  EXPECT_FALSE(manifest["nodes"].contains("unit_test.lab.upper_vals.uppercases"));
  // Selected by test type, without the data tests.
  InvocationOptions ls = options("ls");
  ls.select = {"test_type:unit"};
  ASSERT_EQ(invoke_with(ls), 0) << output_;
  EXPECT_NE(output_.find("upper_vals.uppercases"), std::string::npos) << output_;
  EXPECT_EQ(output_.find("not_null"), std::string::npos) << output_;
  // Without the failing one the model builds, with its own var.
  std::string yml;
  ASSERT_TRUE(read_file(project_ + "/models/unit.yml", yml));
  testing::write_files(project_, {{"models/unit.yml", yml.substr(0, yml.find("  - name: wrong_on_purpose"))}});
  ASSERT_EQ(invoke("build", {"upper_vals"}), 0) << output_;
  EXPECT_EQ(rows("select id, val_up, k from main.upper_vals order by id"),
            (std::vector<std::string>{"1|A|10", "2|B|10"}));
}

}  // namespace
}  // namespace strata::transform
