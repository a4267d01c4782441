// Microbatch models (dbt 1.9) on a real DuckDB file: a batch that fails while the others commit
// makes the model a partial success (run_results' batch_results, downstream skipped, exit 1),
// `retry` builds only the failed batches; every batch failing stays an error; concurrent_batches
// parses without warnings (the batches still run in sequence).
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "common/time.h"
#include "duckdb_project.h"
#include "test_util.h"
#include "transform/invocation.h"

namespace strata::transform {
namespace {

class MicrobatchProject : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("mb");
    testing::write_files(
        project_,
        {{"dbt_project.yml", "name: mb\nprofile: mb\nconfig-version: 2\nmodels:\n  mb:\n    +materialized: table\n"},
         {"profiles.yml", "mb:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                          "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 2\n"},
         {"models/sources.yml", "version: 2\nsources:\n  - name: raw\n    schema: bronze\n    tables:\n"
                                "      - name: clicks\n        config: {event_time: ts}\n"},
         // amount is text: a row whose amount is no number fails the batch of its day only.
         {"models/daily_clicks.sql",
          "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='day', "
          "batch_size='day', begin='" + day(2) + "', concurrent_batches=true) }}\n"
          "select cast(ts as date) as day, count(*) as n, sum(cast(amount as integer)) as total\n"
          "from {{ source('raw', 'clicks') }} group by 1\n"},
         {"models/clicks_total.sql", "select sum(n) as n from {{ ref('daily_clicks') }}\n"}});
    exec("create schema bronze; create table bronze.clicks (ts timestamp, amount varchar)");
  }

  // The UTC date `days_ago` days before today, YYYY-MM-DD.
  static std::string day(int days_ago) {
    return format_iso8601(now_micros() - days_ago * 86400LL * 1000000).substr(0, 10);
  }
  void add(int days_ago, int rows, const std::string& amount = "1") {
    exec("insert into bronze.clicks select cast('" + day(days_ago) + "' as timestamp) + interval 1 hour, '" + amount +
         "' from range(" + std::to_string(rows) + ")");
  }
  int invoke(const std::string& command, std::vector<std::string> select = {}, const std::string& vars = "") {
    InvocationOptions o = options(command);
    o.select = std::move(select);
    o.vars = vars;
    return invoke_with(o);
  }
  std::vector<std::string> built() {
    return rows("select cast(day as varchar), n from main.daily_clicks order by day");
  }
  // The run_results.json item of `unique_id` (null when it did not run).
  Json result_of(const std::string& unique_id) {
    const Json results = artifact("run_results.json");
    for (const auto& r : results["results"])
      if (r["unique_id"] == unique_id) return r;
    return Json();
  }
  // [start, end] of the day batch `days_ago` days back, as batch_results writes it.
  static Json window(int days_ago) {
    return Json::array({day(days_ago) + "T00:00:00Z", day(days_ago - 1) + "T00:00:00Z"});
  }
};

TEST_F(MicrobatchProject, AFailedBatchIsAPartialSuccessAndRetryBuildsOnlyIt) {
  add(2, 2);
  add(1, 1);
  add(1, 1, "oops");  // yesterday's batch fails
  add(0, 3);
  EXPECT_EQ(invoke("run", {"daily_clicks+"}), 1) << output_;
  EXPECT_NE(output_.find("PARTIAL SUCCESS (2/3 batches) creating sql incremental model main.daily_clicks"),
            std::string::npos)
      << output_;
  EXPECT_NE(output_.find("batch " + day(1) + " 00:00:00 to " + day(0) + " 00:00:00 failed"), std::string::npos)
      << output_;
  EXPECT_NE(output_.find("SKIP=1 PARTIAL SUCCESS=1 TOTAL=2"), std::string::npos) << output_;
  // The other batches stay committed.
  EXPECT_EQ(built(), (std::vector<std::string>{day(2) + "|2", day(0) + "|3"}));
  Json model = result_of("model.mb.daily_clicks");
  EXPECT_EQ(model["status"], "partial success");
  EXPECT_EQ(model["message"].get<std::string>().rfind("PARTIAL SUCCESS (2/3 batches)\n    batch " + day(1), 0), 0u)
      << model.dump(2);
  EXPECT_EQ(model["batch_results"]["successful"], Json::array({window(2), window(0)})) << model.dump(2);
  EXPECT_EQ(model["batch_results"]["failed"], Json::array({window(1)})) << model.dump(2);
  EXPECT_EQ(result_of("model.mb.clicks_total")["status"], "skipped");

  // Rows arriving for the committed days show whether retry builds them again: it must not.
  add(2, 5);
  add(0, 5);
  EXPECT_EQ(invoke("retry"), 1) << output_;  // still broken: still a partial success, same batches
  EXPECT_NE(output_.find("PARTIAL SUCCESS (2/3 batches)"), std::string::npos) << output_;
  model = result_of("model.mb.daily_clicks");
  EXPECT_EQ(model["status"], "partial success");
  EXPECT_EQ(model["batch_results"]["successful"], Json::array({window(2), window(0)})) << model.dump(2);
  EXPECT_EQ(model["batch_results"]["failed"], Json::array({window(1)})) << model.dump(2);
  EXPECT_EQ(built(), (std::vector<std::string>{day(2) + "|2", day(0) + "|3"}));

  exec("update bronze.clicks set amount = '4' where amount = 'oops'");
  ASSERT_EQ(invoke("retry"), 0) << output_;
  EXPECT_NE(output_.find("MICROBATCH 1 batch "), std::string::npos) << output_;
  EXPECT_EQ(built(), (std::vector<std::string>{day(2) + "|2", day(1) + "|2", day(0) + "|3"}));
  EXPECT_EQ(rows("select total from main.daily_clicks where day = cast('" + day(1) + "' as date)"),
            (std::vector<std::string>{"5"}));
  EXPECT_EQ(rows("select n from main.clicks_total"), (std::vector<std::string>{"7"}));
  model = result_of("model.mb.daily_clicks");
  EXPECT_EQ(model["status"], "success");
  EXPECT_EQ(model["batch_results"]["successful"].size(), 3u) << model.dump(2);
  EXPECT_TRUE(model["batch_results"]["failed"].empty()) << model.dump(2);
  ASSERT_EQ(invoke("retry"), 0) << output_;
  EXPECT_NE(output_.find("Nothing to do"), std::string::npos) << output_;
}

TEST_F(MicrobatchProject, EveryBatchFailingIsAnErrorThatRetryBuildsAgain) {
  testing::write_files(
      project_, {{"models/broken_clicks.sql",
                  "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='day', "
                  "batch_size='day', begin='" + day(2) + "') }}\nselect cast(ts as date) as day, count(*) as n"
                  "{% if var('broken', false) %}, no_such_column{% endif %}\nfrom {{ source('raw', 'clicks') }} "
                  "group by 1\n"}});
  add(2, 1);
  add(0, 2);
  EXPECT_EQ(invoke("run", {"broken_clicks"}, "{broken: true}"), 1) << output_;
  EXPECT_NE(output_.find("all 3 batches failed"), std::string::npos) << output_;
  EXPECT_EQ(output_.find("PARTIAL SUCCESS"), std::string::npos) << output_;
  Json model = result_of("model.mb.broken_clicks");
  EXPECT_EQ(model["status"], "error");
  EXPECT_TRUE(model["batch_results"]["successful"].empty()) << model.dump(2);
  EXPECT_EQ(model["batch_results"]["failed"], Json::array({window(2), window(1), window(0)})) << model.dump(2);
  ASSERT_EQ(invoke("retry", {}, "{broken: false}"), 0) << output_;  // retry's --vars win
  EXPECT_NE(output_.find("MICROBATCH 3 batches"), std::string::npos) << output_;
  EXPECT_EQ(rows("select cast(day as varchar), n from main.broken_clicks order by day"),
            (std::vector<std::string>{day(2) + "|1", day(0) + "|2"}));
}

// concurrent_batches (dbt 1.9) is a known config in a model and in dbt_project.yml: no warning,
// the batches run (in sequence); a value other than a boolean is a located config error.
TEST_F(MicrobatchProject, ConcurrentBatchesParsesWithoutWarnings) {
  std::string project_yml;
  ASSERT_TRUE(read_file(project_ + "/dbt_project.yml", project_yml));
  testing::write_files(project_, {{"dbt_project.yml", project_yml + "    +concurrent_batches: false\n"}});
  add(1, 2);
  InvocationOptions o = options("run");
  o.select = {"daily_clicks"};
  auto lines = std::make_shared<std::string>();
  o.logger.add_sink([lines](LogLevel, std::string_view line) { *lines += std::string(line) + "\n"; });
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_TRUE(lines->empty()) << *lines;
  EXPECT_NE(output_.find("MICROBATCH 3 batches"), std::string::npos) << output_;
  EXPECT_EQ(built(), (std::vector<std::string>{day(1) + "|2"}));
  std::string model_sql;
  ASSERT_TRUE(read_file(project_ + "/models/daily_clicks.sql", model_sql));
  model_sql = replace_all(model_sql, "concurrent_batches=true", "concurrent_batches='sometimes'");
  testing::write_files(project_, {{"models/daily_clicks.sql", model_sql}});
  EXPECT_EQ(invoke("run", {"daily_clicks"}), 1) << output_;
  EXPECT_NE(output_.find("concurrent_batches is \"sometimes\""), std::string::npos) << output_;
}

}  // namespace
}  // namespace strata::transform
