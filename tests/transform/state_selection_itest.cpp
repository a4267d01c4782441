// dbt's state on a real DuckDB file (slim CI): a production build's artifacts, then a changed
// project compared with them (state:new / modified and its sub-selectors / unmodified / old,
// result:), and --defer building only the changed models in a dev schema while their unchanged
// parents are read from production's.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "duckdb_project.h"
#include "test_util.h"

namespace strata::transform {
namespace {

namespace fs = std::filesystem;

class StateSelection : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("slim");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: slim\nprofile: slim\nconfig-version: 2\nmodels:\n  slim:\n    +materialized: table\n"},
        {"profiles.yml", "slim:\n  target: dev\n  outputs:\n"
                         "    dev:\n      type: duckdb\n      path: \"{{ env_var('LAB_DB') }}\"\n      schema: dev\n"
                         "    prod:\n      type: duckdb\n      path: \"{{ env_var('LAB_DB') }}\"\n      schema: prod\n"},
        {"macros/cents.sql", "{% macro cents(col) %}{{ col }} * 100{% endmacro %}\n"},
        {"macros/wrapped.sql", "{% macro wrapped_cents(col) -%}\n  ({{ cents(col) }})\n{%- endmacro %}\n"},
        {"seeds/codes.csv", "code,label\n1,one\n2,two\n"},
        {"models/stg.sql", "select code as id, label from {{ ref('codes') }}\n"},
        {"models/mid.sql", "select id, upper(label) as label from {{ ref('stg') }}\n"},
        {"models/priced.sql", "select id, {{ cents('id') }} as cents from {{ ref('mid') }}\n"},
        {"models/wrapped.sql", "select id, {{ wrapped_cents('id') }} as cents from {{ ref('stg') }}\n"},
        {"models/plain.sql", "select 42 as answer\n"},
        {"models/schema.yml", "version: 2\nmodels:\n  - name: stg\n    columns:\n      - name: id\n"
                              "        tests: [unique, not_null]\n"},
    });
    // Production: built, and its artifacts kept where CI would download them.
    auto o = options("build");
    o.target = "prod";
    ASSERT_EQ(invoke_with(o), 0) << output_;
    state_ = dir_.path() + "/prod-artifacts";
    fs::create_directories(state_);
    for (const char* f : {"manifest.json", "run_results.json"})
      fs::copy_file(project_ + "/target/" + f, state_ + "/" + f, fs::copy_options::overwrite_existing);
  }

  // The names `ls --select <spec> --state` lists (models, seeds and tests).
  std::set<std::string> listed(const std::string& spec, const std::string& state = "") {
    auto o = options("ls");
    o.select = {spec};
    o.output = "name";
    o.state_dir = state.empty() ? state_ : state;
    EXPECT_EQ(invoke_with(o), 0) << output_;
    std::set<std::string> names;
    for (const auto& line : split(output_, '\n'))
      if (!trim(line).empty()) names.insert(std::string(trim(line)));
    return names;
  }

  void edit(const std::string& file, const std::string& text) { testing::write_files(project_, {{file, text}}); }

  std::string state_;
};

using Names = std::set<std::string>;

TEST_F(StateSelection, AnUnchangedProjectHasNothingModifiedInAnotherTarget) {
  // dev's schema differs from prod's, which is the target's doing, not a change.
  EXPECT_EQ(listed("state:modified"), Names{});
  EXPECT_EQ(listed("state:new"), Names{});
  EXPECT_EQ(listed("state:unmodified", state_).count("priced"), 1u);
  EXPECT_EQ(listed("state:old").size(), listed("*").size());
}

TEST_F(StateSelection, EachKindOfChangeIsFoundAndOnlyThere) {
  edit("models/mid.sql", "select id, lower(label) as label from {{ ref('stg') }}\n");
  EXPECT_EQ(listed("state:modified.body"), Names{"mid"});
  EXPECT_EQ(listed("state:modified"), Names{"mid"});
  EXPECT_EQ(listed("state:modified+"), (Names{"mid", "priced"}));

  // A macro's change reaches the models calling it, directly and through another macro.
  edit("macros/cents.sql", "{% macro cents(col) %}({{ col }}) * 100{% endmacro %}\n");
  EXPECT_EQ(listed("state:modified.macros"), (Names{"priced", "wrapped"}));
  EXPECT_EQ(listed("state:modified.body"), Names{"mid"});

  // A config, a configured schema, and a new model and seed row.
  edit("models/plain.sql", "{{ config(materialized='view') }}\nselect 42 as answer\n");
  edit("models/brand_new.sql", "select 1 as one\n");
  edit("seeds/codes.csv", "code,label\n1,one\n2,two\n3,three\n");
  EXPECT_EQ(listed("state:modified.configs"), Names{"plain"});
  EXPECT_EQ(listed("state:new"), Names{"brand_new"});
  EXPECT_EQ(listed("state:modified,resource_type:seed"), Names{"codes"});
  edit("dbt_project.yml", "name: slim\nprofile: slim\nconfig-version: 2\nmodels:\n  slim:\n    +materialized: table\n"
                          "    stg:\n      +schema: staging\n");
  // stg's tests come with it (dbt's eager indirect selection).
  const Names stg{"stg", "unique_stg_id", "not_null_stg_id"};
  EXPECT_EQ(listed("state:modified.relation"), stg);
  Names all{"mid", "priced", "wrapped", "plain", "brand_new", "codes"};
  all.insert(stg.begin(), stg.end());
  EXPECT_EQ(listed("state:modified"), all);
  // Only stg's tests are as they were.
  EXPECT_EQ(listed("state:unmodified"), (Names{"unique_stg_id", "not_null_stg_id"}));
}

TEST_F(StateSelection, ResultSelectsByThePreviousRunsStatus) {
  // A production run where one model failed and its child was skipped.
  edit("models/mid.sql", "select id, label from {{ ref('stg') }} where cast(label as integer) > 0\n");
  auto o = options("build");
  o.target = "prod";
  EXPECT_EQ(invoke_with(o), 1) << output_;
  EXPECT_EQ(listed("result:error", project_ + "/target"), Names{"mid"});
  EXPECT_EQ(listed("result:skipped", project_ + "/target"), Names{"priced"});
  EXPECT_EQ(listed("result:pass", project_ + "/target"), (Names{"unique_stg_id", "not_null_stg_id"}));
}

// source_status:fresher compares production's sources.json with the one `source freshness` just
// wrote in the current target: the sources loaded since (and sources production did not check).
TEST_F(StateSelection, SourceStatusFresherSelectsTheSourcesLoadedSince) {
  exec("create schema if not exists raw;"
       "create table raw.events (id int, loaded_at timestamp); insert into raw.events values (1, '2024-01-01 10:00:00');"
       "create table raw.users (id int, loaded_at timestamp); insert into raw.users values (1, '2024-01-01 10:00:00');"
       "create table raw.items (id int, loaded_at timestamp); insert into raw.items values (1, '2024-01-01 10:00:00');");
  edit("models/sources.yml",
       "version: 2\nsources:\n  - name: raw\n    schema: raw\n    loaded_at_field: loaded_at\n"
       "    freshness:\n      warn_after: {count: 100000, period: day}\n    tables:\n      - name: events\n"
       "      - name: users\n");
  edit("models/ev.sql", "select * from {{ source('raw', 'events') }}\n");
  edit("models/ev_daily.sql", "select count(*) as n from {{ ref('ev') }}\n");
  edit("models/us.sql", "select * from {{ source('raw', 'users') }}\n");
  // Without either sources.json: what to run.
  auto o = options("ls");
  o.select = {"source_status:fresher+"};
  o.state_dir = state_;
  EXPECT_EQ(invoke_with(o), 2) << output_;
  EXPECT_NE(output_.find("sources.json in the --state folder"), std::string::npos) << output_;
  // Production checks freshness; its sources.json travels with its other artifacts.
  ASSERT_EQ(invoke_with(options("freshness")), 0) << output_;
  fs::copy_file(project_ + "/target/sources.json", state_ + "/sources.json", fs::copy_options::overwrite_existing);
  EXPECT_EQ(listed("source_status:fresher+"), Names{}) << "nothing loaded since";
  // events gets new rows; a new source (items) is checked for the first time.
  exec("insert into raw.events values (2, '2024-01-02 10:00:00')");
  edit("models/sources.yml",
       "version: 2\nsources:\n  - name: raw\n    schema: raw\n    loaded_at_field: loaded_at\n"
       "    freshness:\n      warn_after: {count: 100000, period: day}\n    tables:\n      - name: events\n"
       "      - name: users\n      - name: items\n");
  ASSERT_EQ(invoke_with(options("freshness")), 0) << output_;
  EXPECT_EQ(listed("source_status:fresher+,resource_type:model"), (Names{"ev", "ev_daily"}));
  const Names fresher = listed("source_status:fresher");
  EXPECT_EQ(fresher.count("us"), 0u);
  EXPECT_EQ(fresher.size(), 2u) << "events and items";
  o.select = {"source_status:staler"};
  EXPECT_EQ(invoke_with(o), 2) << output_;
  EXPECT_NE(output_.find("use source_status:fresher"), std::string::npos) << output_;
}

TEST_F(StateSelection, DeferBuildsTheChangedModelOnProductionsParents) {
  exec("update prod.mid set label = 'FROM PROD'");
  edit("models/priced.sql", "select id, {{ cents('id') }} + 1 as cents, label from {{ ref('mid') }}\n");
  auto o = options("build");
  o.select = {"state:modified"};
  o.state_dir = state_;
  o.defer = true;
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_NE(output_.find("PASS=1"), std::string::npos) << output_;
  // mid was never built in dev: priced read production's.
  EXPECT_EQ(rows("select id, cents, label from dev.priced order by id"),
            (std::vector<std::string>{"1|101|FROM PROD", "2|201|FROM PROD"}));
  EXPECT_EQ(rows("select count(*) from information_schema.tables where table_schema = 'dev'"),
            std::vector<std::string>{"1"});
  // The manifest written describes dev's own relations, not the deferred ones.
  EXPECT_EQ(artifact("manifest.json")["nodes"]["model.slim.mid"]["schema"], "dev");
}

TEST_F(StateSelection, DeferPrefersARelationBuiltInTheTargetUnlessFavorState) {
  auto dev = options("run");
  dev.select = {"mid"};
  ASSERT_EQ(invoke_with(dev), 1) << output_;  // stg is not in dev yet
  auto o = options("run");
  o.select = {"mid"};
  o.state_dir = state_;
  o.defer = true;
  ASSERT_EQ(invoke_with(o), 0) << output_;
  exec("delete from dev.mid where id = 2");
  o.select = {"priced"};
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(rows("select count(*) from dev.priced"), std::vector<std::string>{"1"});
  o.favor_state = true;
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(rows("select count(*) from dev.priced"), std::vector<std::string>{"2"});
}

TEST_F(StateSelection, MistakesAreUsageErrors) {
  auto o = options("ls");
  o.select = {"state:modified"};
  EXPECT_EQ(invoke_with(o), 2);
  EXPECT_NE(output_.find("--state"), std::string::npos) << output_;
  o.state_dir = dir_.path() + "/nowhere";
  EXPECT_EQ(invoke_with(o), 2);
  EXPECT_NE(output_.find("no manifest.json"), std::string::npos) << output_;
  o.state_dir = state_;
  o.select = {"state:changed"};
  EXPECT_EQ(invoke_with(o), 2);
  EXPECT_NE(output_.find("state:modified.body"), std::string::npos) << output_;
  auto run = options("run");
  run.defer = true;
  EXPECT_EQ(invoke_with(run), 2);
  EXPECT_NE(output_.find("--defer needs"), std::string::npos) << output_;
  fs::remove(state_ + "/run_results.json");
  o.select = {"result:error"};
  EXPECT_EQ(invoke_with(o), 2);
  EXPECT_NE(output_.find("run_results.json"), std::string::npos) << output_;
}

}  // namespace
}  // namespace strata::transform
