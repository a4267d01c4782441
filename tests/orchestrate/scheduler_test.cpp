#include <gtest/gtest.h>

#include <thread>

#include "common/strings.h"
#include "orchestrate/scheduler.h"
#include "orchestrate_harness.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::parse_spec;
using testing::shell_runners;

constexpr int64_t kHour = 3600'000'000LL;
const int64_t kT0 = *parse_iso8601("2026-03-01T00:00:00Z");

struct SchedulerFixture {
  Harness h;
  FakeClock clock{kT0};
  std::unique_ptr<Executor> executor;
  std::unique_ptr<Scheduler> scheduler;
  std::shared_ptr<const PipelineSpec> spec;

  explicit SchedulerFixture(const std::string& yaml) {
    spec = parse_spec(yaml, "hourly");
    auto options = h.options(8);
    options.owner = "test-owner";
    executor = std::make_unique<Executor>(*h.store, shell_runners(), clock, options);
    scheduler = std::make_unique<Scheduler>(*h.store, *executor, clock, std::vector{spec},
                                            SchedulerOptions{"test-owner", 5'000'000, 30'000'000});
  }
  // Ticks until no run is queued or running; returns the most runs seen running at once.
  int drain() {
    int peak = 0;
    for (int i = 0; i < 600; ++i) {
      EXPECT_TRUE(scheduler->tick().ok());
      int running = static_cast<int>(h.store->runs("hourly", RunState::kRunning, 100)->size());
      int queued = static_cast<int>(h.store->runs("hourly", RunState::kQueued, 100)->size());
      peak = std::max(peak, running);
      if (running == 0 && queued == 0) return peak;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "runs did not finish";
    return peak;
  }
  std::vector<RunRecord> runs() {
    auto r = std::move(h.store->runs("hourly", std::nullopt, 1000)).value();
    std::reverse(r.begin(), r.end());
    return r;
  }
};

TEST(SchedulerTest, CatchupCreatesEveryMissedIntervalWithinMaxActiveRuns) {
  SchedulerFixture f(R"(
schedule: "@hourly"
start_date: 2026-03-01T00:00:00Z
catchup: true
max_active_runs: 2
tasks:
  - {id: work, shell: "sleep 0.2"}
)");
  f.clock.advance(5 * kHour + 30 * 60'000'000LL);
  EXPECT_EQ(f.drain(), 2);
  auto runs = f.runs();
  ASSERT_EQ(runs.size(), 5u);
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].interval_start, kT0 + static_cast<int64_t>(i) * kHour);
    EXPECT_EQ(runs[i].interval_end, kT0 + static_cast<int64_t>(i + 1) * kHour);
    EXPECT_EQ(runs[i].logical_date, runs[i].interval_start);
    EXPECT_EQ(runs[i].state, RunState::kSuccess);
    EXPECT_EQ(runs[i].type, RunType::kScheduled);
  }
  EXPECT_EQ(runs[0].run_id, "scheduled__2026-03-01T00:00:00Z");
  // Nothing new until the next interval ends.
  auto next = f.scheduler->tick();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, kT0 + 6 * kHour);
  EXPECT_EQ(f.runs().size(), 5u);
}

TEST(SchedulerTest, WithoutCatchupOnlyTheLatestInterval) {
  SchedulerFixture f(R"(
schedule: "@hourly"
start_date: 2026-03-01T00:00:00Z
catchup: false
tasks:
  - {id: work, shell: "true"}
)");
  f.clock.advance(5 * kHour + 30 * 60'000'000LL);
  f.drain();
  auto runs = f.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].interval_start, kT0 + 4 * kHour);
  EXPECT_EQ(runs[0].interval_end, kT0 + 5 * kHour);
}

TEST(SchedulerTest, PausedPipelinesGetNoRuns) {
  SchedulerFixture f(R"(
schedule: "@hourly"
start_date: 2026-03-01T00:00:00Z
tasks:
  - {id: work, shell: "true"}
)");
  ASSERT_TRUE(f.h.store->set_paused("hourly", true).ok());
  f.clock.advance(3 * kHour);
  f.drain();
  EXPECT_TRUE(f.runs().empty());
  ASSERT_TRUE(f.h.store->set_paused("hourly", false).ok());
  f.drain();
  EXPECT_EQ(f.runs().size(), 3u);
}

TEST(SchedulerTest, BackfillRangeAndRerunFailed) {
  Harness probe;  // a folder for the marker file
  const std::string marker = probe.dir.file("ok");
  SchedulerFixture f(R"(
schedule: "@hourly"
max_active_runs: 1
tasks:
  - {id: work, shell: "test -f )" + marker + R"("}
)");
  auto created = f.scheduler->backfill("hourly", kT0, kT0 + 2 * kHour, false);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  ASSERT_EQ(created->size(), 3u);
  EXPECT_EQ((*created)[0].run_id, "backfill__2026-03-01T00:00:00Z");
  EXPECT_EQ((*created)[2].interval_end, kT0 + 3 * kHour);
  EXPECT_EQ(f.drain(), 1);
  for (const auto& r : f.runs()) EXPECT_EQ(r.state, RunState::kFailed);
  // Without --rerun-failed nothing is queued again.
  EXPECT_EQ(f.scheduler->backfill("hourly", kT0, kT0 + 2 * kHour, false)->size(), 0u);
  ASSERT_TRUE(write_file_atomic(marker, "x"));
  auto rerun = f.scheduler->backfill("hourly", kT0, kT0 + 2 * kHour, true);
  ASSERT_EQ(rerun->size(), 3u);
  f.drain();
  auto runs = f.runs();
  ASSERT_EQ(runs.size(), 3u);
  for (const auto& r : runs) EXPECT_EQ(r.state, RunState::kSuccess) << r.run_id;
  // Backfill of a pipeline without a schedule is a usage error.
  SchedulerFixture manual("tasks:\n  - {id: a, shell: \"true\"}\n");
  EXPECT_FALSE(manual.scheduler->backfill("hourly", kT0, kT0, false).ok());
}

TEST(SchedulerTest, ManualRunWithParams) {
  SchedulerFixture f(R"(
params: {who: nobody}
tasks:
  - {id: greet, shell: "echo hi {{ params.who }}"}
)");
  auto run = f.scheduler->trigger("hourly", R"({"who": "ops"})");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->type, RunType::kManual);
  ASSERT_TRUE(f.scheduler->start_now(run->pipeline, run->run_id).ok());
  EXPECT_EQ(f.executor->wait(run->pipeline, run->run_id), RunState::kSuccess);
  auto attempts = f.h.store->attempts(run->pipeline, run->run_id, "greet");
  std::string log;
  ASSERT_TRUE(read_file((*attempts)[0].log_path, log));
  EXPECT_NE(log.find("hi ops"), std::string::npos) << log;
  EXPECT_FALSE(f.scheduler->trigger("nope", "{}").ok());
}

// Ticks until neither pipeline has a queued or running run (at most ~30 s).
void drain_all(Scheduler& scheduler, MetadataStore& store) {
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(scheduler.tick().ok());
    if (store.runs("", RunState::kRunning, 10)->empty() && store.runs("", RunState::kQueued, 10)->empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "runs did not finish";
}

// Run ids are unique per pipeline (Airflow's (dag_id, run_id)): two pipelines on one schedule both
// get every scheduled run, and both can backfill the same dates.
TEST(SchedulerTest, TwoPipelinesOnOneScheduleEachGetTheirRuns) {
  Harness h;
  FakeClock clock{kT0};
  const std::string yaml = "schedule: \"@hourly\"\nstart_date: 2026-03-01T00:00:00Z\ncatchup: true\n"
                           "tasks:\n  - {id: work, shell: \"echo $STRATA_RUN_ID\"}\n";
  auto a = parse_spec(yaml, "a"), b = parse_spec(yaml, "b");
  auto options = h.options(4);
  Executor executor(*h.store, shell_runners(), clock, options);
  Scheduler scheduler(*h.store, executor, clock, {a, b}, SchedulerOptions{"test-owner", 5'000'000, 30'000'000});
  clock.advance(2 * kHour + 60'000'000LL);
  drain_all(scheduler, *h.store);
  for (const char* name : {"a", "b"}) {
    auto runs = h.store->runs(name, std::nullopt, 100);
    ASSERT_TRUE(runs.ok());
    ASSERT_EQ(runs->size(), 2u) << name;
    for (const auto& r : *runs) {
      EXPECT_EQ(r.state, RunState::kSuccess) << name << " " << r.run_id;
      EXPECT_EQ(h.states(r.run_id, name)["work"].state, TaskState::kSuccess) << name << " " << r.run_id;
    }
    EXPECT_EQ((*runs)[1].run_id, "scheduled__2026-03-01T00:00:00Z");
  }

  // Backfill of the same dates in both pipelines (dates before start_date: no scheduled run there).
  const int64_t from = kT0 - 3 * kHour, to = kT0 - 2 * kHour;
  for (const char* name : {"a", "b"}) {
    auto queued = scheduler.backfill(name, from, to, false);
    ASSERT_TRUE(queued.ok()) << queued.error().to_string();
    ASSERT_EQ(queued->size(), 2u) << name;
    EXPECT_EQ((*queued)[0].run_id, "backfill__2026-02-28T21:00:00Z");
  }
  drain_all(scheduler, *h.store);
  for (const char* name : {"a", "b"})
    for (const char* id : {"backfill__2026-02-28T21:00:00Z", "backfill__2026-02-28T22:00:00Z"}) {
      auto run = h.store->run(name, id);
      ASSERT_TRUE(run.ok() && run->has_value()) << name << " " << id;
      EXPECT_EQ((*run)->state, RunState::kSuccess) << name << " " << id;
      auto attempts = h.store->attempts(name, id, "work");
      ASSERT_EQ(attempts->size(), 1u);
      EXPECT_NE((*attempts)[0].log_path.find("/" + std::string(name) + "/"), std::string::npos);
    }
}

}  // namespace
}  // namespace strata::orchestrate
