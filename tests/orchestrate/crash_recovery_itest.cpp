// Crash recovery with a real second process: a child process runs the scheduler and executor on the
// same SQLite file and is killed with SIGKILL mid-run; this process then recovers and finishes the run.
// Also: execution_timeout interrupting a long DuckDB query for real.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "orchestrate/scheduler.h"
#include "orchestrate/sql_runner.h"
#include "orchestrate_harness.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::parse_spec;
using testing::shell_runners;

const char* kPipeline = R"(
tasks:
  - {id: first, shell: "true"}
  - {id: long, shell: "sleep 2", depends_on: first, retries: 1, retry_delay: 0}
  - {id: long_no_retry, shell: "sleep 2", depends_on: first}
  - {id: after, shell: "true", depends_on: long}
)";

[[noreturn]] void child_main(const std::string& dir) {
  auto store = SqliteStore::open(dir + "/.strata/strata.db");
  if (!store.ok()) _exit(3);
  SystemClock clock;
  ExecutorOptions options;
  options.log_root = dir + "/.strata/logs";
  options.project_dir = dir;
  options.owner = "child";
  Executor executor(**store, shell_runners(), clock, options);
  Scheduler scheduler(**store, executor, clock, {parse_spec(kPipeline, "p")}, SchedulerOptions{"child", 200'000, 30'000'000});
  scheduler.serve();
  _exit(0);
}

TEST(CrashRecoveryTest, KilledProcessLeavesNoTaskRunning) {
  Harness h;
  RunRecord run = testing::new_run("p", "manual__crash");
  ASSERT_TRUE(h.store->ensure_pipeline("p").ok());
  ASSERT_TRUE(h.store->create_run(run).ok());
  h.store.reset();  // no SQLite handle across fork
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) child_main(h.dir.path());

  auto store = std::move(SqliteStore::open(h.dir.file(".strata/strata.db"))).value();
  // Wait until both long tasks are running in the child.
  bool running = false;
  for (int i = 0; i < 200 && !running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto attempts = store->running_attempts();
    running = attempts.ok() && attempts->size() == 2;
  }
  ASSERT_TRUE(running) << "the child never started the long tasks";
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ((*store->run("p", "manual__crash"))->state, RunState::kRunning);
  EXPECT_EQ((*store->run("p", "manual__crash"))->owner, "child");

  SystemClock clock;
  auto options = h.options();
  options.owner = "parent";
  Executor executor(*store, shell_runners(), clock, options);
  Scheduler scheduler(*store, executor, clock, {parse_spec(kPipeline, "p")}, SchedulerOptions{"parent", 200'000, 30'000'000});
  auto recovered = scheduler.recover();
  ASSERT_TRUE(recovered.ok()) << recovered.error().to_string();
  EXPECT_EQ(*recovered, 1);
  EXPECT_TRUE(store->running_attempts()->empty());
  ASSERT_TRUE(scheduler.tick().ok());
  EXPECT_EQ(executor.wait("p", "manual__crash"), RunState::kFailed);  // long_no_retry had no retries left

  std::map<std::string, TaskInstanceRecord> tis;
  auto stored = store->task_instances("p", "manual__crash");
  ASSERT_TRUE(stored.ok());
  for (const auto& ti : stored.value()) tis[ti.task_id] = ti;
  EXPECT_EQ(tis["first"].state, TaskState::kSuccess);
  EXPECT_EQ(tis["first"].try_number, 1);  // not run again
  EXPECT_EQ(tis["long"].state, TaskState::kSuccess);
  EXPECT_EQ(tis["long"].try_number, 2);
  EXPECT_EQ(tis["long_no_retry"].state, TaskState::kFailed);
  EXPECT_EQ(tis["long_no_retry"].try_number, 1);
  EXPECT_EQ(tis["after"].state, TaskState::kSuccess);
  for (auto& [id, ti] : tis) EXPECT_TRUE(is_finished(ti.state)) << id;
  auto first_try = (*store->attempts("p", "manual__crash", "long"))[0];
  EXPECT_EQ(first_try.state, TaskState::kFailed);
  EXPECT_NE(first_try.error.find("died"), std::string::npos) << first_try.error;
  EXPECT_EQ((*store->run("p", "manual__crash"))->owner, "parent");
}

TEST(DuckDbTimeoutTest, ExecutionTimeoutInterruptsALongQuery) {
  Harness h;
  auto db = warehouse::open_duckdb(":memory:");
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  warehouse::Database* raw = db->get();
  RunnerMap runners{{TaskKind::kSql, std::make_shared<SqlRunner>([raw](const std::string&) {
                       return Result<warehouse::Database*>(raw);
                     })}};
  auto spec = parse_spec(R"(
tasks:
  - id: forever
    sql: "select count(*) from range(1000000000000) a, range(1000) b where a.range * b.range = -1"
    execution_timeout: 1s
)");
  SystemClock clock;
  Executor executor(*h.store, runners, clock, h.options());
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(h.run(executor, spec, testing::new_run("p", "r")), RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - t0;
  EXPECT_LT(elapsed, 15'000'000);
  EXPECT_GE(elapsed, 900'000);
  auto attempt = (*h.store->attempts("p", "r", "forever"))[0];
  EXPECT_NE(attempt.error.find("execution_timeout"), std::string::npos) << attempt.error;
}

}  // namespace
}  // namespace strata::orchestrate
