// Work watches on the PostgreSQL metadata store (LISTEN/NOTIFY): a scheduler's RemoteRunner and a
// worker, each on its own connection to a real PostgreSQL, with every poll interval at 5 s. The
// watch must carry each hop: a chain of tasks ends in well under one poll interval per task, a
// cancel reaches the worker long before its next heartbeat, and a watch whose connection is
// killed reconnects, reports that it may have missed signals, and delivers the later ones.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "orchestrate/pg_store.h"
#include "orchestrate/remote_runner.h"
#include "orchestrate_harness.h"
#include "support/pg_cluster.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::new_run;
using testing::parse_spec;

constexpr int64_t kSlowPoll = 5'000'000;

class WorkWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& pg = strata::testing::shared_pg_cluster();
    static int counter = 0;
    const std::string db = "work_watch_" + std::to_string(++counter);
    pg.create_database(db);
    url_ = pg.url(db);
    store_ = open_store();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<PgStore> open_store() {
    auto store = PgStore::open(PgStoreOptions{url_, "strata_meta", nullptr});
    EXPECT_TRUE(store.ok()) << store.error().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // A worker on its own store connection whose polls and heartbeats are all 5 s or more apart.
  std::unique_ptr<testing::ServingWorker> slow_worker(std::shared_ptr<const PipelineSpec> spec) {
    WorkerOptions options;
    options.id = "w:1";
    options.poll_interval = options.watched_poll_interval = kSlowPoll;
    options.heartbeat_interval = 10'000'000;
    options.log_root = h_.dir.file(".strata/worker_logs");
    options.project_dir = h_.dir.path();
    return std::make_unique<testing::ServingWorker>(open_store(), std::move(spec), options);
  }

  // An executor on store_ (`threads` tasks at once) whose RemoteRunner looks at its items every
  // 5 s unless signalled.
  std::unique_ptr<Executor> slow_executor(int threads = 4) {
    RemoteRunnerOptions options;
    options.poll_interval = options.watched_poll_interval = kSlowPoll;
    auto remote = std::make_shared<RemoteRunner>(options);
    return std::make_unique<Executor>(*store_, RunnerMap{{TaskKind::kShell, remote}}, clock_, h_.options(threads));
  }

  Status start(Executor& executor, const std::shared_ptr<const PipelineSpec>& spec) {
    STRATA_TRY(store_->ensure_pipeline(spec->name));
    STRATA_TRY(store_->create_run(new_run(spec->name, "r1")));
    return executor.start_run(spec, new_run(spec->name, "r1"));
  }

  Harness h_;  // the temp folder and logs (its SQLite store is not used)
  SystemClock clock_;
  std::string url_;
  std::unique_ptr<PgStore> store_;
};

TEST_F(WorkWatchTest, AChainOnAWorkerMovesOnSignalsNotPolls) {
  std::string yaml = "tasks:\n  - {id: t1, shell: \"true\"}\n";
  for (int i = 2; i <= 6; ++i)
    yaml += "  - {id: t" + std::to_string(i) + ", shell: \"true\", depends_on: t" + std::to_string(i - 1) + "}\n";
  auto spec = parse_spec(yaml);
  auto executor = slow_executor();
  auto worker = slow_worker(spec);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(start(*executor, spec).ok());
  auto ended = executor->wait_for("p", "r1", 20000);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(ended.has_value()) << "the chain still runs after 20 s";
  EXPECT_EQ(*ended, RunState::kSuccess);
  // Polling alone needs up to 5 s per task at each end: about 30 s or more for six.
  EXPECT_LT(seconds, 4.0) << "six tasks, each handed over by the watch";
  for (int i = 1; i <= 6; ++i) {
    auto attempts = std::move(store_->attempts("p", "r1", "t" + std::to_string(i))).value();
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].owner, "w:1");
  }
}

TEST_F(WorkWatchTest, AWorkersBacklogDrainsAsSlotsFreeUp) {
  // Nine tasks queued at once for a worker of four slots: three waves, each as slots free up.
  std::string yaml = "tasks:\n";
  for (int i = 1; i <= 9; ++i) yaml += "  - {id: t" + std::to_string(i) + ", shell: \"sleep 0.2\"}\n";
  auto spec = parse_spec(yaml);
  auto executor = slow_executor(9);
  auto worker = slow_worker(spec);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(start(*executor, spec).ok());
  auto ended = executor->wait_for("p", "r1", 20000);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(*ended, RunState::kSuccess);
  // Waiting for the 5 s poll between waves takes 10 s or more.
  EXPECT_LT(seconds, 4.0);
}

TEST_F(WorkWatchTest, ACancelReachesTheWorkerBeforeItsNextHeartbeat) {
  auto spec = parse_spec("tasks:\n  - {id: long, shell: \"echo started; sleep 30\"}\n");
  auto executor = slow_executor();
  auto worker = slow_worker(spec);
  ASSERT_TRUE(start(*executor, spec).ok());
  const WorkKey key{"p", "r1", "long", 1};
  bool running = false;
  for (int i = 0; i < 200 && !running; ++i) {
    auto item = store_->work_item(key);
    running = item.ok() && item->has_value() && (*item)->state == TaskState::kRunning;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(running);
  const auto cancelled_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(executor->cancel_run("p", "r1", "cancelled by the test"));
  EXPECT_EQ(executor->wait("p", "r1"), RunState::kFailed);
  // The worker heartbeats every 10 s; without the signal it learns of the cancel then.
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(3));
  auto item = std::move(*store_->work_item(key));
  EXPECT_EQ(item->state, TaskState::kFailed);
  EXPECT_EQ(item->worker, "w:1");
  EXPECT_EQ(item->error_code, static_cast<int>(ErrorCode::kCancelled)) << item->error;
}

// Collects a watch's signals.
struct Signals {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<WorkSignal> got;

  void add(const WorkSignal& signal) {
    {
      std::lock_guard lock(mutex);
      got.push_back(signal);
    }
    cv.notify_all();
  }
  // Waits up to `seconds` for a signal of `kind`; true when one came (and forgets those before).
  bool wait_for(WorkSignal::Kind kind, int seconds, WorkSignal* out = nullptr) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(seconds), [&] {
      for (size_t i = 0; i < got.size(); ++i)
        if (got[i].kind == kind) {
          if (out) *out = got[i];
          got.erase(got.begin(), got.begin() + static_cast<long>(i) + 1);
          return true;
        }
      return false;
    });
  }
};

TEST_F(WorkWatchTest, AWatchReportsEachChangeAndSurvivesLosingItsConnection) {
  Signals signals;
  auto watch = store_->watch_work([&](const WorkSignal& s) { signals.add(s); });
  ASSERT_TRUE(watch.ok()) << watch.error().to_string();
  ASSERT_NE(*watch, nullptr);
  auto writer = open_store();  // another process's connection
  WorkItemRecord item;
  item.key = WorkKey{"p", "r 1", "t\"1", 2};
  item.queue = "spécial";
  ASSERT_TRUE(writer->enqueue_work(item).ok());
  WorkSignal signal;
  ASSERT_TRUE(signals.wait_for(WorkSignal::Kind::kQueued, 5, &signal));
  EXPECT_EQ(signal.queue, "spécial");
  ASSERT_TRUE(*writer->claim_work(item.key, "w:9", 1));
  ASSERT_TRUE(signals.wait_for(WorkSignal::Kind::kChanged, 5, &signal));
  EXPECT_TRUE(signal.key == item.key) << signal.key.task_id << " try " << signal.key.try_number;
  ASSERT_TRUE(writer->request_cancel_work(item.key, "stop", 2).ok());
  ASSERT_TRUE(signals.wait_for(WorkSignal::Kind::kCancel, 5, &signal));
  EXPECT_TRUE(signal.key == item.key);

  // The watch's backend is killed: it reconnects and says it may have missed signals.
  strata::testing::shared_pg_cluster().execute(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'strata-metadata-watch'");
  ASSERT_TRUE(signals.wait_for(WorkSignal::Kind::kMissed, 10)) << "no reconnection reported";
  item.key.try_number = 3;
  ASSERT_TRUE(writer->enqueue_work(item).ok());
  ASSERT_TRUE(signals.wait_for(WorkSignal::Kind::kQueued, 5)) << "no signal after the reconnection";

  // Another schema's store is another channel: its changes are not this watch's.
  auto other = PgStore::open(PgStoreOptions{url_, "other_meta", nullptr});
  ASSERT_TRUE(other.ok()) << other.error().to_string();
  ASSERT_TRUE((*other)->enqueue_work(item).ok());
  EXPECT_FALSE(signals.wait_for(WorkSignal::Kind::kQueued, 1));

  // A key too long for a notification's payload (8000 bytes) still enqueues; watchers are told to
  // look at everything.
  item.key.task_id = std::string(9000, 't');
  ASSERT_TRUE(writer->enqueue_work(item).ok());
  ASSERT_TRUE(*writer->claim_work(item.key, "w:9", 3));
  EXPECT_TRUE(signals.wait_for(WorkSignal::Kind::kMissed, 5));
  watch->reset();  // stops and joins at once
}

TEST(WorkSignalTest, PayloadsRoundTrip) {
  WorkSignal queued;
  queued.kind = WorkSignal::Kind::kQueued;
  queued.queue = "a queue";
  auto back = parse_work_signal(work_signal_payload(queued));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, WorkSignal::Kind::kQueued);
  EXPECT_EQ(back->queue, "a queue");
  WorkSignal cancel;
  cancel.kind = WorkSignal::Kind::kCancel;
  cancel.key = WorkKey{"pipe", "manual__1", "t.1", 12};
  back = parse_work_signal(work_signal_payload(cancel));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, WorkSignal::Kind::kCancel);
  EXPECT_TRUE(back->key == cancel.key);
  EXPECT_EQ(parse_work_signal(work_signal_payload(WorkSignal{}))->kind, WorkSignal::Kind::kMissed);
  EXPECT_FALSE(parse_work_signal("c\x1fp\x1fr\x1ft\x1fx").has_value());
  EXPECT_FALSE(parse_work_signal("c\x1fp\x1fr\x1ft\x1f").has_value()) << "an empty try number";
  EXPECT_FALSE(parse_work_signal("hello").has_value());
  EXPECT_EQ(work_channel(std::string(80, 's')).size(), 63u);
  EXPECT_EQ(work_channel(std::string(50, 's') + "ééé").size(), 62u) << "not cut inside a character";
}

}  // namespace
}  // namespace strata::orchestrate
