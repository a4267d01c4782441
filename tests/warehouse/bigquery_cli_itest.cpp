// The built `strata` binary on a `type: bigquery` target, against the in-process fake BigQuery of
// the contract test (bigquery_fake.h): `strata debug` fetches a token and runs `select 1` (exit 0),
// refused credentials exit 3 without secrets, a missing key file is a located error (exit 2), and
// `strata run` builds a model with BigQuery's DDL through the adapter.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "bigquery_fake.h"
#include "support/temp_dir.h"

namespace strata::warehouse {
namespace {

using testing::FakeBigQuery;
using testing::Json;
using testing::TestKey;

struct ProcessRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

ProcessRun run_strata(const std::string& args) {
  const std::string command = "env -u STRATA_BIGQUERY_API_URL -u GOOGLE_APPLICATION_CREDENTIALS " STRATA_BINARY_DIR
                              "/strata " + args + " 2>&1";
  ProcessRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) run.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class BigQueryCli : public ::testing::Test {
 protected:
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

}  // namespace
}  // namespace strata::warehouse
