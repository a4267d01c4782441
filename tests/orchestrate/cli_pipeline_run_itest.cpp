// `strata pipeline run NAME --wait` stopped by SIGINT or SIGTERM: the run is cancelled in order
// (the running attempt recorded failed, the task after it skipped, the run failed, nothing left
// running), the states are printed, and the exit code is 128 + the signal. Drives the real binary
// on a temp project.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "common/strings.h"
#include "orchestrate/sqlite_store.h"
#include "orchestrate_harness.h"
#include "support/temp_dir.h"

extern char** environ;

namespace strata::orchestrate {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";

// Starts `strata pipeline --project-dir DIR run p --wait`, stdout and stderr into DIR/run.out.
pid_t start_run_wait(const std::string& dir) {
  std::string a0 = kStrata, a1 = "pipeline", a2 = "--project-dir", a3 = dir, a4 = "run", a5 = "p", a6 = "--wait";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data(), a6.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (dir + "/run.out").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, kStrata.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// The exit status of `pid` within `seconds`, or -1 (then it is killed).
int wait_exit(pid_t pid, int seconds) {
  int status = 0;
  for (int i = 0; i < seconds * 20; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

TEST(CliPipelineRunTest, WaitStopsInOrderOnSigintAndSigterm) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
    strata::testing::TempDir dir;
    std::filesystem::create_directories(dir.file("pipelines"));
    ASSERT_TRUE(write_file_atomic(dir.file("pipelines/p.yml"), R"(
tasks:
  - {id: long, shell: "echo started; sleep 60", retries: 3, retry_delay: 0}
  - {id: after, shell: "echo after", depends_on: long}
)"));
    const pid_t pid = start_run_wait(dir.path());
    auto store = std::move(SqliteStore::open(dir.file(".strata/strata.db"))).value();
    ASSERT_TRUE(testing::wait_until_running(*store, {"long"})) << "the long task never started";
    ASSERT_EQ(::kill(pid, sig), 0);
    EXPECT_EQ(wait_exit(pid, 15), 128 + sig);
    std::string out;
    read_file(dir.file("run.out"), out);
    EXPECT_NE(out.find("interrupted"), std::string::npos) << out;
    EXPECT_NE(out.find(" failed"), std::string::npos) << out;

    auto runs = store->runs("p", std::nullopt, 10);
    ASSERT_TRUE(runs.ok());
    ASSERT_EQ(runs->size(), 1u);
    EXPECT_EQ((*runs)[0].state, RunState::kFailed);
    EXPECT_GT((*runs)[0].end_at, 0);
    EXPECT_TRUE(store->running_attempts()->empty());
    auto attempts = store->attempts("p", (*runs)[0].run_id, "long");
    ASSERT_TRUE(attempts.ok());
    ASSERT_EQ(attempts->size(), 1u) << "a cancelled attempt is not retried";
    EXPECT_EQ((*attempts)[0].state, TaskState::kFailed);
    EXPECT_NE((*attempts)[0].error.find(sig == SIGINT ? "SIGINT" : "SIGTERM"), std::string::npos)
        << (*attempts)[0].error;
    auto tis = store->task_instances("p", (*runs)[0].run_id);
    ASSERT_TRUE(tis.ok());
    for (const auto& ti : *tis) {
      if (ti.task_id == "long") {
        EXPECT_EQ(ti.state, TaskState::kFailed);
      } else {
        EXPECT_EQ(ti.state, TaskState::kSkipped) << ti.task_id;
      }
    }
  }
}

}  // namespace
}  // namespace strata::orchestrate
