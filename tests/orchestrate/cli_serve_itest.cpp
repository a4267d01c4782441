// `strata serve` killed with SIGKILL mid-run and restarted: the run ends, every task retried or
// failed, none left running; a sync task killed mid-COPY is retried and bronze holds every row
// exactly once; `strata pipeline backfill` of two pipelines over the same dates. Drives the real
// binary on a temp project.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "common/strings.h"
#include "orchestrate/sqlite_store.h"
#include "orchestrate_harness.h"
#include "support/child_process.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"
#include "warehouse/warehouse.h"

extern char** environ;

namespace strata::orchestrate {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";

std::string run_cli(const std::string& args, int* exit_code = nullptr) {
  strata::testing::CommandOutput run = strata::testing::run_command(kStrata + " " + args);
  if (exit_code) *exit_code = run.exit_code;
  return run.output;
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
  ASSERT_TRUE(testing::wait_until_running(*store, {"long"})) << "serve never started the long task";
  ASSERT_EQ(::kill(serve, SIGKILL), 0);
  int status = 0;
  ::waitpid(serve, &status, 0);

  serve = start_serve(dir.path());
  RunState state = RunState::kRunning;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto run = store->run("p", run_id);
    if (run.ok() && *run && ((*run)->state == RunState::kSuccess || (*run)->state == RunState::kFailed)) {
      state = (*run)->state;
      break;
    }
  }
  ::kill(serve, SIGTERM);
  ::waitpid(serve, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "serve did not stop cleanly on SIGTERM";
  EXPECT_EQ(state, RunState::kSuccess);
  auto tis = store->task_instances("p", run_id);
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

// Run ids are unique per pipeline: two pipelines backfill the same dates through the real CLI, and
// `strata pipeline logs RUN TASK` asks which pipeline when the id is in both.
TEST(CliServeTest, TwoPipelinesBackfillTheSameDates) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("pipelines"));
  for (const char* name : {"a", "b"})
    ASSERT_TRUE(write_file_atomic(dir.file(std::string("pipelines/") + name + ".yml"),
                                  "schedule: \"0 0 * * *\"\nstart_date: 2099-01-01\n"
                                  "tasks:\n  - {id: work, shell: \"echo work of " + std::string(name) + "\"}\n"));
  int code = -1;
  for (const char* name : {"a", "b"}) {
    std::string out = run_cli("pipeline --project-dir " + dir.path() + " backfill " + name +
                                  " --from 2026-01-01 --to 2026-01-02", &code);
    EXPECT_EQ(code, 0) << name << ": " << out;
    EXPECT_NE(out.find("backfill__2026-01-02T00:00:00Z success"), std::string::npos) << out;
  }
  auto store = std::move(SqliteStore::open(dir.file(".strata/strata.db"))).value();
  for (const char* name : {"a", "b"}) {
    auto runs = store->runs(name, std::nullopt, 10);
    ASSERT_EQ(runs->size(), 2u) << name;
    for (const auto& r : *runs) EXPECT_EQ(r.state, RunState::kSuccess) << name << " " << r.run_id;
  }
  std::string ambiguous = run_cli("pipeline --project-dir " + dir.path() + " logs backfill__2026-01-01T00:00:00Z work",
                                  &code);
  EXPECT_EQ(code, 2) << ambiguous;
  EXPECT_NE(ambiguous.find("several pipelines: a, b"), std::string::npos) << ambiguous;
  std::string log = run_cli("pipeline --project-dir " + dir.path() +
                                " logs backfill__2026-01-01T00:00:00Z work --pipeline b", &code);
  EXPECT_EQ(code, 0) << log;
  EXPECT_NE(log.find("work of b"), std::string::npos) << log;
}

// `strata pipeline backfill X` creates and runs X's backfill runs only, as Airflow's backfill does:
// no scheduled run of X or of another pipeline is created, started or left behind.
TEST(CliServeTest, BackfillRunsOnlyItsOwnRuns) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("pipelines"));
  const std::string due = "schedule: \"@hourly\"\nstart_date: 2026-01-01\ncatchup: false\n"
                          "tasks:\n  - {id: work, shell: \"sleep 0.2\"}\n";
  ASSERT_TRUE(write_file_atomic(dir.file("pipelines/x.yml"), due));
  ASSERT_TRUE(write_file_atomic(dir.file("pipelines/y.yml"), due));
  int code = -1;
  std::string out = run_cli("pipeline --project-dir " + dir.path() +
                                " backfill x --from 2026-01-01T00:00:00Z --to 2026-01-01T01:00:00Z", &code);
  ASSERT_EQ(code, 0) << out;
  auto store = std::move(SqliteStore::open(dir.file(".strata/strata.db"))).value();
  auto x = store->runs("x", std::nullopt, 100);
  ASSERT_EQ(x->size(), 2u) << out;
  for (const auto& r : *x) {
    EXPECT_EQ(r.type, RunType::kBackfill) << r.run_id;
    EXPECT_EQ(r.state, RunState::kSuccess) << r.run_id;
  }
  EXPECT_TRUE(store->runs("y", std::nullopt, 100)->empty());
  EXPECT_TRUE(store->runs("", RunState::kRunning, 100)->empty());
  EXPECT_TRUE(store->runs("", RunState::kQueued, 100)->empty());
}

// Polls the store until the run ends (or `seconds` pass); returns its last state.
RunState wait_run_end(SqliteStore& store, const std::string& run_id, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto run = store.run("p", run_id);
    if (run.ok() && *run && ((*run)->state == RunState::kSuccess || (*run)->state == RunState::kFailed))
      return (*run)->state;
  }
  return RunState::kRunning;
}

// SIGTERM stops serve as its last log line says: a running attempt without retries fails, one
// with retries left is up_for_retry and runs again after the next start, which ends the run.
TEST(CliServeTest, StopCancelsAttemptsAsTheLogSays) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("pipelines"));
  ASSERT_TRUE(write_file_atomic(dir.file("pipelines/p.yml"), R"(
tasks:
  - {id: no_retry, shell: "sleep 30"}
  - {id: with_retry, shell: "test -f marker || { touch marker; sleep 30; }", retries: 1, retry_delay: 0}
)"));
  int code = -1;
  std::string queued = run_cli("pipeline --project-dir " + dir.path() + " run p", &code);
  ASSERT_EQ(code, 0) << queued;
  const std::string run_id = queued.substr(0, queued.find(' '));
  pid_t serve = start_serve(dir.path());
  auto store = std::move(SqliteStore::open(dir.file(".strata/strata.db"))).value();
  ASSERT_TRUE(testing::wait_until_running(*store, {"no_retry", "with_retry"})) << "serve never started both tasks";
  ASSERT_EQ(::kill(serve, SIGTERM), 0);
  int status = 0;
  ::waitpid(serve, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string err;
  ASSERT_TRUE(read_file(dir.file("serve.err"), err));
  EXPECT_NE(err.find("one with retries left becomes up_for_retry"), std::string::npos) << err;
  EXPECT_EQ(err.find("retried by the next start"), std::string::npos) << err;
  auto tis = store->task_instances("p", run_id);
  ASSERT_TRUE(tis.ok());
  std::map<std::string, TaskState> states;
  for (const auto& ti : *tis) states[ti.task_id] = ti.state;
  EXPECT_EQ(states["no_retry"], TaskState::kFailed);
  EXPECT_EQ(states["with_retry"], TaskState::kUpForRetry);

  serve = start_serve(dir.path());
  const RunState state = wait_run_end(*store, run_id, 30);
  ::kill(serve, SIGTERM);
  ::waitpid(serve, &status, 0);
  EXPECT_EQ(state, RunState::kFailed);  // no_retry failed for good
  auto after = store->task_instances("p", run_id);
  ASSERT_TRUE(after.ok());
  for (const auto& ti : *after) {
    if (ti.task_id == "no_retry") {
      EXPECT_EQ(ti.try_number, 1);
    }
    if (ti.task_id == "with_retry") {
      EXPECT_EQ(ti.state, TaskState::kSuccess);
      EXPECT_EQ(ti.try_number, 2);
    }
  }
}

TEST(CliServeTest, SyncKilledMidCopyIsRetriedWithoutDuplicates) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_crash_sync");
  // A source whose rows come slowly (a pause every 5,000 rows): each sync takes ~10 s.
  cluster.execute("create table src(id int primary key, updated_at timestamp not null, pad text); "
                  "insert into src select g, now(), repeat('x', 50) from generate_series(1, 50000) g; "
                  "create function slow(i int) returns int language plpgsql as "
                  "$$ begin if i % 5000 = 0 then perform pg_sleep(1); end if; return i; end $$; "
                  "create view slow_src as select slow(id) as id, updated_at, pad from src",
                  "orch_crash_sync");
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("pipelines"));
  std::filesystem::create_directories(dir.file("connections"));
  ASSERT_TRUE(write_file_atomic(dir.file("connections/src.yml"),
                                "source:\n  type: postgres\n  host: 127.0.0.1\n  port: " +
                                    std::to_string(cluster.port()) +
                                    "\n  database: orch_crash_sync\n  user: postgres\n  schemas: [public]\n"
                                    "destination:\n  schema: bronze\n  duckdb_path: .strata/warehouse.duckdb\n"
                                    "streams:\n  - name: public.slow_src\n    sync_mode: incremental_dedup\n"
                                    "    cursor_field: updated_at\n    primary_key: [id]\n"));
  ASSERT_TRUE(write_file_atomic(dir.file("pipelines/p.yml"),
                                "tasks:\n  - {id: load, sync: src, retries: 1, retry_delay: 0}\n"));
  int code = -1;
  std::string queued = run_cli("pipeline --project-dir " + dir.path() + " run p", &code);
  ASSERT_EQ(code, 0) << queued;
  const std::string run_id = queued.substr(0, queued.find(' '));

  pid_t serve = start_serve(dir.path());
  auto store = std::move(SqliteStore::open(dir.file(".strata/strata.db"))).value();
  ASSERT_TRUE(testing::wait_until_running(*store, {"load"})) << "serve never started the sync";
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // mid-COPY
  ASSERT_EQ(::kill(serve, SIGKILL), 0);
  int status = 0;
  ::waitpid(serve, &status, 0);

  serve = start_serve(dir.path());
  const RunState state = wait_run_end(*store, run_id, 90);
  ::kill(serve, SIGTERM);
  ::waitpid(serve, &status, 0);
  EXPECT_EQ(state, RunState::kSuccess);
  auto tis = store->task_instances("p", run_id);
  ASSERT_TRUE(tis.ok());
  ASSERT_EQ(tis->size(), 1u);
  EXPECT_EQ((*tis)[0].try_number, 2);
  auto reports = store->sync_reports("p", run_id);
  ASSERT_TRUE(reports.ok());
  EXPECT_EQ(reports->size(), 1u);  // only the retry finished

  auto db = warehouse::open_duckdb(dir.file(".strata/warehouse.duckdb"));
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto session = (*db)->connect();
  ASSERT_TRUE(session.ok());
  auto q = (*session)->query("select count(*), count(distinct id) from bronze.slow_src");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(q->cell_text(0, 0), "50000");
  EXPECT_EQ(q->cell_text(0, 1), "50000");
}

}  // namespace
}  // namespace strata::orchestrate

namespace strata::orchestrate {
namespace {

// `strata datasets` next to `strata serve`: a producer run by `strata pipeline run --wait` before
// serve started, and an event recorded by `strata datasets event` while it runs, each trigger the
// consumer that serve schedules; list and events show them; bad input exits 2 with nothing stored.
TEST(CliServeTest, DatasetsFromTheCommandLineTriggerServesConsumer) {
  ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("pipelines"));
  ASSERT_TRUE(write_file_atomic(dir.file("pipelines/producer.yml"),
                                "tasks:\n  - {id: load, shell: \"true\", outlets: [s3://lake/orders]}\n"));
  ASSERT_TRUE(write_file_atomic(dir.file("pipelines/consumer.yml"),
                                "schedule: [s3://lake/orders]\ntasks:\n  - {id: report, shell: \"true\"}\n"));
  // The producer runs before any `strata serve`: the consumer waits from the first process that
  // read its file, so this event counts once serve starts.
  int code = -1;
  std::string out = run_cli("pipeline --project-dir " + dir.path() + " run producer --wait", &code);
  ASSERT_EQ(code, 0) << out;
  pid_t serve = start_serve(dir.path());
  auto store = std::move(SqliteStore::open(dir.file(".strata/strata.db"))).value();
  auto consumer_runs = [&](size_t n) {
    for (int i = 0; i < 400; ++i) {
      auto runs = store->runs("consumer", std::nullopt, 100);
      if (runs.ok() && runs->size() == n && std::all_of(runs->begin(), runs->end(), [](const RunRecord& r) {
            return r.state == RunState::kSuccess;
          }))
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  EXPECT_TRUE(consumer_runs(1)) << "the producer's outlet did not trigger the consumer";
  out = run_cli("datasets --project-dir " + dir.path() + " event s3://lake/orders --extra '{\"rows\": 5}'", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("dataset event 2 on s3://lake/orders"), std::string::npos) << out;
  EXPECT_TRUE(consumer_runs(2)) << "the command line's event did not trigger the consumer";

  out = run_cli("datasets --project-dir " + dir.path() + " list", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("s3://lake/orders"), std::string::npos) << out;
  EXPECT_NE(out.find("producer.load, -> consumer"), std::string::npos) << out;
  out = run_cli("datasets --project-dir " + dir.path() + " events s3://lake/orders", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("producer.load"), std::string::npos) << out;
  EXPECT_NE(out.find(" api"), std::string::npos) << out;
  out = run_cli("pipeline --project-dir " + dir.path() + " list", &code);
  EXPECT_NE(out.find("datasets: s3://lake/orders"), std::string::npos) << out;
  out = run_cli("pipeline --project-dir " + dir.path() + " runs consumer", &code);
  EXPECT_NE(out.find("dataset_triggered__"), std::string::npos) << out;

  out = run_cli("datasets --project-dir " + dir.path() + " event 's3://a b'", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("whitespace"), std::string::npos) << out;
  out = run_cli("datasets --project-dir " + dir.path() + " event s3://lake/ordres", &code);
  EXPECT_EQ(code, 2) << out;  // kNotFound: a typo triggers nothing
  EXPECT_NE(out.find("no pipeline names dataset 's3://lake/ordres'"), std::string::npos) << out;
  out = run_cli("datasets --project-dir " + dir.path() + " events --limit 0", &code);
  EXPECT_EQ(code, 2) << out;
  out = run_cli("datasets --project-dir " + dir.path() + " event s3://lake/orders --extra '[1]'", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--extra must be a JSON object"), std::string::npos) << out;
  EXPECT_EQ(store->dataset_events("", 0, 10)->size(), 2u);
  EXPECT_TRUE(strata::testing::stop_child(serve));
}

}  // namespace
}  // namespace strata::orchestrate
