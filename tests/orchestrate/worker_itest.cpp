// Executor mode workers end to end: a `strata scheduler --executor workers` and `strata worker`
// processes (the real binary) share one PostgreSQL metadata store and one project. Every task runs
// exactly once, on a worker (its attempt names the worker, its shell's parent is the worker);
// a task with `queue: special` runs only on the worker serving that queue; a worker killed with
// SIGKILL mid-task has its attempt failed by the heartbeat timeout and the retry succeeds on the
// other worker; an execution_timeout stops the task on the worker; bad usage exits 2.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/pg_store.h"
#include "orchestrate/scheduler.h"
#include "support/child_process.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"

namespace strata::orchestrate {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";

// A strata child with STRATA_METADATA_URL set; stderr to `err_file`.
pid_t spawn_strata(const std::vector<std::string>& args, const std::string& metadata_url,
                   const std::string& err_file) {
  return strata::testing::spawn_child(kStrata, args, {"STRATA_METADATA_", "STRATA_EXECUTOR"},
                                      {"STRATA_METADATA_URL=" + metadata_url}, err_file);
}

std::string read_text(const std::string& path) {
  std::string text;
  read_file(path, text);
  return text;
}

std::string worker_id(pid_t pid) { return host_name() + ":" + std::to_string(pid); }

bool eventually(const std::function<bool()>& pred, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
    auto& pg = strata::testing::shared_pg_cluster();
    static int counter = 0;
    const std::string db = "workers_" + std::to_string(++counter);
    pg.create_database(db);
    pg.execute("GRANT ALL ON DATABASE " + db + " TO " + pg.password_user());
    url_ = pg.password_url(db);
    std::filesystem::create_directories(dir_.file("pipelines"));
    auto store = PgStore::open(PgStoreOptions{url_, "strata_meta", nullptr});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  pid_t scheduler(double worker_timeout) {
    return started(spawn_strata({"scheduler", "--project-dir", dir_.path(), "--executor", "workers",
                                 "--worker-timeout", std::to_string(worker_timeout)},
                                url_, dir_.file("scheduler.err")));
  }
  pid_t worker(const std::string& name, const std::string& queues) {
    return started(spawn_strata({"worker", "--project-dir", dir_.path(), "--queues", queues, "--concurrency", "3",
                                 "--heartbeat-interval", "0.3", "--poll-interval", "0.1"},
                                url_, dir_.file(name + ".err")));
  }
  pid_t started(pid_t pid) {
    children_.push_back(pid);
    return pid;
  }
  // SIGTERM and wait; true when it exited 0.
  bool stop(pid_t pid) {
    std::erase(children_, pid);
    return strata::testing::stop_child(pid);
  }
  std::string logs() const {
    std::string out;
    for (const char* name : {"scheduler", "a", "b"})
      out += std::string("--- ") + name + ":\n" + read_text(dir_.file(std::string(name) + ".err"));
    return out;
  }

  // A queued manual run of a pipeline.
  std::string queue_run(const std::string& pipeline) {
    const int64_t now = now_micros();
    const std::string run_id = "manual__" + std::to_string(now);
    RunRecord run{run_id, pipeline, RunType::kManual, RunState::kQueued, now, now, now, "{}", now, 0, 0, "", ""};
    EXPECT_TRUE(store_->create_run(run).ok());
    return run_id;
  }
  // Waits for the run's end; its state (running on timeout).
  RunState wait_run(const std::string& pipeline, const std::string& run_id, int seconds) {
    RunState state = RunState::kRunning;
    eventually(
        [&] {
          auto run = store_->run(pipeline, run_id);
          if (run.ok() && run->has_value()) state = (*run)->state;
          return state == RunState::kSuccess || state == RunState::kFailed;
        },
        seconds);
    return state;
  }

  strata::testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<PgStore> store_;
  std::vector<pid_t> children_;
};

TEST_F(WorkerTest, EveryTaskRunsOnceOnAWorkerAndQueuesRouteTasks) {
  const std::string out = dir_.file("executed.txt");
  // Each task writes its id and its shell's parent: the process that ran it.
  const std::string line = "echo \\\"$STRATA_TASK_ID $PPID\\\" >> " + out + "; sleep 0.3";
  std::string yaml = "tasks:\n";
  for (int i = 1; i <= 6; ++i)
    yaml += "  - {id: t" + std::to_string(i) + ", shell: \"" + line + "\"" + (i > 3 ? ", depends_on: t1" : "") + "}\n";
  yaml += "  - {id: special, shell: \"" + line + "\", queue: special, depends_on: [t2, t3]}\n";
  ASSERT_TRUE(write_file_atomic(dir_.file("pipelines/p.yml"), yaml));
  const pid_t sched = scheduler(30);
  const pid_t a = worker("a", "default");
  const pid_t b = worker("b", "default,special");
  const std::string run_id = queue_run("p");
  ASSERT_EQ(wait_run("p", run_id, 90), RunState::kSuccess) << logs();

  const std::set<std::string> workers = {worker_id(a), worker_id(b)};
  const std::set<std::string> worker_pids = {std::to_string(a), std::to_string(b)};
  std::map<std::string, std::string> ran_by;  // task -> the pid its shell's parent had
  for (const auto& text : split(read_text(out), '\n')) {
    if (text.empty()) continue;
    auto parts = split(text, ' ');
    ASSERT_EQ(parts.size(), 2u) << text;
    EXPECT_TRUE(ran_by.emplace(parts[0], parts[1]).second) << parts[0] << " ran twice";
    EXPECT_TRUE(worker_pids.count(parts[1])) << parts[0] << " ran in process " << parts[1] << ", not on a worker";
  }
  EXPECT_EQ(ran_by.size(), 7u);
  for (const auto& task : {"t1", "t2", "t3", "t4", "t5", "t6", "special"}) {
    auto attempts = std::move(store_->attempts("p", run_id, task)).value();
    ASSERT_EQ(attempts.size(), 1u) << task;
    EXPECT_EQ(attempts[0].state, TaskState::kSuccess) << task;
    EXPECT_TRUE(workers.count(attempts[0].owner)) << task << " owner " << attempts[0].owner;
    EXPECT_EQ(attempts[0].owner, worker_id(std::stoi(ran_by[task]))) << task;
    // The scheduler's copy of the log holds the worker's lines.
    const std::string log = read_text(attempts[0].log_path);
    EXPECT_NE(log.find("claimed by worker " + attempts[0].owner), std::string::npos) << log;
    EXPECT_NE(log.find("worker finished: success"), std::string::npos) << log;
  }
  EXPECT_EQ(ran_by["special"], std::to_string(b)) << "only b serves the queue special";
  EXPECT_TRUE(stop(a)) << logs();
  EXPECT_TRUE(stop(b)) << logs();
  EXPECT_TRUE(stop(sched)) << logs();
  EXPECT_NE(read_text(dir_.file("scheduler.err")).find("executor: workers"), std::string::npos) << logs();
}

TEST_F(WorkerTest, AKilledWorkersAttemptFailsByHeartbeatAndTheRetryRunsOnTheOther) {
  ASSERT_TRUE(write_file_atomic(
      dir_.file("pipelines/p.yml"),
      "tasks:\n  - {id: slow, shell: \"echo started; sleep 4\", retries: 1, retry_delay: 0}\n"));
  scheduler(2);
  const pid_t a = worker("a", "default");
  const std::string run_id = queue_run("p");
  const WorkKey first{"p", run_id, "slow", 1};
  ASSERT_TRUE(eventually(
      [&] {
        auto item = store_->work_item(first);
        auto log = store_->work_log(first, 0);
        std::string text;
        if (log.ok())
          for (const auto& [seq, chunk] : *log) text += chunk;
        return item.ok() && item->has_value() && (*item)->state == TaskState::kRunning &&
               text.find("started") != std::string::npos;
      },
      30))
      << logs();
  ASSERT_EQ(::kill(a, SIGKILL), 0);
  std::erase(children_, a);
  ::waitpid(a, nullptr, 0);
  const pid_t b = worker("b", "default");
  ASSERT_EQ(wait_run("p", run_id, 60), RunState::kSuccess) << logs();
  auto attempts = std::move(store_->attempts("p", run_id, "slow")).value();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_NE(attempts[0].error.find("no heartbeat"), std::string::npos) << attempts[0].error;
  EXPECT_EQ(attempts[0].owner, worker_id(a));
  EXPECT_EQ(attempts[1].state, TaskState::kSuccess);
  EXPECT_EQ(attempts[1].owner, worker_id(b));
  EXPECT_EQ((*store_->work_item(first))->state, TaskState::kFailed);
  // The killed worker's lines shipped before it died are in the scheduler's log of try 1.
  EXPECT_NE(read_text(attempts[0].log_path).find("started"), std::string::npos) << read_text(attempts[0].log_path);
}

// SIGTERM: the worker stops claiming, cancels the attempt it runs (failed, so retried by the
// scheduler's policy) and exits 0; the retry runs on the other worker.
TEST_F(WorkerTest, AStoppedWorkerFailsItsAttemptAndExitsZero) {
  ASSERT_TRUE(write_file_atomic(
      dir_.file("pipelines/p.yml"),
      "tasks:\n  - {id: t, shell: \"echo try $STRATA_TRY_NUMBER; if [ $STRATA_TRY_NUMBER = 1 ]; then sleep 30; fi\", "
      "retries: 1, retry_delay: 0}\n"));
  scheduler(30);
  const pid_t a = worker("a", "default");
  const std::string run_id = queue_run("p");
  ASSERT_TRUE(eventually(
      [&] {
        auto item = store_->work_item(WorkKey{"p", run_id, "t", 1});
        return item.ok() && item->has_value() && (*item)->state == TaskState::kRunning;
      },
      30))
      << logs();
  const auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_TRUE(stop(a)) << logs();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::seconds(10));
  const pid_t b = worker("b", "default");
  ASSERT_EQ(wait_run("p", run_id, 60), RunState::kSuccess) << logs();
  auto attempts = std::move(store_->attempts("p", run_id, "t")).value();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_NE(attempts[0].error.find("shutting down"), std::string::npos) << attempts[0].error;
  EXPECT_EQ(attempts[0].owner, worker_id(a));
  EXPECT_EQ(attempts[1].owner, worker_id(b));
}

TEST_F(WorkerTest, AnExecutionTimeoutStopsTheTaskOnTheWorker) {
  const std::string marker = dir_.file("finished.txt");
  ASSERT_TRUE(write_file_atomic(dir_.file("pipelines/p.yml"),
                                "tasks:\n  - {id: long, shell: \"sleep 20; touch " + marker +
                                    "\", execution_timeout: 1s}\n"));
  scheduler(30);
  worker("a", "default");
  const auto started = std::chrono::steady_clock::now();
  const std::string run_id = queue_run("p");
  ASSERT_EQ(wait_run("p", run_id, 60), RunState::kFailed) << logs();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
  auto attempts = std::move(store_->attempts("p", run_id, "long")).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  auto got = store_->work_item(WorkKey{"p", run_id, "long", 1});
  ASSERT_TRUE(got.ok() && got->has_value());
  const WorkItemRecord item = **got;
  EXPECT_EQ(item.state, TaskState::kFailed);
  EXPECT_TRUE(item.cancel_requested);
  EXPECT_EQ(item.error_code, static_cast<int>(ErrorCode::kCancelled)) << item.error;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the task's process group was killed";
}

// A sensor that times out on a worker fails for good there too: the final failure crosses the work
// queue (kFinalErrorBit), so the scheduler does not retry it.
TEST_F(WorkerTest, ASensorsTimeoutOnAWorkerIsNotRetried) {
  ASSERT_TRUE(write_file_atomic(dir_.file("pipelines/p.yml"),
                                "tasks:\n  - id: wait\n    sensor: {file: never.flag, poke_interval: 200ms, timeout: 1s}\n"
                                "    retries: 2\n    retry_delay: 0s\n"));
  scheduler(30);
  worker("a", "default");
  const std::string run_id = queue_run("p");
  ASSERT_EQ(wait_run("p", run_id, 60), RunState::kFailed) << logs();
  auto attempts = std::move(store_->attempts("p", run_id, "wait")).value();
  ASSERT_EQ(attempts.size(), 1u) << logs();
  EXPECT_NE(attempts[0].error.find("sensor timed out after"), std::string::npos) << attempts[0].error;
  auto got = store_->work_item(WorkKey{"p", run_id, "wait", 1});
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->error_code, static_cast<int>(ErrorCode::kFailed) | kFinalErrorBit) << (*got)->error;
}

// A sensor in reschedule mode on a worker: each poke is a work item of the same try; between them
// the instance is up_for_reschedule; the file created meanwhile meets it.
TEST_F(WorkerTest, ARescheduledSensorPokesThroughWorkersInOneTry) {
  ASSERT_TRUE(write_file_atomic(dir_.file("pipelines/p.yml"),
                                "tasks:\n  - id: wait\n    sensor: {file: later.flag, poke_interval: 200ms, timeout: 30s, "
                                "mode: reschedule}\n"));
  scheduler(30);
  worker("a", "default");
  const std::string run_id = queue_run("p");
  bool rescheduled = false;
  for (int i = 0; i < 400 && !rescheduled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    auto tis = store_->task_instances("p", run_id);
    if (tis.ok())
      for (const auto& ti : *tis) rescheduled = rescheduled || ti.state == TaskState::kUpForReschedule;
  }
  EXPECT_TRUE(rescheduled) << logs();
  ASSERT_TRUE(write_file_atomic(dir_.file("later.flag"), "ok"));
  ASSERT_EQ(wait_run("p", run_id, 60), RunState::kSuccess) << logs();
  auto attempts = std::move(store_->attempts("p", run_id, "wait")).value();
  ASSERT_EQ(attempts.size(), 1u) << logs();
  EXPECT_EQ(attempts[0].state, TaskState::kSuccess);
  EXPECT_EQ(attempts[0].try_number, 1);
}

// A shell command line's output (stdout + stderr) and exit code.
std::string run_shell(const std::string& command, int& exit_code) {
  strata::testing::CommandOutput run = strata::testing::run_command(command);
  exit_code = run.exit_code;
  return run.output;
}

TEST(WorkerUsageTest, BadUsageExitsTwoWithAClearMessage) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("pipelines"));
  const std::string strata = "env -u STRATA_METADATA_URL -u STRATA_EXECUTOR " + kStrata;
  int code = -1;
  std::string out = run_shell(strata + " worker --bogus", code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--bogus"), std::string::npos) << out;
  out = run_shell(strata + " worker --concurrency 0 --project-dir " + dir.path(), code);
  EXPECT_EQ(code, 2) << out;
  out = run_shell(strata + " worker --project-dir " + dir.path(), code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("STRATA_METADATA_URL"), std::string::npos) << out;
  out = run_shell(strata + " scheduler --executor nope --project-dir " + dir.path(), code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("unknown executor 'nope'"), std::string::npos) << out;
  out = run_shell(strata + " scheduler --executor workers --project-dir " + dir.path(), code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("PostgreSQL metadata store"), std::string::npos) << out;
  out = run_shell("env -u STRATA_METADATA_URL STRATA_EXECUTOR=workers " + kStrata + " serve --project-dir " +
                      dir.path(),
                  code);
  EXPECT_EQ(code, 2) << out;
}

}  // namespace
}  // namespace strata::orchestrate
