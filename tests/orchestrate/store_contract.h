#pragma once
// The MetadataStore contract, one set of tests for every store: include this header in exactly one
// file of a test binary and instantiate StoreContractTest with a StoreBackend
// (sqlite_store_test.cpp: SQLite; pg_store_itest.cpp: PostgreSQL).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "orchestrate/metadata_store.h"
#include "support/temp_dir.h"

namespace strata::orchestrate::testing {

// How to make stores of one kind. `fresh` names a new, empty store (a file in `dir`, a new
// database); `open` opens a handle on it — several handles on one location are several
// connections to the same store, as several processes have.
struct StoreBackend {
  std::string name;
  std::function<std::string(const strata::testing::TempDir& dir)> fresh;
  std::function<Result<std::unique_ptr<MetadataStore>>(const std::string& location)> open;
};

inline std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; }

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    location_ = GetParam().fresh(dir_);
    store_ = open_handle();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<MetadataStore> open_handle() {
    auto opened = GetParam().open(location_);
    EXPECT_TRUE(opened.ok()) << opened.error().to_string();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  // Runs body(i, handle) on n threads started together, each with a handle of its own (a
  // connection, as each process has), and waits for them. Call through ASSERT_NO_FATAL_FAILURE:
  // a handle that cannot be opened fails the test before any thread starts.
  void race(int n, const std::function<void(int, MetadataStore&)>& body) {
    std::vector<std::unique_ptr<MetadataStore>> handles;
    for (int i = 0; i < n; ++i) {
      handles.push_back(open_handle());
      ASSERT_NE(handles.back(), nullptr);
    }
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        ++ready;
        while (ready.load() < n) std::this_thread::yield();
        body(i, *handles[static_cast<size_t>(i)]);
      });
    for (auto& t : threads) t.join();
  }

  strata::testing::TempDir dir_;
  std::string location_;
  std::unique_ptr<MetadataStore> store_;
};

inline RunRecord queued_run(const std::string& pipeline, const std::string& run_id, int64_t logical_date = 100) {
  return RunRecord{run_id, pipeline, RunType::kScheduled, RunState::kQueued, logical_date, logical_date,
                   logical_date + 100, "{}", 5, 0, 0, "", ""};
}

TEST_P(StoreContractTest, RunsTaskInstancesAttemptsPauseAndReports) {
  MetadataStore* store = store_.get();
  RunRecord run{"scheduled__a", "p", RunType::kScheduled, RunState::kQueued, 100, 100, 200, R"({"x":1})", 5, 0, 0, "", ""};
  ASSERT_TRUE(store->create_run(run).ok());
  auto dup = store->create_run(run);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("has a run 'scheduled__a' already"), std::string::npos);
  EXPECT_EQ(dup.error().state(), kUniqueViolation);
  run.state = RunState::kSuccess;
  run.end_at = 300;
  run.note = "why it ended so";
  ASSERT_TRUE(store->update_run(run).ok());
  auto got = store->run("p", "scheduled__a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->state, RunState::kSuccess);
  EXPECT_EQ((*got)->params_json, R"({"x":1})");
  EXPECT_EQ((*got)->interval_end, 200);
  EXPECT_EQ((*got)->end_at, 300);
  EXPECT_EQ((*got)->note, "why it ended so");
  EXPECT_TRUE(store->run_at("p", 100)->has_value());
  EXPECT_FALSE(store->run_at("p", 101)->has_value());
  EXPECT_EQ(store->runs("p", RunState::kSuccess, 10)->size(), 1u);
  EXPECT_EQ(store->runs("p", RunState::kFailed, 10)->size(), 0u);
  EXPECT_EQ(store->runs("", std::nullopt, 10)->size(), 1u);
  EXPECT_EQ((*store->latest_run("p"))->run_id, "scheduled__a");

  TaskInstanceRecord ti;
  ti.pipeline = "p";
  ti.run_id = "scheduled__a";
  ti.task_id = "t";
  ti.group = "g.h";
  ti.kind = TaskKind::kSql;
  ti.state = TaskState::kUpForRetry;
  ti.try_number = 2;
  ti.next_retry_at = 77;
  ASSERT_TRUE(store->upsert_task_instance(ti).ok());
  ti.state = TaskState::kQueued;
  ti.note = "a free slot";
  ASSERT_TRUE(store->upsert_task_instance(ti).ok());
  EXPECT_EQ((*store->task_instances("p", "scheduled__a"))[0].note, "a free slot");
  ti.state = TaskState::kSuccess;
  ti.note.clear();
  ASSERT_TRUE(store->upsert_task_instance(ti).ok());
  auto tis = store->task_instances("p", "scheduled__a");
  ASSERT_EQ(tis->size(), 1u);
  EXPECT_EQ((*tis)[0].state, TaskState::kSuccess);
  EXPECT_EQ((*tis)[0].note, "");
  EXPECT_EQ((*tis)[0].group, "g.h");
  EXPECT_EQ((*tis)[0].kind, TaskKind::kSql);
  EXPECT_EQ((*tis)[0].next_retry_at, 77);
  EXPECT_EQ((*tis)[0].try_number, 2);

  AttemptRecord a{"p", "scheduled__a", "t", 1, TaskState::kRunning, 1, 0, "/l/1.log", 0, "", "me"};
  ASSERT_TRUE(store->upsert_attempt(a).ok());
  EXPECT_EQ(store->running_attempts()->size(), 1u);
  a.state = TaskState::kFailed;
  a.error = "boom";
  ASSERT_TRUE(store->upsert_attempt(a).ok());
  EXPECT_EQ(store->running_attempts()->size(), 0u);
  EXPECT_EQ((*store->attempts("p", "scheduled__a", "t"))[0].error, "boom");
  ti.state = TaskState::kRunning;
  AttemptRecord second{"p", "scheduled__a", "t", 2, TaskState::kRunning, 5, 0, "/l/2.log", 0, "", "me"};
  ASSERT_TRUE(store->save_attempt(ti, second).ok());
  EXPECT_EQ(store->attempts("p", "scheduled__a", "t")->size(), 2u);
  EXPECT_EQ((*store->task_instances("p", "scheduled__a"))[0].state, TaskState::kRunning);

  ASSERT_TRUE(store->set_paused("p", true).ok());
  EXPECT_TRUE((*store->pipelines())[0].paused);
  ASSERT_TRUE(store->ensure_pipeline("p").ok());
  EXPECT_TRUE((*store->pipelines())[0].paused);  // ensure keeps the flag

  ASSERT_TRUE(store->heartbeat({"owner1", "host", 42, 1, 2}).ok());
  ASSERT_TRUE(store->heartbeat({"owner1", "host", 42, 1, 9}).ok());
  EXPECT_EQ((*store->heartbeats())[0].beat_at, 9);
  EXPECT_EQ((*store->heartbeats())[0].pid, 42);
  ASSERT_TRUE(store->add_sync_report({"scheduled__a", "t", "pg", "{}", 1, "p"}).ok());
  ASSERT_TRUE(store->add_test_result({"scheduled__a", "t", "not_null", "fail", "3 rows", 3, 1, "p"}).ok());
  EXPECT_EQ(store->sync_reports("p", "scheduled__a")->size(), 1u);
  EXPECT_EQ((*store->test_results("p", "scheduled__a"))[0].failures, 3);
  EXPECT_EQ((*store->test_results("p", "scheduled__a"))[0].message, "3 rows");
}

TEST_P(StoreContractTest, ConcurrentWritersFromManyThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        TaskInstanceRecord ti;
        ti.pipeline = "p";
        ti.run_id = "r";
        ti.task_id = std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(store_->upsert_task_instance(ti).ok());
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(store_->task_instances("p", "r")->size(), 400u);
}

// Runs are keyed by (pipeline, run_id) as Airflow's (dag_id, run_id): two pipelines on one
// schedule both have "scheduled__<date>", each with its own task instances, attempts and reports.
TEST_P(StoreContractTest, SameRunIdInTwoPipelinesIsTwoRuns) {
  MetadataStore* store = store_.get();
  for (const char* pipeline : {"a", "b"}) {
    ASSERT_TRUE(store->create_run(queued_run(pipeline, "scheduled__x")).ok()) << pipeline;
    TaskInstanceRecord ti;
    ti.pipeline = pipeline;
    ti.run_id = "scheduled__x";
    ti.task_id = "t";
    ti.try_number = pipeline == std::string("a") ? 1 : 2;
    ASSERT_TRUE(store->upsert_task_instance(ti).ok());
    AttemptRecord attempt{pipeline, "scheduled__x", "t", 1, TaskState::kFailed, 1, 2, "/l", 3, "", "me"};
    ASSERT_TRUE(store->upsert_attempt(attempt).ok());
    ASSERT_TRUE(store->add_sync_report({"scheduled__x", "t", "pg", "{}", 1, pipeline}).ok());
  }
  EXPECT_EQ(store->runs_with_id("scheduled__x")->size(), 2u);
  EXPECT_EQ((*store->runs_with_id("scheduled__x"))[1].pipeline, "b");
  ASSERT_TRUE(*store->claim_run("a", "scheduled__x", "me", 7, 0));
  EXPECT_EQ((*store->run("a", "scheduled__x"))->state, RunState::kRunning);
  EXPECT_EQ((*store->run("a", "scheduled__x"))->start_at, 7);
  EXPECT_EQ((*store->run("b", "scheduled__x"))->state, RunState::kQueued);
  EXPECT_EQ((*store->task_instances("b", "scheduled__x"))[0].try_number, 2);
  EXPECT_EQ(store->attempts("a", "scheduled__x", "t")->size(), 1u);
  EXPECT_EQ(store->sync_reports("b", "scheduled__x")->size(), 1u);
  ASSERT_TRUE(store->delete_task_instances("a", "scheduled__x").ok());
  EXPECT_TRUE(store->task_instances("a", "scheduled__x")->empty());
  EXPECT_EQ(store->task_instances("b", "scheduled__x")->size(), 1u);
  EXPECT_FALSE((*store->run("c", "scheduled__x")).has_value());
}

// claim_run takes a queued run once; adopt_run moves a running run only from the owner named.
TEST_P(StoreContractTest, ClaimAndAdoptAreConditional) {
  ASSERT_TRUE(store_->create_run(queued_run("p", "r1")).ok());
  EXPECT_TRUE(*store_->claim_run("p", "r1", "one", 10, 0));
  EXPECT_FALSE(*store_->claim_run("p", "r1", "two", 11, 0));
  EXPECT_EQ((*store_->run("p", "r1"))->owner, "one");
  EXPECT_FALSE(*store_->claim_run("p", "missing", "two", 11, 0));
  EXPECT_FALSE(*store_->adopt_run("p", "r1", "two", "three"));
  EXPECT_EQ((*store_->run("p", "r1"))->owner, "one");
  EXPECT_TRUE(*store_->adopt_run("p", "r1", "one", "three"));
  EXPECT_FALSE(*store_->adopt_run("p", "r1", "one", "four"));
  auto run = *store_->run("p", "r1");
  EXPECT_EQ(run->owner, "three");
  EXPECT_EQ(run->state, RunState::kRunning);
  EXPECT_EQ(run->start_at, 10);  // kept
  // A queued run is claimed, not adopted.
  ASSERT_TRUE(store_->create_run(queued_run("p", "r2", 200)).ok());
  EXPECT_FALSE(*store_->adopt_run("p", "r2", "", "three"));
}

// N handles (N connections, as N processes have) race to claim each of several queued runs:
// every run has exactly one winner, and the run names that winner as its owner.
TEST_P(StoreContractTest, ClaimRunHasExactlyOneWinnerAcrossConnections) {
  constexpr int kClaimers = 6;
  constexpr int kRuns = 25;
  for (int r = 0; r < kRuns; ++r)
    ASSERT_TRUE(store_->create_run(queued_run("p", "run_" + std::to_string(r), 100 + r)).ok());
  std::vector<std::vector<std::string>> won(kClaimers);
  std::atomic<int> errors{0};
  ASSERT_NO_FATAL_FAILURE(race(kClaimers, [&](int i, MetadataStore& handle) {
    for (int r = 0; r < kRuns; ++r) {
      const std::string run_id = "run_" + std::to_string(r);
      auto claimed = handle.claim_run("p", run_id, "owner_" + std::to_string(i), 1, 0);
      if (!claimed.ok()) ++errors;
      else if (*claimed) won[static_cast<size_t>(i)].push_back(run_id);
    }
  }));
  EXPECT_EQ(errors.load(), 0);
  std::multiset<std::string> all;
  for (int i = 0; i < kClaimers; ++i)
    for (const auto& run_id : won[static_cast<size_t>(i)]) {
      all.insert(run_id);
      EXPECT_EQ((*store_->run("p", run_id))->owner, "owner_" + std::to_string(i)) << run_id;
    }
  EXPECT_EQ(all.size(), static_cast<size_t>(kRuns));
  for (int r = 0; r < kRuns; ++r) EXPECT_EQ(all.count("run_" + std::to_string(r)), 1u) << r;
  EXPECT_EQ(store_->runs("p", RunState::kQueued, 100)->size(), 0u);
}

// The same race with a limit of 2 running runs of the pipeline (its max_active_runs): however the
// claims interleave across connections, exactly 2 runs end up running, the rest stay queued.
TEST_P(StoreContractTest, ClaimRunKeepsMaxActiveRunsAcrossConnections) {
  constexpr int kClaimers = 6;
  constexpr int kRuns = 12;
  constexpr int kMax = 2;
  for (int r = 0; r < kRuns; ++r)
    ASSERT_TRUE(store_->create_run(queued_run("p", "run_" + std::to_string(r), 100 + r)).ok());
  ASSERT_TRUE(store_->create_run(queued_run("other", "run_0", 100)).ok());
  std::atomic<int> errors{0}, wins{0};
  ASSERT_NO_FATAL_FAILURE(race(kClaimers, [&](int i, MetadataStore& handle) {
    for (int r = 0; r < kRuns; ++r) {
      // Each claimer starts at another run, so the claims interleave.
      const std::string run_id = "run_" + std::to_string((r + 2 * i) % kRuns);
      auto claimed = handle.claim_run("p", run_id, "owner_" + std::to_string(i), 1, kMax);
      if (!claimed.ok()) ++errors;
      else if (*claimed) ++wins;
    }
  }));
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wins.load(), kMax);
  EXPECT_EQ(store_->runs("p", RunState::kRunning, 100)->size(), static_cast<size_t>(kMax));
  EXPECT_EQ(store_->runs("p", RunState::kQueued, 100)->size(), static_cast<size_t>(kRuns - kMax));
  // Another pipeline's runs do not count; without a limit the claim ignores the running ones.
  EXPECT_TRUE(*store_->claim_run("other", "run_0", "me", 1, 1));
  const std::string queued = (*store_->runs("p", RunState::kQueued, 1))[0].run_id;
  EXPECT_FALSE(*store_->claim_run("p", queued, "me", 1, kMax));
  EXPECT_TRUE(*store_->claim_run("p", queued, "me", 1, 0));
}

// Six connections start the attempts of 12 task instances of one pool with 2 slots: however the
// starts interleave, exactly 2 are saved running (with their attempts), the rest are refused and
// save nothing. A running instance starting again does not count itself; another pool's running
// instances and a start without slots are not limited.
TEST_P(StoreContractTest, StartAttemptKeepsAPoolsSlotsAcrossConnections) {
  constexpr int kStarters = 6;
  constexpr int kTasks = 12;
  constexpr int kSlots = 2;
  ASSERT_TRUE(store_->create_run(queued_run("p", "r")).ok());
  ASSERT_TRUE(*store_->claim_run("p", "r", "me", 1, 0));
  auto instance = [](const std::string& task_id, const std::string& pool) {
    TaskInstanceRecord ti;
    ti.pipeline = "p";
    ti.run_id = "r";
    ti.task_id = task_id;
    ti.state = TaskState::kRunning;
    ti.try_number = 1;
    ti.pool = pool;
    return ti;
  };
  auto attempt_of = [](const TaskInstanceRecord& ti) {
    return AttemptRecord{ti.pipeline, ti.run_id, ti.task_id, 1, TaskState::kRunning, 1, 0, "/l.log", 0, "", "me"};
  };
  TaskInstanceRecord busy = instance("elsewhere", "wide");
  ASSERT_TRUE(store_->save_attempt(busy, attempt_of(busy)).ok());
  std::atomic<int> errors{0}, wins{0};
  ASSERT_NO_FATAL_FAILURE(race(kStarters, [&](int i, MetadataStore& handle) {
    for (int t = 0; t < kTasks; ++t) {
      TaskInstanceRecord ti = instance("t" + std::to_string((t + 2 * i) % kTasks), "narrow");
      auto started = handle.start_attempt(ti, attempt_of(ti), kSlots);
      if (!started.ok()) ++errors;
      else if (*started) ++wins;
    }
  }));
  EXPECT_EQ(errors.load(), 0);
  std::vector<std::string> running;
  auto instances = store_->task_instances("p", "r");
  ASSERT_TRUE(instances.ok());
  for (const auto& ti : *instances)
    if (ti.pool == "narrow" && ti.state == TaskState::kRunning) running.push_back(ti.task_id);
  ASSERT_EQ(running.size(), static_cast<size_t>(kSlots));
  EXPECT_EQ(store_->running_attempts()->size(), static_cast<size_t>(kSlots + 1));
  // Every start of a running one succeeded again (it does not count itself); no other did.
  EXPECT_EQ(wins.load(), kSlots * kStarters);
  TaskInstanceRecord again = instance(running[0], "narrow");
  EXPECT_TRUE(*store_->start_attempt(again, attempt_of(again), kSlots));
  std::string waiting = "t0";
  for (int t = 0; std::find(running.begin(), running.end(), waiting) != running.end(); ++t)
    waiting = "t" + std::to_string(t);
  TaskInstanceRecord other = instance(waiting, "narrow");
  EXPECT_FALSE(*store_->start_attempt(other, attempt_of(other), kSlots));
  EXPECT_TRUE(*store_->start_attempt(other, attempt_of(other), 0));
  TaskInstanceRecord wide = instance("w", "wide");
  EXPECT_TRUE(*store_->start_attempt(wide, attempt_of(wide), 2));
  EXPECT_FALSE(*store_->start_attempt(instance("w2", "wide"), attempt_of(instance("w2", "wide")), 2));
  // Once the run has ended, its instances left running hold no slot.
  RunRecord ended = **store_->run("p", "r");
  ended.state = RunState::kFailed;
  ASSERT_TRUE(store_->update_run(ended).ok());
  EXPECT_TRUE(*store_->start_attempt(other, attempt_of(other), 1));
}

// A pipeline's max_active_tasks across processes: four connections start the 8 tasks of two runs of
// one pipeline with a cap of 3 (pipeline_slots), each in a pool of its own: exactly 3 start, in
// both runs together; another pipeline is not limited, nor a start without the cap.
TEST_P(StoreContractTest, StartAttemptKeepsAPipelinesMaxActiveTasksAcrossConnections) {
  constexpr int kCap = 3;
  for (const char* run : {"r1", "r2"}) {
    ASSERT_TRUE(store_->create_run(queued_run("p", run)).ok());
    ASSERT_TRUE(*store_->claim_run("p", run, "me", 1, 0));
  }
  ASSERT_TRUE(store_->create_run(queued_run("q", "r1")).ok());
  ASSERT_TRUE(*store_->claim_run("q", "r1", "me", 1, 0));
  auto instance = [](const std::string& pipeline, const std::string& run_id, const std::string& task_id) {
    TaskInstanceRecord ti;
    ti.pipeline = pipeline;
    ti.run_id = run_id;
    ti.task_id = task_id;
    ti.state = TaskState::kRunning;
    ti.try_number = 1;
    ti.pool = "pool_" + run_id + "_" + task_id;  // the pools never limit here
    return ti;
  };
  auto attempt_of = [](const TaskInstanceRecord& ti) {
    return AttemptRecord{ti.pipeline, ti.run_id, ti.task_id, 1, TaskState::kRunning, 1, 0, "/l.log", 0, "", "me"};
  };
  std::atomic<int> errors{0};
  ASSERT_NO_FATAL_FAILURE(race(4, [&](int i, MetadataStore& handle) {
    for (int t = 0; t < 8; ++t) {
      const int k = (t + 2 * i) % 8;
      TaskInstanceRecord ti = instance("p", k < 4 ? "r1" : "r2", "t" + std::to_string(k % 4));
      if (!handle.start_attempt(ti, attempt_of(ti), 100, kCap).ok()) ++errors;
    }
  }));
  EXPECT_EQ(errors.load(), 0);
  size_t running = 0;
  for (const char* run : {"r1", "r2"}) {
    auto instances = store_->task_instances("p", run);
    ASSERT_TRUE(instances.ok());
    for (const auto& ti : *instances) running += ti.state == TaskState::kRunning ? 1 : 0;
  }
  EXPECT_EQ(running, static_cast<size_t>(kCap));
  TaskInstanceRecord more = instance("p", "r2", "extra");
  EXPECT_FALSE(*store_->start_attempt(more, attempt_of(more), 0, kCap));
  EXPECT_TRUE(*store_->start_attempt(more, attempt_of(more), 0, kCap + 1));
  TaskInstanceRecord other = instance("q", "r1", "t0");
  EXPECT_TRUE(*store_->start_attempt(other, attempt_of(other), 0, 1));
  TaskInstanceRecord unlimited = instance("p", "r1", "unlimited");
  EXPECT_TRUE(*store_->start_attempt(unlimited, attempt_of(unlimited), 0, 0));
}

inline WorkItemRecord work_item_of(const std::string& task_id, int try_number, const std::string& queue,
                                   int64_t at) {
  WorkItemRecord w;
  w.key = WorkKey{"p", "r", task_id, try_number};
  w.kind = TaskKind::kShell;
  w.queue = queue;
  w.command = "echo " + task_id;
  w.enqueued_at = at;
  return w;
}

// The work queue of `strata worker`: queues, a conditional claim, heartbeats held by the claimer,
// cancel requests, results and shipped logs.
TEST_P(StoreContractTest, WorkItemsAreClaimedHeartbeatCancelledAndFinished) {
  ASSERT_TRUE(store_->enqueue_work(work_item_of("a", 1, "default", 10)).ok());
  ASSERT_TRUE(store_->enqueue_work(work_item_of("b", 1, "special", 11)).ok());
  ASSERT_TRUE(store_->enqueue_work(work_item_of("c", 1, "default", 12)).ok());
  auto queued = store_->queued_work({"default"}, 10);
  ASSERT_TRUE(queued.ok()) << queued.error().to_string();
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[0].key.task_id, "a");  // oldest first
  EXPECT_EQ((*queued)[0].command, "echo a");
  EXPECT_EQ((*queued)[0].state, TaskState::kQueued);
  EXPECT_EQ(store_->queued_work({"special"}, 10)->size(), 1u);
  EXPECT_EQ(store_->queued_work({}, 10)->size(), 3u);
  EXPECT_EQ(store_->queued_work({"default", "special"}, 2)->size(), 2u);

  const WorkKey a{"p", "r", "a", 1};
  EXPECT_TRUE(*store_->claim_work(a, "w1", 20));
  EXPECT_FALSE(*store_->claim_work(a, "w2", 21));
  EXPECT_EQ(store_->queued_work({"default"}, 10)->size(), 1u);
  auto item = std::move(*store_->work_item(a));
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->state, TaskState::kRunning);
  EXPECT_EQ(item->worker, "w1");
  EXPECT_EQ(item->heartbeat_at, 20);
  EXPECT_TRUE(*store_->heartbeat_work(a, "w1", 25));
  EXPECT_FALSE(*store_->heartbeat_work(a, "w2", 26));
  EXPECT_EQ((*store_->work_item(a))->heartbeat_at, 25);

  ASSERT_TRUE(store_->append_work_log(a, 1, "line 1\n").ok());
  ASSERT_TRUE(store_->append_work_log(a, 2, "line 2\n").ok());
  auto log = store_->work_log(a, 0);
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[1].first, 2);
  EXPECT_EQ((*log)[1].second, "line 2\n");
  EXPECT_EQ(store_->work_log(a, 1)->size(), 1u);

  // A running item's cancel is a request the worker acts on; a queued one ends at once.
  ASSERT_TRUE(store_->request_cancel_work(a, "run cancelled", 30).ok());
  item = std::move(*store_->work_item(a));
  EXPECT_TRUE(item->cancel_requested);
  EXPECT_EQ(item->cancel_reason, "run cancelled");
  EXPECT_EQ(item->state, TaskState::kRunning);
  const WorkKey c{"p", "r", "c", 1};
  ASSERT_TRUE(store_->request_cancel_work(c, "timeout", 31).ok());
  item = std::move(*store_->work_item(c));
  EXPECT_EQ(item->state, TaskState::kFailed);
  EXPECT_EQ(item->error, "timeout");
  EXPECT_EQ(item->error_code, static_cast<int>(ErrorCode::kCancelled));
  EXPECT_FALSE(*store_->claim_work(c, "w1", 32));

  WorkResult result;
  result.state = TaskState::kFailed;
  result.exit_code = 137;
  result.error_code = static_cast<int>(ErrorCode::kCancelled);
  result.error = "killed";
  result.at = 40;
  EXPECT_FALSE(*store_->finish_work(a, "w2", result));  // only its holder ends it
  EXPECT_TRUE(*store_->finish_work(a, "w1", result));
  EXPECT_FALSE(*store_->finish_work(a, "w1", result));
  EXPECT_FALSE(*store_->heartbeat_work(a, "w1", 41));  // a finished item is nobody's any more
  item = std::move(*store_->work_item(a));
  EXPECT_EQ(item->state, TaskState::kFailed);
  EXPECT_TRUE(item->has_exit_code);
  EXPECT_EQ(item->exit_code, 137);
  EXPECT_EQ(item->error, "killed");
  EXPECT_EQ(item->finished_at, 40);
  ASSERT_TRUE(store_->request_cancel_work(a, "late", 42).ok());
  EXPECT_FALSE((*store_->work_item(a))->cancel_reason == "late");  // a finished item is left alone

  // Enqueueing a key again starts it afresh, without the old log.
  ASSERT_TRUE(store_->enqueue_work(work_item_of("a", 1, "default", 50)).ok());
  item = std::move(*store_->work_item(a));
  EXPECT_EQ(item->state, TaskState::kQueued);
  EXPECT_EQ(item->worker, "");
  EXPECT_FALSE(item->cancel_requested);
  EXPECT_TRUE(store_->work_log(a, 0)->empty());
  EXPECT_FALSE(store_->work_item(WorkKey{"p", "r", "a", 2})->has_value());
}

// N handles (N connections, as N worker processes have) race for every queued item: each item is
// claimed exactly once, by the worker it names.
TEST_P(StoreContractTest, ClaimWorkHasExactlyOneWinnerAcrossConnections) {
  constexpr int kWorkers = 5;
  constexpr int kItems = 30;
  for (int i = 0; i < kItems; ++i)
    ASSERT_TRUE(store_->enqueue_work(work_item_of("t" + std::to_string(i), 1, "default", i)).ok());
  std::vector<std::vector<std::string>> won(kWorkers);
  std::atomic<int> errors{0};
  ASSERT_NO_FATAL_FAILURE(race(kWorkers, [&](int i, MetadataStore& handle) {
    const std::string worker = "w" + std::to_string(i);
    for (;;) {  // as a worker polls: read candidates, claim them
      auto queued = handle.queued_work({"default"}, 4);
      if (!queued.ok()) {
        ++errors;
        return;
      }
      if (queued->empty()) return;
      for (const auto& item : *queued) {
        auto claimed = handle.claim_work(item.key, worker, 1);
        if (!claimed.ok()) ++errors;
        else if (*claimed) won[static_cast<size_t>(i)].push_back(item.key.task_id);
      }
    }
  }));
  EXPECT_EQ(errors.load(), 0);
  std::multiset<std::string> all;
  for (int i = 0; i < kWorkers; ++i)
    for (const auto& task_id : won[static_cast<size_t>(i)]) {
      all.insert(task_id);
      EXPECT_EQ((*store_->work_item(WorkKey{"p", "r", task_id, 1}))->worker, "w" + std::to_string(i)) << task_id;
    }
  EXPECT_EQ(all.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(all.count("t" + std::to_string(i)), 1u) << i;
}

}  // namespace strata::orchestrate::testing
