// `strata debug` run as a process: versions and a DuckDB profile (exit 0); a postgres profile
// against a running server (exit 0) and a stopped one (exit 3, host and port named, no password);
// a broken profiles.yml (exit 2, located).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/child_process.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"

namespace strata {
namespace {

using ProcessRun = strata::testing::CommandOutput;

ProcessRun run_strata(const std::string& args, const std::string& env = {}) {
  return strata::testing::run_command(env + " " STRATA_BINARY_DIR "/strata " + args);
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool binary_exists() { return std::filesystem::exists(STRATA_BINARY_DIR "/strata"); }

TEST(DebugCli, PrintsVersionsAndChecksADuckDbProfile) {
  ASSERT_TRUE(binary_exists()) << "build the strata target first";
  testing::TempDir dir;
  write_file(dir.file("dbt_project.yml"), "name: p\nprofile: p\n");
  write_file(dir.file("profiles.yml"),
             "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: .strata/dev.duckdb\n");
  ProcessRun run = run_strata("debug --project-dir " + dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("duckdb v1.4.4"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("libpq 1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("sqlite 3."), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("connection: OK"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file(".strata/dev.duckdb")));

  ProcessRun none = run_strata("debug --project-dir " + dir.path() + "/nowhere", "HOME=" + dir.path() + "/nowhere");
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_NE(none.output.find("profiles.yml: not found"), std::string::npos) << none.output;
}

TEST(DebugCli, BrokenProfileIsALocatedConfigError) {
  ASSERT_TRUE(binary_exists());
  testing::TempDir dir;
  write_file(dir.file("profiles.yml"), "p:\n  target: dev\n  outputs:\n    dev:\n      type: oracle\n");
  ProcessRun run = run_strata("debug --project-dir " + dir.path());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("profiles.yml:5:13: error: unknown target type 'oracle'"), std::string::npos)
      << run.output;
  ProcessRun missing_target = run_strata("debug --project-dir " + dir.path() + " --target prod");
  EXPECT_EQ(missing_target.exit_code, 2) << missing_target.output;
  EXPECT_NE(missing_target.output.find("target 'prod'"), std::string::npos) << missing_target.output;
}

TEST(DebugCli, PostgresProfileRunningThenStoppedServer) {
  ASSERT_TRUE(binary_exists());
  testing::PgCluster pg;  // its own cluster: this test stops it
  testing::TempDir dir;
  write_file(dir.file("profiles.yml"),
             "p:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: " + pg.host() +
                 "\n      port: " + std::to_string(pg.port()) + "\n      user: " + pg.password_user() +
                 "\n      password: \"{{ env_var('STRATA_TEST_PG_PASSWORD') }}\"\n      dbname: postgres\n"
                 "      schema: public\n      connect_timeout: 5\n");
  const std::string env = "STRATA_TEST_PG_PASSWORD='" + pg.password() + "'";
  ProcessRun up = run_strata("debug --project-dir " + dir.path(), env);
  EXPECT_EQ(up.exit_code, 0) << up.output;
  EXPECT_NE(up.output.find("connection: OK"), std::string::npos) << up.output;

  ProcessRun wrong = run_strata("debug --project-dir " + dir.path(), "STRATA_TEST_PG_PASSWORD=not-the-password");
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
  EXPECT_EQ(wrong.output.find("not-the-password"), std::string::npos) << wrong.output;

  pg.stop();
  ProcessRun down = run_strata("debug --project-dir " + dir.path(), env);
  EXPECT_EQ(down.exit_code, 3) << down.output;
  EXPECT_NE(down.output.find(pg.host()), std::string::npos) << down.output;
  EXPECT_NE(down.output.find(std::to_string(pg.port())), std::string::npos) << down.output;
  EXPECT_EQ(down.output.find(pg.password()), std::string::npos) << down.output;
  EXPECT_NE(down.output.find("connection: FAILED"), std::string::npos) << down.output;
}

}  // namespace
}  // namespace strata
