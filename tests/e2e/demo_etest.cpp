// `strata demo` itself: at a small scale it runs to the end and exits 0; with NOVADRIVE_PG_URL it
// uses that server instead of a throwaway one; Ctrl-C (SIGINT) while it works leaves no PostgreSQL
// server running and removes the throwaway folder.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "cli/demo/erp_sql.h"
#include "cli/demo/process.h"
#include "common/strings.h"
#include "e2e/e2e_support.h"
#include "support/pg_cluster.h"

namespace strata::testing {
namespace {
namespace fs = std::filesystem;

// The throwaway server's folder as the demo prints it ("(data in /tmp/strata-demo-XXXXXX)").
std::string throwaway_root(const std::string& output) {
  std::smatch m;
  static const std::regex kRoot(R"(data in (\S+strata-demo-[A-Za-z0-9]+)\))");
  return std::regex_search(output, m, kRoot) ? m[1].str() : std::string();
}

// Processes whose command line mentions `text` (e.g. a postgres started with -D <root>/data).
int processes_mentioning(const std::string& text) {
  int found = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline;
    if (!read_file(entry.path().string() + "/cmdline", cmdline)) continue;
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(text) != std::string::npos) ++found;
  }
  return found;
}

const std::map<std::string, std::string> kNoSourceUrl = {{"NOVADRIVE_PG_URL", ""}};

TEST(StrataDemo, RunsToTheEndAtASmallScaleAndExitsZero) {
  ProjectCopy project;
  auto run = run_strata({"demo", "--scale", "0.01", "--project", project.dir()}, kNoSourceUrl, project.dir(), 900);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Rows per layer"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Tests:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("0 failed"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("gold.revenue_by_dealership"), std::string::npos) << run.output;
  const std::string root = throwaway_root(run.output);
  ASSERT_FALSE(root.empty()) << run.output;
  EXPECT_FALSE(fs::exists(root)) << root;
  EXPECT_EQ(processes_mentioning(root), 0);
}

TEST(StrataDemo, UsesNovadrivePgUrlInsteadOfAThrowawayServer) {
  auto& pg = shared_pg_cluster();
  const std::string conninfo = pg.create_database("nd_demo_url");
  ProjectCopy project;
  auto run = run_strata({"demo", "--scale", "0.01", "--project", project.dir()},
                        {{"NOVADRIVE_PG_URL", pg.url("nd_demo_url")}}, project.dir(), 900);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Source: NOVADRIVE_PG_URL"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("Starting a throwaway PostgreSQL"), std::string::npos) << run.output;
  EXPECT_TRUE(throwaway_root(run.output).empty()) << run.output;
  EXPECT_NE(run.output.find("0 failed"), std::string::npos) << run.output;
  // The ERP is in the database the user named, and stays there; gold counts every one of its sales.
  const auto sales = pg_rows(conninfo, "SELECT count(*) FROM vendas");
  ASSERT_EQ(sales, std::vector<std::string>{std::to_string(cli::demo::erp_sizes(0.01).vendas)});
  EXPECT_EQ(duck_rows(project.duckdb_path(), "SELECT sum(sales_count) FROM gold.revenue_by_dealership"), sales);
}

TEST(StrataDemo, SigintStopsEverythingAndRemovesTheThrowawayServer) {
  ProjectCopy project;
  TempDir out;
  cli::demo::SpawnOptions options;
  options.env = kNoSourceUrl;
  options.cwd = project.dir();
  options.output_path = out.file("demo.txt");
  // Scale 1: creating the ERP takes seconds, long enough to interrupt it midway.
  auto pid = cli::demo::spawn_process({strata_binary(), "demo", "--scale", "1", "--project", project.dir()}, options);
  ASSERT_TRUE(pid.ok()) << pid.error().to_string();
  std::string output, root;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    read_file(options.output_path, output);
    root = throwaway_root(output);
    if (!root.empty() && output.find("Creating the NovaDrive ERP") != std::string::npos) break;
    if (cli::demo::wait_process_for(*pid, std::chrono::milliseconds(100))) FAIL() << "demo ended early:\n" << output;
  }
  ASSERT_FALSE(root.empty()) << output;
  EXPECT_GT(processes_mentioning(root), 0) << "no server running before the interrupt";
  ::kill(*pid, SIGINT);
  auto code = cli::demo::wait_process_for(*pid, std::chrono::seconds(60));
  if (!code) {
    ::kill(*pid, SIGKILL);
    cli::demo::wait_process(*pid);
  }
  read_file(options.output_path, output);
  ASSERT_TRUE(code.has_value()) << "demo did not stop within 60 s of SIGINT:\n" << output;
  // 128 + SIGINT, as a shell reports Ctrl-C; the message shows the demo stopped in order (it was
  // not killed by the signal).
  EXPECT_EQ(*code, 130) << output;
  EXPECT_NE(output.find("strata demo interrupted; everything it started is stopped"), std::string::npos) << output;
  // The reaper may need a moment after our process is gone.
  for (int i = 0; i < 50 && (fs::exists(root) || processes_mentioning(root) > 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(fs::exists(root)) << root;
  EXPECT_EQ(processes_mentioning(root), 0) << "a postgres process survived the interrupt";
}

}  // namespace
}  // namespace strata::testing
