// Executor mode workers in one process on a SQLite file: an Executor whose runner is a
// RemoteRunner, and a Worker with the real ShellRunner on its own connection to the same store (as
// another process has). Results, exit codes, skips, logs and owners cross the store; a claimed
// item without heartbeats fails by the worker timeout and its retry runs on a live worker; queues
// route items; cancelling a run stops queued and running items.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "common/strings.h"
#include "orchestrate/remote_runner.h"
#include "orchestrate/worker.h"
#include "orchestrate_harness.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::new_run;
using testing::parse_spec;

std::string read_text(const std::string& path) {
  std::string text;
  read_file(path, text);
  return text;
}

RunnerMap remote_runners(int64_t worker_timeout, int64_t queued_timeout = 600'000'000) {
  RemoteRunnerOptions options;
  options.poll_interval = 20'000;
  options.worker_timeout = worker_timeout;
  options.queued_timeout = queued_timeout;
  auto remote = std::make_shared<RemoteRunner>(options);
  return RunnerMap{{TaskKind::kShell, remote}, {TaskKind::kSql, remote}};
}

// Starts run r1 of `spec` on the executor and waits for its end, at most 20 s (nullopt then).
std::optional<RunState> run_to_end(Harness& h, Executor& executor, const std::shared_ptr<const PipelineSpec>& spec) {
  EXPECT_TRUE(h.store->ensure_pipeline(spec->name).ok());
  EXPECT_TRUE(h.store->create_run(new_run(spec->name, "r1")).ok());
  EXPECT_TRUE(executor.start_run(spec, new_run(spec->name, "r1")).ok());
  return executor.wait_for(spec->name, "r1", 20000);
}

// A worker serving `queues` on its own connection to the harness's store file (as another process
// has), polling every 20 ms.
class TestWorker : public testing::ServingWorker {
 public:
  TestWorker(Harness& h, std::shared_ptr<const PipelineSpec> spec, std::string id,
             std::vector<std::string> queues = {"default"})
      : ServingWorker(open_store(h), std::move(spec), options(h, std::move(id), std::move(queues))) {}

 private:
  static std::unique_ptr<MetadataStore> open_store(Harness& h) {
    auto store = SqliteStore::open(h.dir.file(".strata/strata.db"));
    EXPECT_TRUE(store.ok());
    return store.ok() ? std::move(store).value() : nullptr;
  }
  static WorkerOptions options(Harness& h, std::string id, std::vector<std::string> queues) {
    WorkerOptions options;
    options.id = std::move(id);
    options.queues = std::move(queues);
    options.poll_interval = 20'000;
    options.heartbeat_interval = 50'000;
    options.log_ship_interval = 20'000;
    options.log_root = h.dir.file(".strata/worker_logs");
    options.project_dir = h.dir.path();
    return options;
  }
};

TEST(WorkerTest, ResultsExitCodesLogsAndOwnersCrossTheStore) {
  auto spec = parse_spec(R"(
tasks:
  - {id: hello, shell: "echo hello from $STRATA_TASK_ID"}
  - {id: skip, shell: "exit 99", depends_on: hello}
  - {id: fail, shell: "echo failing; exit 3", depends_on: hello}
)");
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, remote_runners(10'000'000), clock, h.options(4));
  TestWorker worker(h, spec, "host:1");
  auto ended = run_to_end(h, executor, spec);
  ASSERT_TRUE(ended.has_value()) << "the task still waits for a worker";
  EXPECT_EQ(*ended, RunState::kFailed);
  auto states = h.states("r1");
  EXPECT_EQ(states["hello"].state, TaskState::kSuccess);
  EXPECT_EQ(states["skip"].state, TaskState::kSkipped);
  EXPECT_EQ(states["fail"].state, TaskState::kFailed);
  auto hello = std::move(*h.store->attempts("p", "r1", "hello"))[0];
  EXPECT_EQ(hello.owner, "host:1");
  const std::string log = read_text(hello.log_path);
  EXPECT_NE(log.find("queued for a strata worker on queue 'default'"), std::string::npos) << log;
  EXPECT_NE(log.find("claimed by worker host:1"), std::string::npos) << log;
  EXPECT_NE(log.find("hello from hello"), std::string::npos) << log;
  EXPECT_NE(log.find("finished: success"), std::string::npos) << log;
  // The worker's own copy.
  EXPECT_NE(read_text(task_log_path(h.dir.file(".strata/worker_logs"), "p", "r1", "hello", 1)).find("hello from"),
            std::string::npos);
  auto fail = std::move(*h.store->attempts("p", "r1", "fail"))[0];
  EXPECT_EQ(fail.exit_code, 3);
  EXPECT_EQ(fail.owner, "host:1");
  EXPECT_NE(read_text(fail.log_path).find("failing"), std::string::npos);
  EXPECT_EQ((*h.store->work_item(WorkKey{"p", "r1", "skip", 1}))->state, TaskState::kSkipped);
}

TEST(WorkerTest, AClaimWithoutHeartbeatsFailsAndTheRetryRunsOnALiveWorker) {
  auto spec = parse_spec(R"(
tasks:
  - {id: t, shell: "echo ran", retries: 1, retry_delay: 0}
)");
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, remote_runners(400'000), clock, h.options(2));
  ASSERT_TRUE(h.store->ensure_pipeline("p").ok());
  ASSERT_TRUE(h.store->create_run(new_run("p", "r1")).ok());
  ASSERT_TRUE(executor.start_run(spec, new_run("p", "r1")).ok());
  // A "worker" that claims try 1 and dies at once: it never heartbeats.
  const WorkKey first{"p", "r1", "t", 1};
  bool claimed = false;
  for (int i = 0; i < 200 && !claimed; ++i) {
    auto won = h.store->claim_work(first, "dead:1", now_micros());
    claimed = won.ok() && *won;
    if (!claimed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(claimed);
  TestWorker live(h, spec, "live:2");
  ASSERT_EQ(executor.wait("p", "r1"), RunState::kSuccess);
  auto attempts = std::move(*h.store->attempts("p", "r1", "t"));
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_EQ(attempts[0].owner, "dead:1");
  EXPECT_NE(attempts[0].error.find("worker dead:1 sent no heartbeat"), std::string::npos) << attempts[0].error;
  EXPECT_EQ(attempts[1].owner, "live:2");
  // The dead worker's claim is gone: it could not write a result any more.
  EXPECT_FALSE(*h.store->heartbeat_work(first, "dead:1", now_micros()));
}

TEST(WorkerTest, QueuesRouteItemsAndACancelledRunStopsQueuedAndRunningOnes) {
  auto spec = parse_spec(R"(
tasks:
  - {id: long, shell: "echo started; sleep 30"}
  - {id: elsewhere, shell: "echo never", queue: special}
)");
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, remote_runners(10'000'000), clock, h.options(4));
  TestWorker worker(h, spec, "w:1", {"default"});
  ASSERT_TRUE(h.store->ensure_pipeline("p").ok());
  ASSERT_TRUE(h.store->create_run(new_run("p", "r1")).ok());
  ASSERT_TRUE(executor.start_run(spec, new_run("p", "r1")).ok());
  const WorkKey long_key{"p", "r1", "long", 1};
  const WorkKey elsewhere_key{"p", "r1", "elsewhere", 1};
  bool running = false;
  for (int i = 0; i < 500 && !running; ++i) {
    auto item = h.store->work_item(long_key);
    running = item.ok() && item->has_value() && (*item)->state == TaskState::kRunning;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(running);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ((*h.store->work_item(elsewhere_key))->state, TaskState::kQueued) << "no worker serves special";
  EXPECT_EQ((*h.store->attempts("p", "r1", "long"))[0].owner, "w:1") << "the running attempt names its worker";
  const auto cancelled_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(executor.cancel_run("p", "r1", "cancelled by the test"));
  EXPECT_EQ(executor.wait("p", "r1"), RunState::kFailed);
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(5));
  auto long_item = std::move(*h.store->work_item(long_key));
  EXPECT_EQ(long_item->state, TaskState::kFailed);
  EXPECT_EQ(long_item->worker, "w:1");
  EXPECT_EQ(long_item->error_code, static_cast<int>(ErrorCode::kCancelled)) << long_item->error;
  auto elsewhere = std::move(*h.store->work_item(elsewhere_key));
  EXPECT_EQ(elsewhere->state, TaskState::kFailed);
  EXPECT_EQ(elsewhere->worker, "");
  EXPECT_EQ(elsewhere->error, "cancelled by the test");
}

// No worker serves the task's queue: each try fails once it waited the queued timeout unclaimed
// (Airflow's task_queued_timeout), is retried by the task's policy, and its item is withdrawn, so a
// worker of that queue starting later does not run it.
TEST(WorkerTest, AnItemNoWorkerClaimsFailsAfterTheQueuedTimeoutAndIsRetried) {
  auto spec = parse_spec(R"(
tasks:
  - {id: stranded, shell: "echo never", queue: special, retries: 1, retry_delay: 0}
)");
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, remote_runners(10'000'000, 1'000'000), clock, h.options(4));
  TestWorker worker(h, spec, "w:1", {"default"});
  const auto started = std::chrono::steady_clock::now();
  auto ended = run_to_end(h, executor, spec);
  ASSERT_TRUE(ended.has_value()) << "the task still waits for a worker";
  EXPECT_EQ(*ended, RunState::kFailed);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(h.states("r1")["stranded"].try_number, 2);
  auto attempts = *h.store->attempts("p", "r1", "stranded");
  ASSERT_EQ(attempts.size(), 2u);
  for (const auto& attempt : attempts) {
    EXPECT_EQ(attempt.state, TaskState::kFailed);
    EXPECT_NE(attempt.error.find("no strata worker serving queue 'special' claimed this task within 1 s"),
              std::string::npos)
        << attempt.error;
  }
  TestWorker late(h, spec, "w:2", {"special"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int try_number : {1, 2}) {
    auto item = std::move(*h.store->work_item(WorkKey{"p", "r1", "stranded", try_number}));
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->state, TaskState::kFailed);
    EXPECT_EQ(item->worker, "") << "a withdrawn item was claimed";
  }
}

// The scheduler gave up on an item (it failed it, as a zombie) while the worker still runs it: the
// worker's next heartbeat is refused and it kills the attempt's process.
TEST(WorkerTest, AWorkerThatLostItsClaimStopsTheAttempt) {
  auto spec = parse_spec(R"(
tasks:
  - {id: t, shell: "echo started; sleep 2; touch finished.txt"}
)");
  Harness h;
  TestWorker worker(h, spec, "w:1");
  ASSERT_TRUE(h.store->create_run(new_run("p", "r1")).ok());
  WorkItemRecord item;
  item.key = WorkKey{"p", "r1", "t", 1};
  item.command = spec->tasks[0].command;
  item.enqueued_at = now_micros();
  ASSERT_TRUE(h.store->enqueue_work(item).ok());
  bool running = false;
  for (int i = 0; i < 500 && !running; ++i) {
    auto got = h.store->work_item(item.key);
    running = got.ok() && got->has_value() && (*got)->state == TaskState::kRunning;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(running);
  WorkResult gave_up;
  gave_up.state = TaskState::kFailed;
  gave_up.error = "taken for dead";
  gave_up.at = now_micros();
  ASSERT_TRUE(*h.store->finish_work(item.key, "w:1", gave_up));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_FALSE(std::filesystem::exists(h.dir.file("finished.txt"))) << "the attempt was stopped";
  auto final_item = std::move(*h.store->work_item(item.key));
  EXPECT_EQ(final_item->error, "taken for dead") << "the worker's late result does not overwrite it";
  EXPECT_NE(read_text(task_log_path(h.dir.file(".strata/worker_logs"), "p", "r1", "t", 1)).find("no longer holds"),
            std::string::npos);
}

}  // namespace
}  // namespace strata::orchestrate
