// Tasks against a real PostgreSQL (the shared test cluster): execution_timeout cancelling a long
// PostgreSQL query for real (the backend is gone from pg_stat_activity), a sync task copying a
// connection into a DuckDB bronze with its report in the store, and a sync stopped by its
// timeout mid-COPY (the COPY backend is gone, bronze holds nothing of the stopped stream).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/databases.h"
#include "orchestrate/sql_runner.h"
#include "orchestrate/sync_runner.h"
#include "orchestrate_harness.h"
#include "pg/connection.h"
#include "support/pg_cluster.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::parse_spec;

int count_pg(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::connect(conninfo);
  EXPECT_TRUE(conn.ok()) << conn.error().to_string();
  auto r = conn->exec(sql);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return std::stoi(std::string(r->value(0, 0)));
}

// Waits up to 5 s for a count to reach zero (a cancelled backend takes a moment to exit).
int wait_zero(const std::string& conninfo, const std::string& sql) {
  int n = 0;
  for (int i = 0; i < 50; ++i) {
    n = count_pg(conninfo, sql);
    if (n == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return n;
}

TEST(PgTimeoutTest, ExecutionTimeoutCancelsALongPostgresQuery) {
  auto& cluster = strata::testing::shared_pg_cluster();
  const std::string conninfo = cluster.create_database("orch_timeout");
  Harness h;
  auto unused = warehouse::open_duckdb(":memory:");
  ASSERT_TRUE(unused.ok());
  warehouse::Database* raw = unused->get();
  auto runner = std::make_shared<SqlRunner>(
      [raw](const std::string&) { return Result<warehouse::Database*>(raw); },
      [conninfo](const std::string& target) -> Result<std::optional<std::string>> {
        if (target == "pg") return std::optional<std::string>(conninfo);
        return std::optional<std::string>();
      });
  auto spec = parse_spec(R"yaml(
tasks:
  - id: sleepy
    sql: "select pg_sleep(60)"
    target: pg
    execution_timeout: 1s
)yaml");
  SystemClock clock;
  Executor executor(*h.store, RunnerMap{{TaskKind::kSql, runner}}, clock, h.options());
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(h.run(executor, spec, testing::new_run("p", "r")), RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - t0;
  EXPECT_GE(elapsed, 900'000);
  EXPECT_LT(elapsed, 20'000'000);
  auto attempt = (*h.store->attempts("p", "r", "sleepy"))[0];
  EXPECT_NE(attempt.error.find("execution_timeout"), std::string::npos) << attempt.error;
  EXPECT_EQ(wait_zero(conninfo, "select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' "
                                "and pid <> pg_backend_pid()"),
            0);
}

// A project folder with a connection file to `database` and a DuckDB bronze inside it.
struct SyncProject {
  strata::testing::TempDir dir;
  explicit SyncProject(const strata::testing::PgCluster& cluster, const std::string& database) {
    std::filesystem::create_directories(dir.file("connections"));
    std::ofstream(dir.file("connections/src.yml"))
        << "source:\n  type: postgres\n  host: " << cluster.host() << "\n  port: " << cluster.port()
        << "\n  database: " << database << "\n  user: postgres\n  schemas: [public]\n"
        << "destination:\n  schema: bronze\n  duckdb_path: .strata/warehouse.duckdb\n";
  }
};

// A sync runner for a project and an executor that runs its tasks: the set-up every sync test shares.
struct SyncRig {
  Harness h;
  Databases databases;
  std::shared_ptr<SyncRunner> runner;
  SystemClock clock;
  std::unique_ptr<Executor> executor;
  explicit SyncRig(const std::string& project_dir)
      : databases(project_dir, std::make_shared<SecretMasker>()),
        runner(std::make_shared<SyncRunner>(databases, std::make_shared<SecretMasker>())) {
    auto options = h.options();
    options.project_dir = project_dir;
    executor = std::make_unique<Executor>(*h.store, RunnerMap{{TaskKind::kSync, runner}}, clock, options);
  }
  // Runs `spec` as run `run_id` of pipeline `pipeline` to its end.
  RunState run(const std::shared_ptr<const PipelineSpec>& spec, const std::string& run_id = "r",
               const std::string& pipeline = "p") {
    return h.run(*executor, spec, testing::new_run(pipeline, run_id));
  }
};

TEST(SyncTaskTest, CopiesIntoBronzeAndStoresTheReport) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync");
  cluster.execute("create table items(id int primary key, name text); "
                  "insert into items select g, 'item ' || g from generate_series(1, 1000) g",
                  "orch_sync");
  SyncProject project(cluster, "orch_sync");
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n");
  EXPECT_EQ(rig.run(spec), RunState::kSuccess);
  auto reports = h.store->sync_reports("p", "r");
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  auto json = nlohmann::json::parse((*reports)[0].report_json);
  EXPECT_EQ(json["status"], "success");
  EXPECT_EQ(json["streams"][0]["rows"], 1000);
  EXPECT_EQ((*reports)[0].connection, "src");
  auto db = rig.databases.duckdb_at(".strata/warehouse.duckdb");
  ASSERT_TRUE(db.ok());
  auto session = (*db)->connect();
  auto q = (*session)->query("select count(*), count(distinct id) from bronze.items");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(q->cell_text(0, 0), "1000");
  EXPECT_EQ(q->cell_text(0, 1), "1000");
}

// A sync task's `target:` is a profiles.yml target that wins over the connection's duckdb_path, as
// `strata sync --target` does: bronze goes to the target's file, not the connection's.
// `full_refresh: true` on a sync task rebuilds its streams, as strata sync --full-refresh does: the
// way to rebuild bronze while serve holds the warehouse.
TEST(SyncTaskTest, FullRefreshRebuildsTheStreams) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_refresh");
  cluster.execute("create table items(id int primary key, ts timestamptz not null); "
                  "insert into items select g, '2024-01-01' from generate_series(1, 10) g",
                  "orch_sync_refresh");
  SyncProject project(cluster, "orch_sync_refresh");
  std::ofstream(project.dir.file("connections/src.yml"), std::ios::app)
      << "streams:\n  - name: public.items\n    sync_mode: incremental_append\n    cursor_field: ts\n";
  SyncRig rig(project.dir.path());
  auto incremental = parse_spec("tasks:\n  - id: load\n    sync: src\n", "p");
  auto refresh = parse_spec("tasks:\n  - id: load\n    sync: src\n    full_refresh: true\n", "q");
  ASSERT_EQ(rig.h.run(*rig.executor, incremental, testing::new_run("p", "r1")), RunState::kSuccess);
  // Rows at the saved cursor changed: an incremental sync appends them again, a full refresh rebuilds.
  cluster.execute("update items set id = id + 100", "orch_sync_refresh");
  ASSERT_EQ(rig.h.run(*rig.executor, incremental, testing::new_run("p", "r2")), RunState::kSuccess);
  auto db = rig.databases.duckdb_at(".strata/warehouse.duckdb");
  ASSERT_TRUE(db.ok());
  auto wh = (*db)->connect();
  ASSERT_TRUE(wh.ok());
  auto count = [&] { return (*wh)->query("SELECT count(*) FROM bronze.items")->cell_text(0, 0); };
  EXPECT_EQ(count(), "20");
  ASSERT_EQ(rig.h.run(*rig.executor, refresh, testing::new_run("q", "r1")), RunState::kSuccess);
  EXPECT_EQ(count(), "10");
}

TEST(SyncTaskTest, TaskTargetChoosesTheBronzeDatabase) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_target");
  cluster.execute("create table items(id int primary key); insert into items select generate_series(1, 250)",
                  "orch_sync_target");
  SyncProject project(cluster, "orch_sync_target");
  std::ofstream(project.dir.file("profiles.yml"))
      << "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: .strata/warehouse.duckdb}\n"
      << "    other: {type: duckdb, path: other.duckdb}\n";
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n    target: other\n");
  EXPECT_EQ(rig.run(spec), RunState::kSuccess);
  auto count = [&](const std::string& file) -> std::string {
    auto db = rig.databases.duckdb_at(file);
    EXPECT_TRUE(db.ok());
    auto session = (*db)->connect();
    auto q = (*session)->query("select count(*) from information_schema.tables where table_schema = 'bronze' "
                               "and table_name = 'items'");
    EXPECT_TRUE(q.ok()) << q.error().to_string();
    if (q->cell_text(0, 0) == "0") return "none";
    auto rows = (*session)->query("select count(*) from bronze.items");
    return rows.ok() ? rows->cell_text(0, 0) : rows.error().message();
  };
  EXPECT_EQ(count("other.duckdb"), "250");
  EXPECT_EQ(count(".strata/warehouse.duckdb"), "none");

  // A target profiles.yml lacks fails the task, naming it.
  auto missing = parse_spec("tasks:\n  - id: load\n    sync: src\n    target: nowhere\n");
  EXPECT_EQ(rig.run(missing, "r2"), RunState::kFailed);
  auto attempt = (*h.store->attempts("p", "r2", "load"))[0];
  EXPECT_NE(attempt.error.find("nowhere"), std::string::npos) << attempt.error;
}

// A sync task whose target is a PostgreSQL warehouse loads bronze there (a database of the same
// server here), and a second task on the same target reuses the opened database.
TEST(SyncTaskTest, TaskTargetMayBeAPostgresWarehouse) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_pgsrc");
  cluster.create_database("orch_sync_pgwh");
  cluster.execute("create table items(id int primary key, tags text[], at timestamptz not null default now()); "
                  "insert into items select g, array['t' || g], now() from generate_series(1, 300) g",
                  "orch_sync_pgsrc");
  SyncProject project(cluster, "orch_sync_pgsrc");
  std::ofstream(project.dir.file("profiles.yml"))
      << "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: .strata/warehouse.duckdb}\n"
      << "    pg: {type: postgres, host: 127.0.0.1, port: " << cluster.port()
      << ", user: postgres, password: '', dbname: orch_sync_pgwh, schema: public}\n";
  SyncRig rig(project.dir.path());
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n    target: pg\n");
  EXPECT_EQ(rig.run(spec), RunState::kSuccess);
  cluster.execute("update items set tags = tags || 'x'::text, at = now() where id <= 10", "orch_sync_pgsrc");
  EXPECT_EQ(rig.run(spec, "r2"), RunState::kSuccess);
  auto target = rig.databases.target("pg");
  ASSERT_TRUE(target.ok()) << target.error().to_string();
  auto session = target->database->connect();
  ASSERT_TRUE(session.ok());
  auto q = (*session)->query("select count(*), sum(cardinality(tags)) from bronze.items");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(q->cell_text(0, 0), "300");
  EXPECT_EQ(q->cell_text(0, 1), "310");
  EXPECT_EQ(rig.databases.target("pg")->database, target->database);
}

// A task's `streams:` naming a stream the connection lacks fails with a message about the task's
// streams:, not the CLI's --stream flag.
TEST(SyncTaskTest, UnknownStreamNamesTheTasksStreams) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_nope");
  cluster.execute("create table items(id int primary key)", "orch_sync_nope");
  SyncProject project(cluster, "orch_sync_nope");
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n    streams: [public.nope]\n");
  EXPECT_EQ(rig.run(spec), RunState::kFailed);
  auto attempt = (*h.store->attempts("p", "r", "load"))[0];
  EXPECT_NE(attempt.error.find("stream public.nope (task load's streams:) is not a stream of connection src"),
            std::string::npos)
      << attempt.error;
  EXPECT_EQ(attempt.error.find("--stream"), std::string::npos) << attempt.error;
}

TEST(SyncTaskTest, ExecutionTimeoutStopsTheCopy) {
  auto& cluster = strata::testing::shared_pg_cluster();
  const std::string conninfo = cluster.create_database("orch_sync_slow");
  // A view whose rows come slowly: the COPY streams for ~20 s unless it is stopped.
  cluster.execute("create table slow_src(id int primary key, pad text); "
                  "insert into slow_src select g, repeat('x', 100) from generate_series(1, 200000) g; "
                  "create function slow(i int) returns int language plpgsql as "
                  "$$ begin if i % 10000 = 0 then perform pg_sleep(1); end if; return i; end $$; "
                  "create view slow_rows as select slow(id) as id, pad from slow_src",
                  "orch_sync_slow");
  SyncProject project(cluster, "orch_sync_slow");
  std::ofstream(project.dir.file("connections/src.yml"), std::ios::app)
      << "streams:\n  - name: public.slow_rows\n    sync_mode: full_refresh_overwrite\n";
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n    execution_timeout: 3s\n");
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(rig.run(spec), RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - t0;
  EXPECT_LT(elapsed, 15'000'000);
  auto attempt = (*h.store->attempts("p", "r", "load"))[0];
  EXPECT_NE(attempt.error.find("execution_timeout"), std::string::npos) << attempt.error;
  EXPECT_EQ(wait_zero(conninfo, "select count(*) from pg_stat_activity where application_name = 'strata sync'"), 0);
  auto db = rig.databases.duckdb_at(".strata/warehouse.duckdb");
  ASSERT_TRUE(db.ok());
  auto session = (*db)->connect();
  auto q = (*session)->query("select count(*) from information_schema.tables where table_schema = 'bronze' "
                             "and table_name = 'slow_rows'");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(q->cell_text(0, 0), "0");
}

// A sync stopped by its execution_timeout still stores the report of what it did: the stream
// committed before the stop is in the report (and in bronze), the stopped one failed.
TEST(SyncTaskTest, StoppedSyncStoresItsPartialReport) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_partial");
  cluster.execute("create table fast(id int primary key); insert into fast select generate_series(1, 100); "
                  "create table slow_src(id int primary key); "
                  "insert into slow_src select generate_series(1, 200000); "
                  "create function slow(i int) returns int language plpgsql as "
                  "$$ begin if i % 10000 = 0 then perform pg_sleep(1); end if; return i; end $$; "
                  "create view slow_rows as select slow(id) as id from slow_src",
                  "orch_sync_partial");
  SyncProject project(cluster, "orch_sync_partial");
  std::ofstream(project.dir.file("connections/src.yml"), std::ios::app)
      << "streams:\n  - name: public.fast\n    sync_mode: full_refresh_overwrite\n"
      << "  - name: public.slow_rows\n    sync_mode: full_refresh_overwrite\n";
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n    execution_timeout: 3s\n");
  EXPECT_EQ(rig.run(spec), RunState::kFailed);
  auto attempt = (*h.store->attempts("p", "r", "load"))[0];
  EXPECT_NE(attempt.error.find("sync stopped"), std::string::npos) << attempt.error;
  auto reports = h.store->sync_reports("p", "r");
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  auto json = nlohmann::json::parse((*reports)[0].report_json);
  EXPECT_EQ(json["status"], "failed");
  std::map<std::string, nlohmann::json> streams;
  for (const auto& st : json["streams"]) streams[st["stream"].get<std::string>()] = st;
  ASSERT_TRUE(streams.count("public.fast")) << json.dump();
  EXPECT_EQ(streams["public.fast"]["status"], "success");
  EXPECT_EQ(streams["public.fast"]["rows"], 100);
  if (streams.count("public.slow_rows")) {
    EXPECT_EQ(streams["public.slow_rows"]["status"], "failed");
  }
}

// A sync that fails before it has a report (here: the source database does not exist) records a
// failed entry with the error, so the connection's sync history does not end on an older success.
TEST(SyncTaskTest, SyncFailingBeforeAReportIsRecordedAsFailed) {
  auto& cluster = strata::testing::shared_pg_cluster();
  SyncProject project(cluster, "orch_no_such_database");
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n");
  EXPECT_EQ(rig.run(spec), RunState::kFailed);
  auto reports = h.store->sync_reports("p", "r");
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].connection, "src");
  EXPECT_EQ((*reports)[0].task_id, "load");
  auto json = nlohmann::json::parse((*reports)[0].report_json);
  EXPECT_EQ(json["status"], "failed");
  EXPECT_TRUE(json["streams"].empty());
  EXPECT_NE(json["error"].get<std::string>().find("orch_no_such_database"), std::string::npos) << json.dump();
}

// A connection whose one stream reads slowly: ~0.5 s every 5,000 of 40,000 rows (~4 s a sync).
struct SlowSyncProject : SyncProject {
  SlowSyncProject(strata::testing::PgCluster& cluster, const std::string& database) : SyncProject(cluster, database) {
    cluster.execute("create table slow_src(id int primary key, pad text); "
                    "insert into slow_src select g, repeat('x', 20) from generate_series(1, 40000) g; "
                    "create function slow(i int) returns int language plpgsql as "
                    "$$ begin if i % 5000 = 0 then perform pg_sleep(0.5); end if; return i; end $$; "
                    "create view slow_rows as select slow(id) as id, pad from slow_src",
                    database);
    std::ofstream(dir.file("connections/src.yml"), std::ios::app)
        << "streams:\n  - name: public.slow_rows\n    sync_mode: full_refresh_overwrite\n";
  }
};

std::string attempt_log(MetadataStore& store, const std::string& pipeline, const std::string& run_id) {
  auto attempts = store.attempts(pipeline, run_id, "load");
  std::string log;
  if (attempts.ok() && !attempts->empty()) read_file(attempts->back().log_path, log);
  return log;
}

// Two runs syncing one connection at once (a backfill, or a manual run during a scheduled one):
// the runner serialises them, as Airbyte runs one job per connection, instead of both writing
// bronze and one failing on a DuckDB write-write conflict. The one that waits says so.
TEST(SyncTaskTest, SyncsOfOneConnectionRunOneAtATime) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_serial");
  SlowSyncProject project(cluster, "orch_sync_serial");
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n");
  Executor& executor = *rig.executor;
  ASSERT_TRUE(h.store->ensure_pipeline("p").ok());
  for (const char* id : {"r1", "r2"}) {
    ASSERT_TRUE(h.store->create_run(testing::new_run("p", id)).ok());
    ASSERT_TRUE(executor.start_run(spec, testing::new_run("p", id)).ok());
  }
  EXPECT_EQ(executor.wait("p", "r1"), RunState::kSuccess) << attempt_log(*h.store, "p", "r1");
  EXPECT_EQ(executor.wait("p", "r2"), RunState::kSuccess) << attempt_log(*h.store, "p", "r2");
  const std::string waiting = "connection src is syncing in another task; waiting for that sync to end";
  const bool r1_waited = attempt_log(*h.store, "p", "r1").find(waiting) != std::string::npos;
  const bool r2_waited = attempt_log(*h.store, "p", "r2").find(waiting) != std::string::npos;
  EXPECT_NE(r1_waited, r2_waited) << attempt_log(*h.store, "p", "r1") << attempt_log(*h.store, "p", "r2");
  for (const char* id : {"r1", "r2"}) {
    auto reports = h.store->sync_reports("p", id);
    ASSERT_EQ(reports->size(), 1u) << id;
    EXPECT_EQ(nlohmann::json::parse((*reports)[0].report_json)["status"], "success") << id;
  }
}

// Waiting for another sync of the connection stays cancellable: a task whose execution_timeout
// fires while it waits fails then, holding nothing, and the sync it waited for is not disturbed.
TEST(SyncTaskTest, WaitingForTheConnectionEndsAtTheTimeout) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_wait");
  SlowSyncProject project(cluster, "orch_sync_wait");
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto slow = parse_spec("tasks:\n  - id: load\n    sync: src\n", "p");
  auto impatient = parse_spec("tasks:\n  - id: load\n    sync: src\n    execution_timeout: 1s\n", "q");
  Executor& executor = *rig.executor;
  ASSERT_TRUE(h.store->create_run(testing::new_run("p", "r")).ok());
  ASSERT_TRUE(executor.start_run(slow, testing::new_run("p", "r")).ok());
  for (int i = 0; i < 100 && attempt_log(*h.store, "p", "r").find("syncing connection") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(attempt_log(*h.store, "p", "r").find("syncing connection"), std::string::npos);
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(rig.run(impatient, "r", "q"), RunState::kFailed);
  EXPECT_LT(monotonic_micros() - t0, 2'500'000);
  auto attempt = (*h.store->attempts("q", "r", "load"))[0];
  EXPECT_NE(attempt.error.find("stopped while waiting"), std::string::npos) << attempt.error;
  EXPECT_NE(attempt.error.find("execution_timeout"), std::string::npos) << attempt.error;
  EXPECT_EQ(executor.wait("p", "r"), RunState::kSuccess) << attempt_log(*h.store, "p", "r");
}

// A sync that PostgreSQL makes wait (another session holds its table) still stops at the task's
// execution_timeout: the cancel reaches the source's statements, not only the warehouse.
TEST(SyncTaskTest, ASyncWaitingOnTheSourceStopsAtTheTimeout) {
  auto& cluster = strata::testing::shared_pg_cluster();
  cluster.create_database("orch_sync_locked");
  cluster.execute("create table held(id int primary key); insert into held values (1)", "orch_sync_locked");
  SyncProject project(cluster, "orch_sync_locked");
  std::ofstream(project.dir.file("connections/src.yml"), std::ios::app) << "streams:\n  - name: public.held\n";
  auto holder = pg::Connection::connect(cluster.conninfo("orch_sync_locked"));
  ASSERT_TRUE(holder.ok()) << holder.error().to_string();
  ASSERT_TRUE(holder->execute("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE").ok());
  SyncRig rig(project.dir.path());
  Harness& h = rig.h;
  auto spec = parse_spec("tasks:\n  - id: load\n    sync: src\n    execution_timeout: 1s\n");
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(rig.run(spec), RunState::kFailed);
  EXPECT_LT(monotonic_micros() - t0, 5'000'000);
  auto attempt = (*h.store->attempts("p", "r", "load"))[0];
  EXPECT_NE(attempt.error.find("execution_timeout"), std::string::npos) << attempt.error;
  ASSERT_TRUE(holder->execute("COMMIT").ok());
}

}  // namespace
}  // namespace strata::orchestrate
