// Datasets (orchestrate/datasets.h): parsing, and data-aware scheduling through a real scheduler,
// executor, shell tasks and SQLite store.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/time.h"
#include "orchestrate/scheduler.h"
#include "orchestrate_harness.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::parse_spec;
using testing::shell_runners;

const int64_t kT0 = *parse_iso8601("2026-03-01T00:00:00Z");

Result<PipelineSpec> parse(const std::string& yaml) {
  auto doc = load_yaml_string(yaml, "pipelines/p.yml");
  if (!doc.ok()) return doc.error();
  return parse_pipeline(*doc, "p");
}

TEST(DatasetsTest, SchedulesAndOutletsParse) {
  auto spec = parse(R"(
schedule:
  all:
    - s3://lake/orders
    - any: [warehouse://gold/a, warehouse://gold/b]
tasks:
  - {id: t, shell: "true", outlets: s3://lake/report}
  - {id: u, shell: "true", outlets: [s3://x, s3://y, s3://x]}
)");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  ASSERT_TRUE(spec->datasets);
  EXPECT_FALSE(spec->schedule);
  EXPECT_EQ(spec->datasets->to_string(), "s3://lake/orders & (warehouse://gold/a | warehouse://gold/b)");
  EXPECT_EQ(spec->datasets->uris(),
            (std::vector<std::string>{"s3://lake/orders", "warehouse://gold/a", "warehouse://gold/b"}));
  EXPECT_FALSE(spec->datasets->met({"s3://lake/orders"}));
  EXPECT_FALSE(spec->datasets->met({"warehouse://gold/a", "warehouse://gold/b"}));
  EXPECT_TRUE(spec->datasets->met({"s3://lake/orders", "warehouse://gold/b"}));
  EXPECT_EQ(spec->tasks[0].outlets, std::vector<std::string>{"s3://lake/report"});
  EXPECT_EQ(spec->tasks[1].outlets, (std::vector<std::string>{"s3://x", "s3://y"}));

  auto both = parse("schedule: {cron: \"@daily\", datasets: {any: [a, b]}}\ntasks:\n  - {id: t, shell: x}\n");
  ASSERT_TRUE(both.ok()) << both.error().to_string();
  EXPECT_EQ(both->schedule, "@daily");
  EXPECT_EQ(both->datasets->to_string(), "a | b");

  auto list = parse("schedule: [a, b]\ntasks:\n  - {id: t, shell: x}\n");
  ASSERT_TRUE(list.ok()) << list.error().to_string();
  EXPECT_EQ(list->datasets->to_string(), "a & b");
}

TEST(DatasetsTest, MistakesAreLocatedErrors) {
  struct Case {
    std::string yaml, message;
    int line;
  };
  const Case cases[] = {
      {"schedule: []\ntasks:\n  - {id: t, shell: x}\n", "non-empty list of datasets", 1},
      {"schedule:\n  all: [a]\n  any: [b]\ntasks:\n  - {id: t, shell: x}\n", "exactly one key", 2},
      {"schedule:\n  some: [a]\ntasks:\n  - {id: t, shell: x}\n", "exactly one key", 2},
      {"schedule:\n  - a\n  - \"b c\"\ntasks:\n  - {id: t, shell: x}\n", "whitespace", 3},
      {"schedule: [\"caf\xc3\xa9\"]\ntasks:\n  - {id: t, shell: x}\n", "not ASCII", 1},
      {"schedule:\n  any: []\ntasks:\n  - {id: t, shell: x}\n", "non-empty list", 2},
      {"tasks:\n  - id: t\n    shell: x\n    outlets: {a: 1}\n", "outlets must be", 4},
      {"schedule: {cron: \"@daily\"}\ntasks:\n  - {id: t, shell: x}\n", "needs both", 1},
      {"schedule: {cron: \"@daily\", datasets: [a], every: 1}\ntasks:\n  - {id: t, shell: x}\n", "unknown key 'every'", 1},
      {"schedule:\n  cron: \"0 25 * * *\"\n  datasets: [a]\ntasks:\n  - {id: t, shell: x}\n", "hour", 2},
      {"schedule:\n  cron: none\n  datasets: [a]\ntasks:\n  - {id: t, shell: x}\n", "cron expression", 2},
      {"tasks:\n  - id: t\n    shell: x\n    outlets: [\"\"]\n", "empty", 4},
  };
  for (const auto& c : cases) {
    auto spec = parse(c.yaml);
    ASSERT_FALSE(spec.ok()) << c.yaml;
    EXPECT_NE(spec.error().message().find(c.message), std::string::npos) << c.yaml << " -> " << spec.error().to_string();
    EXPECT_EQ(spec.error().where().line, c.line) << spec.error().to_string();
    EXPECT_GT(spec.error().where().column, 0);
    EXPECT_FALSE(spec.error().hint().empty());
    EXPECT_EQ(spec.error().exit_code(), 2);
  }
}

// Producer and consumer pipelines under one scheduler, as `strata serve` runs them.
struct DatasetFixture {
  Harness h;
  FakeClock clock{kT0};
  std::unique_ptr<Executor> executor;
  std::unique_ptr<Scheduler> scheduler;

  explicit DatasetFixture(std::vector<std::shared_ptr<const PipelineSpec>> specs) {
    auto options = h.options(4);
    options.owner = "test-owner";
    executor = std::make_unique<Executor>(*h.store, shell_runners(), clock, options);
    scheduler = std::make_unique<Scheduler>(*h.store, *executor, clock, std::move(specs),
                                            SchedulerOptions{"test-owner", 5'000'000, 30'000'000});
  }
  ~DatasetFixture() { executor->shutdown(); }
  // Ticks (the clock a millisecond further each time) until no run is queued or running.
  void drain() {
    for (int i = 0; i < 400; ++i) {
      clock.advance(1000);
      ASSERT_TRUE(scheduler->tick().ok());
      if (h.store->runs("", RunState::kRunning, 10)->empty() && h.store->runs("", RunState::kQueued, 10)->empty())
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "runs did not finish";
  }
  std::vector<RunRecord> runs(const std::string& pipeline) { return *h.store->runs(pipeline, std::nullopt, 100); }
  void event(const std::string& uri) {
    ASSERT_TRUE(h.store->add_dataset_event(DatasetEventRecord{0, uri, 0, "", "", "", "{}"}, clock.now()).ok());
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DatasetsTest, AProducersSuccessTriggersItsConsumerOnceWithTheEvents) {
  auto producer = parse_spec(R"(
tasks:
  - {id: load, shell: "true", outlets: [s3://lake/orders]}
  - {id: broken, shell: "exit 3", outlets: [s3://lake/never]}
)",
                             "producer");
  auto consumer = parse_spec(R"(
schedule: [s3://lake/orders]
tasks:
  - id: report
    shell: >-
      echo "{{ triggering_dataset_events['s3://lake/orders'][0].source_dag_id }}
      {{ triggering_dataset_events['s3://lake/orders'][0].source_task_id }}
      {{ triggering_dataset_events['s3://lake/orders'] | length }}
      {{ data_interval_start == data_interval_end }}" > report.txt
)",
                             "consumer");
  auto never = parse_spec("schedule: [s3://lake/never]\ntasks:\n  - {id: t, shell: \"true\"}\n", "never");
  DatasetFixture f({producer, consumer, never});
  ASSERT_NO_FATAL_FAILURE(f.drain());  // the consumers start waiting: nothing is due
  EXPECT_TRUE(f.runs("consumer").empty());

  ASSERT_TRUE(f.scheduler->trigger("producer", "{}").ok());
  ASSERT_NO_FATAL_FAILURE(f.drain());
  auto produced = f.runs("producer");
  ASSERT_EQ(produced.size(), 1u);
  EXPECT_EQ(produced[0].state, RunState::kFailed);  // `broken` failed: its outlet has no event
  auto events = f.h.store->dataset_events("", 0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].uri, "s3://lake/orders");
  EXPECT_EQ((*events)[0].source_pipeline, "producer");
  EXPECT_EQ((*events)[0].source_run_id, produced[0].run_id);
  EXPECT_EQ((*events)[0].source_task_id, "load");

  auto consumed = f.runs("consumer");
  ASSERT_EQ(consumed.size(), 1u);
  EXPECT_EQ(consumed[0].type, RunType::kDatasetTriggered);
  EXPECT_EQ(consumed[0].state, RunState::kSuccess);
  EXPECT_EQ(consumed[0].run_id.rfind("dataset_triggered__", 0), 0u) << consumed[0].run_id;
  EXPECT_EQ(consumed[0].interval_start, (*events)[0].at);
  EXPECT_EQ(consumed[0].interval_end, (*events)[0].at);
  EXPECT_EQ(read_file(f.h.dir.file("report.txt")), "producer load 1 True\n");
  EXPECT_TRUE(f.runs("never").empty());

  // Consumed: more ticks make no run until the next event.
  ASSERT_NO_FATAL_FAILURE(f.drain());
  EXPECT_EQ(f.runs("consumer").size(), 1u);
  ASSERT_NO_FATAL_FAILURE(f.event("s3://lake/orders"));
  ASSERT_NO_FATAL_FAILURE(f.drain());
  EXPECT_EQ(f.runs("consumer").size(), 2u);
}

TEST(DatasetsTest, AllWaitsForEveryDatasetAndAnyForOne) {
  auto all = parse_spec("schedule: [a, b]\ntasks:\n  - {id: t, shell: \"true\"}\n", "all");
  auto any = parse_spec("schedule: {any: [a, b]}\ntasks:\n  - id: t\n    shell: \"echo {{ triggering_dataset_events['b'] "
                        "| length }} >> any.txt\"\n",
                        "any");
  DatasetFixture f({all, any});
  ASSERT_NO_FATAL_FAILURE(f.drain());
  ASSERT_NO_FATAL_FAILURE(f.event("a"));
  ASSERT_NO_FATAL_FAILURE(f.event("a"));
  ASSERT_NO_FATAL_FAILURE(f.drain());
  EXPECT_TRUE(f.runs("all").empty());
  auto any_runs = f.runs("any");
  ASSERT_EQ(any_runs.size(), 1u);  // two events, one run
  EXPECT_EQ(f.h.store->run_dataset_events("any", any_runs[0].run_id)->size(), 2u);
  ASSERT_NO_FATAL_FAILURE(f.event("b"));
  ASSERT_NO_FATAL_FAILURE(f.drain());
  auto all_runs = f.runs("all");
  ASSERT_EQ(all_runs.size(), 1u);
  EXPECT_EQ(f.h.store->run_dataset_events("all", all_runs[0].run_id)->size(), 3u);
  EXPECT_EQ(f.runs("any").size(), 2u);
  EXPECT_EQ(read_file(f.h.dir.file("any.txt")), "0\n1\n");  // b did not trigger the first run: []
}

// As Airflow, which queues events for active DAGs only: what comes while a consumer is paused does
// not run it once unpaused; the next event does.
TEST(DatasetsTest, EventsWhileAConsumerIsPausedDoNotRunItLater) {
  auto consumer = parse_spec("schedule: [a]\ntasks:\n  - {id: t, shell: \"true\"}\n", "consumer");
  DatasetFixture f({consumer});
  ASSERT_TRUE(f.h.store->ensure_pipeline("consumer").ok());
  ASSERT_TRUE(f.h.store->set_paused("consumer", true).ok());
  ASSERT_NO_FATAL_FAILURE(f.drain());
  ASSERT_NO_FATAL_FAILURE(f.event("a"));
  ASSERT_NO_FATAL_FAILURE(f.event("a"));
  ASSERT_NO_FATAL_FAILURE(f.drain());
  EXPECT_TRUE(f.runs("consumer").empty());
  ASSERT_TRUE(f.h.store->set_paused("consumer", false).ok());
  ASSERT_NO_FATAL_FAILURE(f.drain());
  EXPECT_TRUE(f.runs("consumer").empty());
  ASSERT_NO_FATAL_FAILURE(f.event("a"));
  ASSERT_NO_FATAL_FAILURE(f.drain());
  auto runs = f.runs("consumer");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(f.h.store->run_dataset_events("consumer", runs[0].run_id)->size(), 1u);
}

// A run resumed after a crash between a task's success and its events records them then, once;
// a build's once all its tasks succeeded; nothing twice when the events are there.
TEST(DatasetsTest, AResumedRunRecordsTheOutletsACrashLost) {
  auto spec = std::make_shared<PipelineSpec>(*parse_spec(R"(
tasks:
  - {id: load, shell: "true", outlets: [a]}
  - {id: model.x, shell: "true", outlets: [g], depends_on: load}
  - {id: model.y, shell: "true", outlets: [g], depends_on: load}
  - {id: after, shell: "true", depends_on: [model.x, model.y]}
  - {id: marked, shell: "true", outlets: [m]}
)"));
  spec->tasks[1].outlets_build = spec->tasks[2].outlets_build = "build_gold";
  Harness h;
  FakeClock clock{kT0};
  Executor executor(*h.store, shell_runners(), clock, h.options(2));
  RunRecord run = testing::new_run("p", "r1");
  ASSERT_TRUE(h.store->ensure_pipeline("p").ok());
  ASSERT_TRUE(h.store->create_run(run).ok());
  // Before the crash: load and the whole build succeeded; none of their events was written.
  for (const char* task : {"load", "model.x", "model.y", "marked"}) {
    TaskInstanceRecord ti;
    ti.pipeline = "p";
    ti.run_id = "r1";
    ti.task_id = task;
    ti.state = TaskState::kSuccess;
    ti.try_number = 1;
    AttemptRecord attempt;
    attempt.pipeline = "p";
    attempt.run_id = "r1";
    attempt.task_id = task;
    // `marked` failed and was marked success by hand: it updated nothing.
    attempt.state = std::string(task) == "marked" ? TaskState::kFailed : TaskState::kSuccess;
    ASSERT_TRUE(h.store->save_attempt(ti, attempt).ok());
  }
  ASSERT_TRUE(executor.start_run(spec, run).ok());
  EXPECT_EQ(executor.wait("p", "r1"), RunState::kSuccess);
  auto events = h.store->run_outlet_events("p", "r1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].source_task_id, "load");
  EXPECT_EQ((*events)[1].source_task_id, "build_gold");
  // Resumed again (e.g. a clear of `after`): nothing is recorded twice.
  auto again = h.store->run("p", "r1");
  ASSERT_TRUE(again.ok() && *again);
  ASSERT_TRUE(executor.start_run(spec, **again).ok());
  EXPECT_EQ(executor.wait("p", "r1"), RunState::kSuccess);
  EXPECT_EQ(h.store->run_outlet_events("p", "r1")->size(), 2u);
}

// Airflow's DatasetOrTimeSchedule: scheduled runs on the clock, dataset-triggered runs on updates;
// the dataset runs do not move the timetable.
TEST(DatasetsTest, ACronAndDatasetScheduleRunsOnBoth) {
  auto spec = parse_spec(R"(
schedule: {cron: "@hourly", datasets: [a]}
start_date: 2026-03-01T00:00:00Z
catchup: false
tasks:
  - {id: t, shell: "true"}
)",
                         "both");
  DatasetFixture f({spec});
  f.clock.advance(3600'000'000LL + 60'000'000LL);
  ASSERT_NO_FATAL_FAILURE(f.drain());
  ASSERT_EQ(f.runs("both").size(), 1u);
  EXPECT_EQ(f.runs("both")[0].type, RunType::kScheduled);
  ASSERT_NO_FATAL_FAILURE(f.event("a"));
  ASSERT_NO_FATAL_FAILURE(f.drain());
  auto runs = f.runs("both");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].type, RunType::kDatasetTriggered);
  f.clock.advance(3600'000'000LL);
  ASSERT_NO_FATAL_FAILURE(f.drain());
  runs = f.runs("both");
  ASSERT_EQ(runs.size(), 3u);
  std::vector<RunRecord> scheduled;
  for (const auto& r : runs)
    if (r.type == RunType::kScheduled) scheduled.push_back(r);
  ASSERT_EQ(scheduled.size(), 2u);
  EXPECT_EQ(scheduled[0].interval_start, scheduled[1].interval_end);  // the interval after the first
}

// The tasks a `build:` task expands into carry its outlets (build_expansion.cpp): announced once,
// when the last of them succeeded, in the build task's name; never when one failed.
TEST(DatasetsTest, ABuildsOutletsAreAnnouncedOnceAllItsTasksSucceeded) {
  for (const bool fail : {false, true}) {
    SCOPED_TRACE(fail ? "a task fails" : "all succeed");
    auto spec = parse_spec(std::string(R"(
tasks:
  - {id: model.a, shell: "true", outlets: [warehouse://gold]}
  - {id: model.b, shell: "true", outlets: [warehouse://gold], depends_on: model.a}
  - {id: model.c, shell: ")") + (fail ? "exit 1" : "true") + R"(", outlets: [warehouse://gold], depends_on: model.a}
)");
    auto copy = std::make_shared<PipelineSpec>(*spec);
    for (auto& t : copy->tasks) t.outlets_build = "build_gold";
    Harness h;
    FakeClock clock{kT0};
    Executor executor(*h.store, shell_runners(), clock, h.options(4));
    EXPECT_EQ(h.run(executor, copy, testing::new_run("p", "r1")), fail ? RunState::kFailed : RunState::kSuccess);
    auto events = h.store->dataset_events("", 0, 10);
    ASSERT_TRUE(events.ok());
    if (fail) {
      EXPECT_TRUE(events->empty());
    } else {
      ASSERT_EQ(events->size(), 1u);
      EXPECT_EQ((*events)[0].source_task_id, "build_gold");
    }
  }
}

}  // namespace
}  // namespace strata::orchestrate
