// `sensor:` tasks (Airflow's SqlSensor, FileSensor and ExternalTaskSensor, in poke and reschedule
// mode) through the real executor: on a real DuckDB database, a real PostgreSQL server and the file
// system.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "orchestrate/sensor_runner.h"
#include "orchestrate_harness.h"
#include "support/pg_cluster.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::parse_spec;

Result<PipelineSpec> parse_text(const std::string& yaml) {
  auto doc = load_yaml_string(yaml, "pipelines/p.yml");
  if (!doc.ok()) return std::move(doc).error();
  return parse_pipeline(*doc, "p");
}

std::string log_of(Harness& h, const std::string& task, int try_number = 1) {
  std::ifstream in(task_log_path(h.dir.file(".strata/logs"), "p", "r", task, try_number));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A sensor runner on one DuckDB database (every target) and, for target "pg", PostgreSQL.
struct SensorRig {
  Harness h;
  std::unique_ptr<warehouse::Database> db;
  std::string pg_conninfo;
  std::unique_ptr<SystemClock> clock = std::make_unique<SystemClock>();
  std::unique_ptr<Executor> executor;

  explicit SensorRig(std::map<std::string, int> pools = {}) {
    auto opened = warehouse::open_duckdb(":memory:");
    EXPECT_TRUE(opened.ok());
    db = std::move(opened).value();
    warehouse::Database* raw = db.get();
    auto runner = std::make_shared<SensorRunner>(
        [raw](const std::string&) { return Result<warehouse::Database*>(raw); },
        [this](const std::string& target) -> Result<std::optional<std::string>> {
          if (target == "pg") return std::optional<std::string>(pg_conninfo);
          return std::optional<std::string>();
        });
    executor = std::make_unique<Executor>(*h.store, RunnerMap{{TaskKind::kSensor, runner}, {TaskKind::kShell, std::make_shared<ShellRunner>()}}, *clock, options(std::move(pools)));
  }
  ExecutorOptions options(std::map<std::string, int> pools) const {
    ExecutorOptions o = h.options();
    for (auto& [name, slots] : pools) o.pools[name] = slots;
    return o;
  }
  void sql(const std::string& text) {
    auto session = db->connect();
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE((*session)->execute(text).ok()) << text;
  }
  RunState run(const std::string& yaml) { return h.run(*executor, parse_spec(yaml), testing::new_run("p", "r")); }
};

TEST(SensorSpecTest, ParsesAirflowsSettingsWithItsDefaults) {
  auto spec = parse_text("tasks:\n  - id: wait\n    sensor:\n      sql: select 1\n    target: wh\n"
                         "  - id: file\n    sensor: {file: 'in/*.csv', poke_interval: 5s, timeout: 1h, soft_fail: true, "
                         "mode: poke}\n");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  const TaskSpec& wait = spec->tasks[0];
  EXPECT_EQ(wait.kind, TaskKind::kSensor);
  EXPECT_EQ(wait.sensor.kind, SensorSpec::Kind::kSql);
  EXPECT_EQ(wait.command, "select 1");
  EXPECT_EQ(wait.target, "wh");
  EXPECT_EQ(wait.sensor.poke_interval, 60'000'000);
  EXPECT_EQ(wait.sensor.timeout, 7 * 86'400'000'000LL);
  EXPECT_FALSE(wait.sensor.soft_fail);
  const TaskSpec& file = spec->tasks[1];
  EXPECT_EQ(file.sensor.kind, SensorSpec::Kind::kFile);
  EXPECT_EQ(file.command, "in/*.csv");
  EXPECT_EQ(file.sensor.poke_interval, 5'000'000);
  EXPECT_EQ(file.sensor.timeout, 3'600'000'000LL);
  EXPECT_TRUE(file.sensor.soft_fail);
}

TEST(SensorSpecTest, MistakesAreLocated) {
  const std::pair<std::string, std::string> cases[] = {
      {"    sensor: {sql: select 1, file: a}\n", "p.yml:3:13: error: a sensor waits for exactly one of sql, file or pipeline"},
      {"    sensor: {poke_interval: 5s}\n", "p.yml:3:13: error: a sensor waits for exactly one of sql, file or pipeline"},
      {"    sensor: {sql: select 1, task: load}\n", "p.yml:3:35: error: task is for pipeline sensors"},
      {"    sensor: {pipeline: up, task: load, allowed_states: [done]}\n",
       "p.yml:3:56: error: unknown task state 'done' in allowed_states"},
      {"    sensor: {pipeline: up, failed_states: [upstream_failed]}\n",
       "p.yml:3:43: error: unknown run state 'upstream_failed' in failed_states"},
      {"    sensor: {pipeline: 'a b'}\n", "p.yml:3:24: error: bad pipeline name 'a b'"},
      {"    sensor: {pipeline: up}\n    target: wh\n", "p.yml:4:13: error: target is for sql sensors"},
      {"    sensor: {pipeline: up, failed_states: [success]}\n", "error: state 'success' is both allowed and failed"},
      {"    sensor: select 1\n", "p.yml:3:13: error: sensor must be a mapping"},
      {"    sensor: {sql: select 1, mode: later}\n", "p.yml:3:35: error: unknown sensor mode 'later'"},
      {"    sensor: {sql: select 1, poke_interval: 0s}\n", "p.yml:3:44: error: poke_interval must be more than 0"},
      {"    sensor: {sql: select 1, timeout: soon}\n", "p.yml:3:38: error: bad duration for timeout"},
      {"    sensor: {sql: select 1, pokes: 3}\n", "p.yml:3:29: error: unknown key 'pokes' in a sensor"},
      {"    sensor: {file: a}\n    target: wh\n", "p.yml:4:13: error: target is for sql sensors"},
      {"    sensor: {file: a}\n    shell: ls\n", "must have exactly one of sync, build, test, freshness, sql, shell, sensor"},
  };
  for (const auto& [task, expected] : cases) {
    auto spec = parse_text("tasks:\n  - id: w\n" + task);
    ASSERT_FALSE(spec.ok()) << task;
    EXPECT_NE(spec.error().to_string().find(expected), std::string::npos) << spec.error().to_string();
  }
}

TEST(SensorSpecTest, APipelineSensorNamesAnotherRunOrTask) {
  auto spec = parse_text("tasks:\n  - id: w\n    sensor: {pipeline: ingest, task: load, execution_delta: 1h, "
                         "failed_states: [failed, upstream_failed]}\n  - id: r\n    sensor: {pipeline: ingest}\n");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  const SensorSpec& w = spec->tasks[0].sensor;
  EXPECT_EQ(w.kind, SensorSpec::Kind::kExternal);
  EXPECT_EQ(spec->tasks[0].command, "ingest");
  EXPECT_EQ(w.external_task, "load");
  EXPECT_EQ(w.execution_delta, 3'600'000'000LL);
  EXPECT_EQ(w.allowed_states, std::vector<std::string>{"success"});
  EXPECT_EQ(w.failed_states, (std::vector<std::string>{"failed", "upstream_failed"}));
  EXPECT_TRUE(spec->tasks[1].sensor.external_task.empty());
}

TEST(SensorValueTest, TruthinessIsPythons) {
  EXPECT_FALSE(sensor_value_truthy(true, "", false, false));
  EXPECT_TRUE(sensor_value_truthy(false, "true", true, false));
  EXPECT_FALSE(sensor_value_truthy(false, "false", true, false));
  EXPECT_FALSE(sensor_value_truthy(false, "f", true, false));
  EXPECT_FALSE(sensor_value_truthy(false, "0", false, true));
  EXPECT_FALSE(sensor_value_truthy(false, "0.00", false, true));
  EXPECT_TRUE(sensor_value_truthy(false, "-2", false, true));
  EXPECT_FALSE(sensor_value_truthy(false, "", false, false));
  EXPECT_TRUE(sensor_value_truthy(false, "0", false, false));  // the string '0' is true in Python
}

TEST(SensorTest, ASqlSensorWaitsUntilItsQueryTurnsTrue) {
  SensorRig rig;
  rig.sql("create table arrivals (id int)");
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    rig.sql("insert into arrivals values (1)");
  });
  const int64_t t0 = monotonic_micros();
  const RunState state = rig.run(R"(
tasks:
  - id: wait
    sensor: {sql: "select count(*) from arrivals", poke_interval: 100ms, timeout: 20s}
)");
  later.join();
  EXPECT_EQ(state, RunState::kSuccess) << log_of(rig.h, "wait");
  EXPECT_GE(monotonic_micros() - t0, 350'000);
  const std::string log = log_of(rig.h, "wait");
  EXPECT_NE(log.find("poke 1: not met"), std::string::npos) << log;
  EXPECT_NE(log.find(": met after"), std::string::npos) << log;
}

TEST(SensorTest, ATimedOutSensorFailsWithoutRetries) {
  SensorRig rig;
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {sql: "select null", poke_interval: 100ms, timeout: 500ms}
    retries: 3
    retry_delay: 0s
  - id: after
    shell: "true"
    depends_on: [wait]
)"),
            RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - t0;
  EXPECT_GE(elapsed, 450'000);
  EXPECT_LT(elapsed, 10'000'000);
  auto tis = rig.h.states("r");
  EXPECT_EQ(tis["wait"].state, TaskState::kFailed);
  EXPECT_EQ(tis["wait"].try_number, 1);  // AirflowSensorTimeout is not retried
  EXPECT_EQ(tis["after"].state, TaskState::kUpstreamFailed);
  auto attempt = (*rig.h.store->attempts("p", "r", "wait"))[0];
  EXPECT_NE(attempt.error.find("sensor timed out after"), std::string::npos) << attempt.error;
  EXPECT_NE(attempt.error.find("soft_fail"), std::string::npos) << attempt.error;  // the hint
}

TEST(SensorTest, AFailingPokeIsRetriedLikeAnyFailure) {
  SensorRig rig;
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {sql: "select * from no_such_table", poke_interval: 100ms, timeout: 5s}
    retries: 1
    retry_delay: 0s
)"),
            RunState::kFailed);
  EXPECT_EQ(rig.h.states("r")["wait"].try_number, 2);
  auto attempt = (*rig.h.store->attempts("p", "r", "wait"))[0];
  EXPECT_NE(attempt.error.find("sensor poke 1"), std::string::npos) << attempt.error;
  EXPECT_NE(attempt.error.find("no_such_table"), std::string::npos) << attempt.error;
}

TEST(SensorTest, SoftFailSkipsTheSensorAndWhatNeedsIt) {
  SensorRig rig;
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {sql: "select 0", poke_interval: 100ms, timeout: 300ms, soft_fail: true}
  - id: after
    shell: "true"
    depends_on: [wait]
)"),
            RunState::kSuccess);
  auto tis = rig.h.states("r");
  EXPECT_EQ(tis["wait"].state, TaskState::kSkipped);
  EXPECT_EQ(tis["after"].state, TaskState::kSkipped);
  EXPECT_NE(log_of(rig.h, "wait").find("soft_fail: the task is skipped"), std::string::npos);
}

TEST(SensorTest, AFileSensorWaitsForAMatchingFile) {
  SensorRig rig;
  std::filesystem::create_directories(rig.h.dir.file("landing/empty"));
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    std::ofstream(rig.h.dir.file("landing/orders_1970-01-01.csv")) << "id\n1\n";
  });
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait_empty_folder
    sensor: {file: "landing/empty", poke_interval: 100ms, timeout: 300ms, soft_fail: true}
  - id: wait_csv
    sensor: {file: "landing/orders_{{ ds }}.csv", poke_interval: 100ms, timeout: 10s}
)"),
            RunState::kSuccess);
  later.join();
  auto tis = rig.h.states("r");
  EXPECT_EQ(tis["wait_empty_folder"].state, TaskState::kSkipped);  // an empty folder is not there yet
  EXPECT_EQ(tis["wait_csv"].state, TaskState::kSuccess);
  EXPECT_NE(log_of(rig.h, "wait_csv").find("path landing/orders_1970-01-01.csv"), std::string::npos)
      << log_of(rig.h, "wait_csv");
}

TEST(SensorTest, ExecutionTimeoutStopsASleepingSensorAtOnce) {
  SensorRig rig;
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {sql: "select false", poke_interval: 1h, timeout: 2h}
    execution_timeout: 500ms
)"),
            RunState::kFailed);
  EXPECT_LT(monotonic_micros() - t0, 5'000'000);
  auto attempt = (*rig.h.store->attempts("p", "r", "wait"))[0];
  EXPECT_NE(attempt.error.find("execution_timeout"), std::string::npos) << attempt.error;
}

// The run of another pipeline an hour earlier, with one task, in the rig's store.
void upstream_run(SensorRig& rig, TaskState load_state, const std::string& task = "load", const std::string& group = "") {
  ASSERT_TRUE(rig.h.store->ensure_pipeline("ingest").ok());
  auto existing = rig.h.store->run("ingest", "u");
  if (!existing.ok() || !existing->has_value()) {
    ASSERT_TRUE(rig.h.store->create_run(testing::new_run("ingest", "u", -3'600'000'000LL)).ok());
  }
  TaskInstanceRecord ti;
  ti.pipeline = "ingest";
  ti.run_id = "u";
  ti.task_id = task;
  ti.group = group;
  ti.state = load_state;
  ASSERT_TRUE(rig.h.store->upsert_task_instance(ti).ok());
}

TEST(SensorTest, APipelineSensorWaitsForAnotherPipelinesTask) {
  SensorRig rig;
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    upstream_run(rig, TaskState::kRunning);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    upstream_run(rig, TaskState::kSuccess);
  });
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {pipeline: ingest, task: load, execution_delta: 1h, poke_interval: 100ms, timeout: 20s}
)"),
            RunState::kSuccess);
  later.join();
  const std::string log = log_of(rig.h, "wait");
  EXPECT_NE(log.find("no run of pipeline 'ingest' at 1969-12-31T23:00:00"), std::string::npos) << log;
  EXPECT_NE(log.find("task 'load' of run u of pipeline 'ingest' is running"), std::string::npos) << log;
  EXPECT_NE(log.find("task 'load' of run u of pipeline 'ingest' is success"), std::string::npos) << log;
}

TEST(SensorTest, APipelineSensorFailsOnAFailedState) {
  SensorRig rig;
  upstream_run(rig, TaskState::kUpstreamFailed);
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {pipeline: ingest, task: load, execution_delta: 1h, failed_states: [failed, upstream_failed],
             poke_interval: 100ms, timeout: 20s}
  - id: same_date
    sensor: {pipeline: ingest, poke_interval: 100ms, timeout: 300ms, soft_fail: true}
)"),
            RunState::kFailed);
  auto tis = rig.h.states("r");
  EXPECT_EQ(tis["wait"].state, TaskState::kFailed);
  EXPECT_EQ(tis["same_date"].state, TaskState::kSkipped);  // no run of ingest at this run's own date
  auto attempt = (*rig.h.store->attempts("p", "r", "wait"))[0];
  EXPECT_NE(attempt.error.find("task 'load' of run u of pipeline 'ingest' is upstream_failed, one of the sensor's "
                               "failed_states"),
            std::string::npos)
      << attempt.error;
}

// `task:` naming a group (a build: task's expansion): met when all of it succeeded; soft_fail
// skips on a failed state.
TEST(SensorTest, APipelineSensorWaitsForATaskGroup) {
  SensorRig rig;
  upstream_run(rig, TaskState::kSuccess, "model.shop.a", "dbt");  // model.shop.b has not started: no record
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    upstream_run(rig, TaskState::kSuccess, "model.shop.b", "dbt");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto run = rig.h.store->run("ingest", "u");
    RunRecord ended = **run;
    ended.state = RunState::kSuccess;
    ASSERT_TRUE(rig.h.store->update_run(ended).ok());
  });
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {pipeline: ingest, task: dbt, execution_delta: 1h, poke_interval: 100ms, timeout: 20s}
)"),
            RunState::kSuccess);
  later.join();
  const std::string log = log_of(rig.h, "wait");
  // One task done and the run still going is not the group done (its other task had no record yet).
  EXPECT_NE(log.find("group 'dbt' (1 of 1 tasks success) of run u of pipeline 'ingest' is not done yet"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("group 'dbt' (2 of 2 tasks success) of run u of pipeline 'ingest' is done"), std::string::npos)
      << log;
}

TEST(SensorTest, SoftFailSkipsOnAFailedState) {
  SensorRig rig;
  upstream_run(rig, TaskState::kFailed);
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {pipeline: ingest, task: load, execution_delta: 1h, failed_states: [failed], soft_fail: true,
             poke_interval: 100ms, timeout: 20s}
)"),
            RunState::kSuccess);
  EXPECT_EQ(rig.h.states("r")["wait"].state, TaskState::kSkipped);
}

TEST(SensorTest, ASqlSensorPokesPostgres) {
  auto& cluster = strata::testing::shared_pg_cluster();
  SensorRig rig;
  rig.pg_conninfo = cluster.create_database("orch_sensor");
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {sql: "select now() > '2000-01-01'::timestamptz", poke_interval: 100ms, timeout: 5s}
    target: pg
  - id: never
    sensor: {sql: "select 0::numeric", poke_interval: 100ms, timeout: 300ms, soft_fail: true}
    target: pg
)"),
            RunState::kSuccess);
  auto tis = rig.h.states("r");
  EXPECT_EQ(tis["wait"].state, TaskState::kSuccess);
  EXPECT_EQ(tis["never"].state, TaskState::kSkipped);
}

// mode: reschedule frees the sensor's pool slot between pokes: a task sharing a one-slot pool runs
// meanwhile and creates what the sensor waits for (in poke mode they would wait on each other until
// the timeout). Every poke is the same try, its log appended; the instance is up_for_reschedule in
// between.
TEST(SensorTest, ARescheduledSensorFreesItsSlotBetweenPokes) {
  SensorRig rig({{"one", 1}});
  std::atomic<bool> seen_rescheduled{false};
  std::atomic<bool> done{false};
  std::thread watch([&] {
    while (!done) {
      auto tis = rig.h.store->task_instances("p", "r");
      if (tis.ok())
        for (const auto& ti : *tis)
          if (ti.task_id == "wait" && ti.state == TaskState::kUpForReschedule) seen_rescheduled = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const RunState state = rig.run(R"(
tasks:
  - id: wait
    sensor: {file: flag, poke_interval: 200ms, timeout: 20s, mode: reschedule}
    pool: one
    priority: 10
  - id: make_flag
    shell: "sleep 0.3; touch flag"
    pool: one
)");
  done = true;
  watch.join();
  EXPECT_EQ(state, RunState::kSuccess);
  EXPECT_TRUE(seen_rescheduled.load());
  auto tis = rig.h.states("r");
  EXPECT_EQ(tis["wait"].state, TaskState::kSuccess);
  EXPECT_EQ(tis["wait"].try_number, 1);
  EXPECT_LE(tis["wait"].start_at, tis["make_flag"].start_at);  // its start is the first poke's
  auto attempts = rig.h.store->attempts("p", "r", "wait");
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].state, TaskState::kSuccess);
  const std::string log = log_of(rig.h, "wait");
  EXPECT_NE(log.find("not met; rescheduled"), std::string::npos) << log;
  EXPECT_NE(log.find("up_for_reschedule: next poke at"), std::string::npos) << log;
  EXPECT_NE(log.find("met after"), std::string::npos) << log;
}

// At the timeout (counted from the first poke, across reschedules) it fails without retry, or is
// skipped with soft_fail.
TEST(SensorTest, ARescheduledSensorTimesOutFromItsFirstPoke) {
  SensorRig rig;
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor: {sql: "select false", poke_interval: 100ms, timeout: 500ms, mode: reschedule}
    retries: 2
    retry_delay: 0s
  - id: skip
    sensor: {file: never, poke_interval: 100ms, timeout: 300ms, mode: reschedule, soft_fail: true}
)"),
            RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - t0;
  EXPECT_GE(elapsed, 450'000);
  EXPECT_LT(elapsed, 10'000'000);
  auto tis = rig.h.states("r");
  EXPECT_EQ(tis["wait"].state, TaskState::kFailed);
  EXPECT_EQ(tis["wait"].try_number, 1);  // not retried
  EXPECT_EQ(tis["skip"].state, TaskState::kSkipped);
  auto attempts = *rig.h.store->attempts("p", "r", "wait");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_NE(attempts[0].error.find("sensor timed out after"), std::string::npos) << attempts[0].error;
  EXPECT_NE(attempts[0].error.find("reschedule mode"), std::string::npos) << attempts[0].error;
  const std::string log = log_of(rig.h, "wait");
  size_t pokes = 0;
  for (size_t at = log.find("not met; rescheduled"); at != std::string::npos; at = log.find("not met; rescheduled", at + 1))
    ++pokes;
  EXPECT_GE(pokes, 4u) << log;  // about one per 100 ms, the last at the timeout
}

// As Airflow's: a retry does not restart a rescheduled sensor's clock. The first try's poke fails
// (its query raises until `ready_at`), the retry waits 1.5 s, and the timeout still counts from the
// first try's first poke: the sensor fails ~2 s after it began, not 1.5 s + 2 s.
TEST(SensorTest, ARescheduledSensorsTimeoutSpansItsRetries) {
  SensorRig rig;
  const int64_t t0 = monotonic_micros();
  const int64_t ready_at_ms = (now_micros() + 600'000) / 1000;
  EXPECT_EQ(rig.run(R"(
tasks:
  - id: wait
    sensor:
      sql: "select case when epoch_ms(now()) < )" + std::to_string(ready_at_ms) + R"( then error('not yet') else false end"
      poke_interval: 100ms
      timeout: 2s
      mode: reschedule
    retries: 3
    retry_delay: 1500ms
)"),
            RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - t0;
  auto attempts = *rig.h.store->attempts("p", "r", "wait");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_NE(attempts[0].error.find("not yet"), std::string::npos) << attempts[0].error;
  EXPECT_NE(attempts[1].error.find("sensor timed out after"), std::string::npos) << attempts[1].error;
  EXPECT_GE(elapsed, 1'900'000);
  EXPECT_LT(elapsed, 3'000'000) << "the retry restarted the timeout";
}

// Waits until the sensor `wait` of run r is in `state` (polling the store); false after 10 s.
bool wait_for_state(Harness& h, TaskState state) {
  for (int i = 0; i < 500; ++i) {
    auto tis = h.store->task_instances("p", "r");
    if (tis.ok())
      for (const auto& ti : *tis)
        if (ti.task_id == "wait" && ti.state == state) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A cancel between two pokes skips the sensor and ends its attempt; a shutdown during a poke is no
// failure: the sensor is up_for_reschedule in the same try, to poke again when the run resumes.
TEST(SensorTest, ARescheduledSensorSurvivesAShutdownAndEndsOnACancel) {
  {
    SensorRig rig;
    auto spec = parse_spec("tasks:\n  - id: wait\n    sensor: {file: never, poke_interval: 30s, mode: reschedule}\n");
    ASSERT_TRUE(rig.h.store->ensure_pipeline("p").ok());
    ASSERT_TRUE(rig.h.store->create_run(testing::new_run("p", "r")).ok());
    ASSERT_TRUE(rig.executor->start_run(spec, testing::new_run("p", "r")).ok());
    ASSERT_TRUE(wait_for_state(rig.h, TaskState::kUpForReschedule));
    ASSERT_TRUE(rig.executor->cancel_run("p", "r", "stop it"));
    EXPECT_EQ(rig.executor->wait("p", "r"), RunState::kFailed);
    EXPECT_EQ(rig.h.states("r")["wait"].state, TaskState::kSkipped);
    auto attempts = *rig.h.store->attempts("p", "r", "wait");
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].state, TaskState::kSkipped);
    EXPECT_GT(attempts[0].end_at, 0);
  }
  SensorRig rig;
  auto spec = parse_spec(
      "tasks:\n  - id: wait\n    sensor: {sql: \"select count(*) > 0 from range(100000000000)\", poke_interval: 1s, "
      "mode: reschedule}\n");
  ASSERT_TRUE(rig.h.store->ensure_pipeline("p").ok());
  ASSERT_TRUE(rig.h.store->create_run(testing::new_run("p", "r")).ok());
  ASSERT_TRUE(rig.executor->start_run(spec, testing::new_run("p", "r")).ok());
  ASSERT_TRUE(testing::wait_until_running(*rig.h.store, {"wait"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the poke's query is running
  rig.executor->shutdown();
  auto ti = rig.h.states("r")["wait"];
  EXPECT_EQ(ti.state, TaskState::kUpForReschedule);
  EXPECT_EQ(ti.try_number, 1);
  auto attempts = *rig.h.store->attempts("p", "r", "wait");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].state, TaskState::kUpForReschedule);
  EXPECT_NE(log_of(rig.h, "wait").find("poke stopped by the shutdown"), std::string::npos) << log_of(rig.h, "wait");
}

}  // namespace
}  // namespace strata::orchestrate
