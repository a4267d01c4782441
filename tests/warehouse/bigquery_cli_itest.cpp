// The built `strata` binary on a `type: bigquery` target, against the in-process fake BigQuery of
// the contract test (bigquery_fake.h): `strata debug` fetches a token and runs `select 1` (exit 0),
// refused credentials exit 3 without secrets, a missing key file is a located error (exit 2), and
// `strata run` builds a model with BigQuery's DDL through the adapter, with dbt-bigquery's table
// configs (partition_by, cluster_by, labels, require_partition_filter, partition_expiration_days)
// as clauses of its DDL, and a bad config fails its model with a located error before any DDL.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bigquery_fake.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace strata::warehouse {
namespace {

using testing::FakeBigQuery;
using testing::Json;
using testing::TestKey;

using ProcessRun = strata::testing::CommandOutput;

ProcessRun run_strata(const std::string& args) {
  return strata::testing::run_command(
      "env -u STRATA_BIGQUERY_API_URL -u GOOGLE_APPLICATION_CREDENTIALS " STRATA_BINARY_DIR "/strata " + args);
}

class BigQueryCli : public ::testing::Test {
 protected:
  // The SQL of every query and job the fake received, in order.
  std::vector<std::string> sent_sql() const {
    std::vector<std::string> out;
    for (const auto& seen : fake_->requests()) {
      if (!seen.json.is_object()) continue;
      if (seen.json.contains("query") && seen.json["query"].is_string()) out.push_back(seen.json["query"]);
      const Json job_query = seen.json.value("configuration", Json::object()).value("query", Json::object());
      if (job_query.contains("query")) out.push_back(job_query["query"]);
    }
    return out;
  }
  // The statement sent that starts with `prefix` (empty when none was).
  std::string sent_starting(const std::string& prefix) const {
    for (const auto& sql : sent_sql())
      if (sql.rfind(prefix, 0) == 0) return sql;
    return "";
  }

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(STRATA_BINARY_DIR "/strata")) << "build the strata target first";
    key_ = TestKey::generate();
    fake_ = std::make_unique<FakeBigQuery>(key_.public_pem);
    const Json key = {{"type", "service_account"},    {"private_key_id", "kid-1"},
                      {"private_key", key_.private_pem}, {"client_email", "cli@strata-test.iam.gserviceaccount.com"},
                      {"token_uri", fake_->token_uri()}};
    std::ofstream(dir_.file("key.json")) << key.dump();
    std::ofstream(dir_.file("dbt_project.yml")) << "name: p\nprofile: p\nversion: '1.0'\nmodel-paths: [models]\n";
    std::filesystem::create_directories(dir_.file("models"));
    std::ofstream(dir_.file("models/m.sql")) << "{{ config(materialized='table') }}\nselect 1 as x\n";
    std::ofstream(dir_.file("profiles.yml"))
        << "p:\n  target: bq\n  outputs:\n    bq:\n      type: bigquery\n      method: service-account\n"
           "      keyfile: key.json\n      project: strata-test\n      dataset: analytics\n      location: EU\n"
           "      api_endpoint: " << fake_->root() << "\n";
  }

  strata::testing::TempDir dir_;
  TestKey key_;
  std::unique_ptr<FakeBigQuery> fake_;
};

TEST_F(BigQueryCli, DebugChecksTheConnection) {
  ProcessRun run = run_strata("debug --project-dir " + dir_.path());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("target: bigquery target bq (project strata-test, dataset analytics)"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("connection: OK"), std::string::npos) << run.output;
  EXPECT_TRUE(fake_->saw_query("select 1"));
  EXPECT_EQ(fake_->jwt_claims().size(), 1u);
}

TEST_F(BigQueryCli, RefusedCredentialsExit3WithoutSecrets) {
  fake_->reject_tokens = true;
  ProcessRun run = run_strata("debug --project-dir " + dir_.path());
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("invalid_grant"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("PRIVATE KEY"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("eyJ"), std::string::npos) << run.output;  // the echoed JWT is masked
}

TEST_F(BigQueryCli, MissingKeyFileIsALocatedConfigError) {
  std::filesystem::remove(dir_.file("key.json"));
  ProcessRun run = run_strata("debug --project-dir " + dir_.path());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("profiles.yml:5:7"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("key.json does not exist"), std::string::npos) << run.output;
}

TEST_F(BigQueryCli, RunBuildsAModelWithBigQueryDdl) {
  ProcessRun run = run_strata("run --project-dir " + dir_.path() + " --profiles-dir " + dir_.path());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  bool created = false;
  for (const auto& seen : fake_->requests_to("/projects/strata-test/jobs")) {
    if (!seen.json.is_object()) continue;
    const std::string sql = seen.json["configuration"]["query"].value("query", std::string());
    if (sql.find("create or replace table `strata-test`.`analytics`.`m`") != std::string::npos) created = true;
  }
  EXPECT_TRUE(created) << run.output;
}

TEST_F(BigQueryCli, TableConfigsBecomeClausesOfTheDdl) {
  // (The config() line of each model renders as an empty line of its query.)
  std::ofstream(dir_.file("models/events.sql"))
      << "{{ config(materialized='table', partition_by={'field': 'created_at', 'data_type': 'timestamp',"
         " 'granularity': 'hour'}, cluster_by=['customer_id', 'status'], labels={'team': 'analytics'},"
         " require_partition_filter=true, partition_expiration_days=7) }}\nselect 1 as x\n";
  std::ofstream(dir_.file("models/ranged.sql"))
      << "{{ config(materialized='incremental', unique_key='id', cluster_by='id') }}\nselect 1 as id\n";
  std::ofstream(dir_.file("models/schema.yml"))
      << "version: 2\nmodels:\n  - name: ranged\n    config:\n"
         "      partition_by: {field: id, data_type: int64, range: {start: 0, end: 1000, interval: 10}}\n";
  ProcessRun run = run_strata("run --project-dir " + dir_.path() + " --profiles-dir " + dir_.path());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(sent_starting("create or replace table `strata-test`.`analytics`.`events`"),
            "create or replace table `strata-test`.`analytics`.`events`\n"
            "partition by timestamp_trunc(created_at, hour)\ncluster by customer_id, status\n"
            "options(labels=[('team', 'analytics')], require_partition_filter=true, partition_expiration_days=7) as (\n"
            "\nselect 1 as x\n)")
      << run.output;
  // An incremental model's first build: a table of its rows, partitioned by an integer range.
  EXPECT_EQ(sent_starting("create or replace table `strata-test`.`analytics`.`ranged`"),
            "create or replace table `strata-test`.`analytics`.`ranged`\n"
            "partition by range_bucket(id, generate_array(0, 1000, 10))\ncluster by id as (\n\nselect 1 as id\n)")
      << run.output;
  // A model without them keeps the plain DDL.
  EXPECT_FALSE(sent_starting("create or replace table `strata-test`.`analytics`.`m` as (\n").empty()) << run.output;
}

TEST_F(BigQueryCli, BadTableConfigsFailTheirModelWithALocatedErrorBeforeAnyDdl) {
  std::ofstream(dir_.file("models/bad.sql"))
      << "{{ config(materialized='table', partition_by={'field': 'created_at', 'data_type': 'string'}) }}\n"
         "select 1 as x\n";
  std::ofstream(dir_.file("models/bad_labels.sql"))
      << "{{ config(materialized='incremental', labels={'Team': 'x'}) }}\nselect 1 as x\n";
  ProcessRun run = run_strata("run --project-dir " + dir_.path() + " --profiles-dir " + dir_.path());
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("models/bad.sql:1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("config `partition_by` has data_type 'string', which BigQuery cannot partition by"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("models/bad_labels.sql:1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("config `labels` has the key 'Team', which BigQuery does not allow"), std::string::npos)
      << run.output;
  for (const auto& sql : sent_sql()) {
    EXPECT_EQ(sql.find("`bad`"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("`bad_labels"), std::string::npos) << sql;
  }
  // The good model still builds.
  EXPECT_FALSE(sent_starting("create or replace table `strata-test`.`analytics`.`m`").empty()) << run.output;
}

// insert_overwrite on an incremental model whose table exists (the fake's `orders`): its new rows
// are staged, the partitions they touch deleted (or those the `partitions` config lists), and the
// rows inserted; without a partition_by it fails before any DDL.
TEST_F(BigQueryCli, InsertOverwriteReplacesThePartitionsOfTheNewRows) {
  const std::string head =
      "{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by={'field': 'at', "
      "'data_type': 'timestamp'}";
  std::ofstream(dir_.file("models/orders.sql")) << head << ") }}\nselect 1 as id, current_timestamp() as at\n";
  const std::string args = "run --select orders --project-dir " + dir_.path() + " --profiles-dir " + dir_.path();
  ProcessRun run = run_strata(args);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_FALSE(sent_starting("create or replace table `strata-test`.`analytics`.`orders__dbt_tmp` as (").empty());
  EXPECT_EQ(sent_starting("delete from `strata-test`.`analytics`.`orders`"),
            "delete from `strata-test`.`analytics`.`orders` where timestamp_trunc(at, day) in (select distinct "
            "timestamp_trunc(at, day) from `strata-test`.`analytics`.`orders__dbt_tmp`)")
      << run.output;
  EXPECT_FALSE(sent_starting("insert into `strata-test`.`analytics`.`orders` (").empty()) << run.output;
  EXPECT_TRUE(sent_starting("create or replace table `strata-test`.`analytics`.`orders`\n").empty());
  EXPECT_NE(run.output.find("INSERT OVERWRITE"), std::string::npos) << run.output;

  // Static partitions: the ones listed.
  std::ofstream(dir_.file("models/orders.sql"))
      << head << ", partitions=[\"timestamp('2024-01-01')\", \"timestamp('2024-01-02')\"]) }}\nselect 1 as id\n";
  const size_t sent_before = sent_sql().size();
  run = run_strata(args);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::vector<std::string> sent = sent_sql();
  sent.erase(sent.begin(), sent.begin() + static_cast<std::ptrdiff_t>(sent_before));
  EXPECT_NE(std::find(sent.begin(), sent.end(),
                      "delete from `strata-test`.`analytics`.`orders` where timestamp_trunc(at, day) in "
                      "(timestamp('2024-01-01'), timestamp('2024-01-02'))"),
            sent.end())
      << run.output;

  // No partition_by: a located error, and nothing staged.
  std::ofstream(dir_.file("models/orders.sql"))
      << "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}\nselect 1 as id\n";
  const size_t sent_before_error = sent_sql().size();
  run = run_strata(args);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("models/orders.sql:1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("incremental_strategy 'insert_overwrite' needs a partition_by"), std::string::npos)
      << run.output;
  sent = sent_sql();
  for (size_t i = sent_before_error; i < sent.size(); ++i) EXPECT_EQ(sent[i].find("orders__dbt_tmp"), std::string::npos);
}

}  // namespace
}  // namespace strata::warehouse
