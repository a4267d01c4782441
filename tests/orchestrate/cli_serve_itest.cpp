// `strata serve` killed with SIGKILL mid-run and restarted: the run ends, every task retried or
// failed, none left running. Drives the real binary on a temp project.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/strings.h"
#include "orchestrate/sqlite_store.h"
#include "support/temp_dir.h"

extern char** environ;

namespace strata::orchestrate {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";

std::string run_cli(const std::string& args, int* exit_code = nullptr) {
  std::string out;
  FILE* pipe = ::popen((kStrata + " " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

pid_t start_serve(const std::string& dir) {
  std::string a0 = kStrata, a1 = "serve", a2 = "--project-dir", a3 = dir;
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, (dir + "/serve.err").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, kStrata.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

TEST(CliServeTest, ServeKilledMidRunAndRestarted) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("pipelines"));
  ASSERT_TRUE(write_file_atomic(dir.file("pipelines/p.yml"), R"(
tasks:
  - {id: first, shell: "echo first"}
  - {id: long, shell: "sleep 2", depends_on: first, retries: 1, retry_delay: 0}
  - {id: after, shell: "echo after", depends_on: long}
)"));
  int code = -1;
  std::string queued = run_cli("pipeline --project-dir " + dir.path() + " run p", &code);
  ASSERT_EQ(code, 0) << queued;
  const std::string run_id = queued.substr(0, queued.find(' '));
  ASSERT_TRUE(starts_with(run_id, "manual__")) << queued;

  pid_t serve = start_serve(dir.path());
  auto store = std::move(SqliteStore::open(dir.file(".strata/strata.db"))).value();
  bool running = false;
  for (int i = 0; i < 400 && !running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto attempts = store->running_attempts();
    running = attempts.ok() && attempts->size() == 1 && (*attempts)[0].task_id == "long";
  }
  ASSERT_TRUE(running) << "serve never started the long task";
  ASSERT_EQ(::kill(serve, SIGKILL), 0);
  int status = 0;
  ::waitpid(serve, &status, 0);

  serve = start_serve(dir.path());
  RunState state = RunState::kRunning;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto run = store->run(run_id);
    if (run.ok() && *run && ((*run)->state == RunState::kSuccess || (*run)->state == RunState::kFailed)) {
      state = (*run)->state;
      break;
    }
  }
  ::kill(serve, SIGTERM);
  ::waitpid(serve, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "serve did not stop cleanly on SIGTERM";
  EXPECT_EQ(state, RunState::kSuccess);
  auto tis = store->task_instances(run_id);
  ASSERT_TRUE(tis.ok());
  ASSERT_EQ(tis->size(), 3u);
  for (const auto& ti : *tis) {
    EXPECT_TRUE(is_finished(ti.state)) << ti.task_id;
    if (ti.task_id == "long") {
      EXPECT_EQ(ti.try_number, 2);
    }
    if (ti.task_id == "first") {
      EXPECT_EQ(ti.try_number, 1);
    }
  }
  EXPECT_TRUE(store->running_attempts()->empty());

  std::string runs = run_cli("pipeline --project-dir " + dir.path() + " runs p", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(runs.find(run_id), std::string::npos) << runs;
  std::string log = run_cli("pipeline --project-dir " + dir.path() + " logs " + run_id + " after", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(log.find("after"), std::string::npos) << log;
  std::string bad = run_cli("pipeline --project-dir " + dir.path() + " show nope", &code);
  EXPECT_EQ(code, 2) << bad;
}

}  // namespace
}  // namespace strata::orchestrate
