// Unit tests (dbt 1.8) on a real DuckDB file, for the inputs that are no relation of their own:
// an ephemeral model (its fixture replaces its CTE; format sql, or dict typed by the ephemeral
// model's query) and `this`, an incremental model's own table (read with is_incremental
// overridden to true; typed by the table, or by the model's query before its first build).
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "duckdb_project.h"
#include "test_util.h"
#include "transform/invocation.h"

namespace strata::transform {
namespace {

class UnitTestInputs : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("ut");
    testing::write_files(
        project_,
        {{"dbt_project.yml", "name: ut\nprofile: ut\nconfig-version: 2\nmodels:\n  ut:\n    +materialized: table\n"},
         {"profiles.yml", "ut:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                          "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 2\n"},
         {"models/sources.yml", "version: 2\nsources:\n  - name: bronze\n    schema: bronze\n    tables:\n"
                                "      - name: events\n"},
         {"models/stg_events.sql",
          "{{ config(materialized='ephemeral') }}\nselect id, upper(val) as val_up, ts "
          "from {{ source('bronze', 'events') }}\n"},
         {"models/events_by_val.sql", "select val_up, count(*) as n from {{ ref('stg_events') }} group by 1\n"},
         {"models/events_inc.sql",
          "{{ config(materialized='incremental', unique_key='id') }}\nselect id, val, ts "
          "from {{ source('bronze', 'events') }}\n"
          "{% if is_incremental() %}where ts > (select max(ts) from {{ this }}){% endif %}\n"}});
    // The real rows differ from every fixture: a test reading them instead fails.
    exec("create schema bronze; create table bronze.events (id integer, val varchar, ts timestamp);"
         "insert into bronze.events values (10, 'z', '2024-03-01'), (11, 'z', '2024-03-02')");
  }

  // The statuses of run_results.json by unique id.
  std::map<std::string, std::string> statuses() {
    std::map<std::string, std::string> out;
    const Json results = artifact("run_results.json");
    for (const auto& r : results["results"]) out[r["unique_id"]] = r["status"];
    return out;
  }
};

TEST_F(UnitTestInputs, AnEphemeralInputIsReplacedByItsFixture) {
  testing::write_files(
      project_,
      {{"models/unit.yml",
        "unit_tests:\n"
        "  - name: from_sql\n    model: events_by_val\n    given:\n"
        "      - input: ref('stg_events')\n        format: sql\n        rows: |\n"
        "          select 1 as id, 'A' as val_up, timestamp '2024-01-01' as ts\n"
        "          union all select 2, 'A', timestamp '2024-01-02'\n"
        "    expect:\n      rows:\n        - {val_up: A, n: 2}\n"
        "  - name: from_dict\n    model: events_by_val\n    given:\n"
        "      - input: ref('stg_events')\n        rows:\n"
        "          - {id: 1, val_up: B}\n          - {id: 2, val_up: B}\n          - {id: 3, val_up: C}\n"
        "    expect:\n      rows:\n        - {val_up: B, n: 2}\n        - {val_up: C, n: 1}\n"}});
  InvocationOptions o = options("build");
  o.select = {"events_by_val"};
  ASSERT_EQ(invoke_with(o), 0) << output_;
  auto status = statuses();
  EXPECT_EQ(status["unit_test.ut.events_by_val.from_sql"], "pass") << output_;
  EXPECT_EQ(status["unit_test.ut.events_by_val.from_dict"], "pass") << output_;
  EXPECT_EQ(status["model.ut.events_by_val"], "success");
  EXPECT_EQ(rows("select val_up, n from main.events_by_val"), (std::vector<std::string>{"Z|2"}));
}

TEST_F(UnitTestInputs, ThisIsReplacedByItsFixtureWhenIncremental) {
  testing::write_files(
      project_,
      {{"models/unit.yml",
        "unit_tests:\n"
        "  - name: only_newer_rows\n    model: events_inc\n"
        "    overrides: {macros: {is_incremental: true}}\n    given:\n"
        "      - input: source('bronze', 'events')\n        rows:\n"
        "          - {id: 1, ts: '2024-01-01'}\n          - {id: 2, ts: '2024-01-02'}\n"
        "          - {id: 3, ts: '2024-01-03'}\n"
        "      - input: this\n        rows:\n          - {id: 1, ts: '2024-01-02'}\n"
        "    expect:\n      rows:\n        - {id: 3}\n"
        "  - name: full_build\n    model: events_inc\n"
        "    overrides: {macros: {is_incremental: false}}\n    given:\n"
        "      - input: source('bronze', 'events')\n        rows:\n"
        "          - {id: 1, ts: '2024-01-01'}\n          - {id: 2, ts: '2024-01-02'}\n"
        "      - input: this\n        rows:\n          - {id: 1, ts: '2024-01-02'}\n"
        "    expect:\n      rows:\n        - {id: 1}\n        - {id: 2}\n"}});
  InvocationOptions o = options("build");
  o.select = {"events_inc"};
  // First build: no table yet, so `this` takes the types of the model's query.
  ASSERT_EQ(invoke_with(o), 0) << output_;
  auto status = statuses();
  EXPECT_EQ(status["unit_test.ut.events_inc.only_newer_rows"], "pass") << output_;
  EXPECT_EQ(status["unit_test.ut.events_inc.full_build"], "pass") << output_;
  EXPECT_EQ(rows("select id from main.events_inc order by id"), (std::vector<std::string>{"10", "11"}));
  // Second build: the table's types; the fixture still stands for it.
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(statuses()["unit_test.ut.events_inc.only_newer_rows"], "pass") << output_;

  // The comparison is real: a wrong expectation fails and shows the fixture-driven row.
  std::string yml;
  ASSERT_TRUE(read_file(project_ + "/models/unit.yml", yml));
  testing::write_files(project_, {{"models/unit.yml", replace_all(yml, "        - {id: 3}\n", "        - {id: 2}\n")}});
  EXPECT_EQ(invoke_with(o), 1) << output_;
  EXPECT_EQ(statuses()["unit_test.ut.events_inc.only_newer_rows"], "fail") << output_;
  EXPECT_NE(output_.find("actual differs from expected"), std::string::npos) << output_;
}

TEST_F(UnitTestInputs, AnEphemeralInputWhoseQueryCannotRunAsksForFormatSql) {
  exec("drop table bronze.events");
  testing::write_files(
      project_,
      {{"models/unit.yml", "unit_tests:\n  - name: from_dict\n    model: events_by_val\n    given:\n"
                           "      - input: ref('stg_events')\n        rows:\n          - {val_up: B}\n"
                           "    expect:\n      rows:\n        - {val_up: B, n: 1}\n"}});
  InvocationOptions o = options("test");
  o.select = {"test_type:unit"};
  EXPECT_EQ(invoke_with(o), 1) << output_;
  EXPECT_NE(output_.find("the columns of stg_events are those of its query, which failed"), std::string::npos)
      << output_;
  EXPECT_NE(output_.find("format: sql"), std::string::npos) << output_;
}

}  // namespace
}  // namespace strata::transform
