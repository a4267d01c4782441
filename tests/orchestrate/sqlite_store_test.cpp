#include <gtest/gtest.h>

#include <sqlite3.h>

#include <thread>

#include "orchestrate/sqlite_store.h"
#include "support/temp_dir.h"

namespace strata::orchestrate {
namespace {

TEST(SqliteStoreTest, MigratesOnceInWalMode) {
  strata::testing::TempDir dir;
  const std::string path = dir.file(".strata/strata.db");
  {
    auto store = SqliteStore::open(path);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    EXPECT_EQ((*store)->schema_version(), 2);
    ASSERT_TRUE((*store)->ensure_pipeline("p").ok());
  }
  auto again = SqliteStore::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), 2);
  auto pipelines = (*again)->pipelines();
  ASSERT_EQ(pipelines->size(), 1u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM schema_versions", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 2);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStoreTest, RunsTaskInstancesAttemptsPauseAndReports) {
  strata::testing::TempDir dir;
  auto store = std::move(SqliteStore::open(dir.file("m.db"))).value();
  RunRecord run{"scheduled__a", "p", RunType::kScheduled, RunState::kQueued, 100, 100, 200, R"({"x":1})", 5, 0, 0, ""};
  ASSERT_TRUE(store->create_run(run).ok());
  auto dup = store->create_run(run);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("has a run 'scheduled__a' already"), std::string::npos);
  run.state = RunState::kSuccess;
  run.end_at = 300;
  ASSERT_TRUE(store->update_run(run).ok());
  auto got = store->run("p", "scheduled__a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->state, RunState::kSuccess);
  EXPECT_EQ((*got)->params_json, R"({"x":1})");
  EXPECT_EQ((*got)->interval_end, 200);
  EXPECT_TRUE(store->run_at("p", 100)->has_value());
  EXPECT_FALSE(store->run_at("p", 101)->has_value());
  EXPECT_EQ(store->runs("p", RunState::kSuccess, 10)->size(), 1u);
  EXPECT_EQ(store->runs("p", RunState::kFailed, 10)->size(), 0u);
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
  ti.state = TaskState::kSuccess;
  ASSERT_TRUE(store->upsert_task_instance(ti).ok());
  auto tis = store->task_instances("p", "scheduled__a");
  ASSERT_EQ(tis->size(), 1u);
  EXPECT_EQ((*tis)[0].state, TaskState::kSuccess);
  EXPECT_EQ((*tis)[0].group, "g.h");
  EXPECT_EQ((*tis)[0].kind, TaskKind::kSql);

  AttemptRecord a{"p", "scheduled__a", "t", 1, TaskState::kRunning, 1, 0, "/l/1.log", 0, "", "me"};
  ASSERT_TRUE(store->upsert_attempt(a).ok());
  EXPECT_EQ(store->running_attempts()->size(), 1u);
  a.state = TaskState::kFailed;
  a.error = "boom";
  ASSERT_TRUE(store->upsert_attempt(a).ok());
  EXPECT_EQ(store->running_attempts()->size(), 0u);
  EXPECT_EQ((*store->attempts("p", "scheduled__a", "t"))[0].error, "boom");

  ASSERT_TRUE(store->set_paused("p", true).ok());
  EXPECT_TRUE((*store->pipelines())[0].paused);
  ASSERT_TRUE(store->ensure_pipeline("p").ok());
  EXPECT_TRUE((*store->pipelines())[0].paused);  // ensure keeps the flag

  ASSERT_TRUE(store->heartbeat({"owner1", "host", 42, 1, 2}).ok());
  ASSERT_TRUE(store->heartbeat({"owner1", "host", 42, 1, 9}).ok());
  EXPECT_EQ((*store->heartbeats())[0].beat_at, 9);
  ASSERT_TRUE(store->add_sync_report({"scheduled__a", "t", "pg", "{}", 1, "p"}).ok());
  ASSERT_TRUE(store->add_test_result({"scheduled__a", "t", "not_null", "fail", "3 rows", 3, 1, "p"}).ok());
  EXPECT_EQ(store->sync_reports("p", "scheduled__a")->size(), 1u);
  EXPECT_EQ((*store->test_results("p", "scheduled__a"))[0].failures, 3);
}

TEST(SqliteStoreTest, ConcurrentWritersFromManyThreads) {
  strata::testing::TempDir dir;
  auto store = std::move(SqliteStore::open(dir.file("m.db"))).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        TaskInstanceRecord ti;
        ti.pipeline = "p";
        ti.run_id = "r";
        ti.task_id = std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(store->upsert_task_instance(ti).ok());
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(store->task_instances("p", "r")->size(), 400u);
}

// Runs are keyed by (pipeline, run_id) as Airflow's (dag_id, run_id): two pipelines on one
// schedule both have "scheduled__<date>", each with its own task instances, attempts and reports.
TEST(SqliteStoreTest, SameRunIdInTwoPipelinesIsTwoRuns) {
  strata::testing::TempDir dir;
  auto store = std::move(SqliteStore::open(dir.file("m.db"))).value();
  for (const char* pipeline : {"a", "b"}) {
    RunRecord run{"scheduled__x", pipeline, RunType::kScheduled, RunState::kQueued, 100, 100, 200, "{}", 5, 0, 0, ""};
    ASSERT_TRUE(store->create_run(run).ok()) << pipeline;
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
  ASSERT_TRUE(*store->claim_run("a", "scheduled__x", "me", 7));
  EXPECT_EQ((*store->run("a", "scheduled__x"))->state, RunState::kRunning);
  EXPECT_EQ((*store->run("b", "scheduled__x"))->state, RunState::kQueued);
  EXPECT_EQ((*store->task_instances("b", "scheduled__x"))[0].try_number, 2);
  EXPECT_EQ(store->attempts("a", "scheduled__x", "t")->size(), 1u);
  EXPECT_EQ(store->sync_reports("b", "scheduled__x")->size(), 1u);
  ASSERT_TRUE(store->delete_task_instances("a", "scheduled__x").ok());
  EXPECT_TRUE(store->task_instances("a", "scheduled__x")->empty());
  EXPECT_EQ(store->task_instances("b", "scheduled__x")->size(), 1u);
  EXPECT_FALSE((*store->run("c", "scheduled__x")).has_value());
}

// A `.strata/strata.db` made before runs were keyed by pipeline (schema 1) is migrated in place:
// every row keeps its data and gets its run's pipeline.
TEST(SqliteStoreTest, MigratesVersionOneFilesToPipelineKeys) {
  strata::testing::TempDir dir;
  const std::string path = dir.file("old.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* v1 = R"sql(
CREATE TABLE schema_versions (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
INSERT INTO schema_versions VALUES (1, 0);
CREATE TABLE pipelines (name TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, run_type TEXT NOT NULL, state TEXT NOT NULL,
  logical_date BIGINT NOT NULL, interval_start BIGINT NOT NULL, interval_end BIGINT NOT NULL, params TEXT NOT NULL,
  queued_at BIGINT NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, owner TEXT NOT NULL);
CREATE INDEX runs_by_pipeline ON runs (pipeline, logical_date);
CREATE INDEX runs_by_state ON runs (state);
CREATE TABLE task_instances (run_id TEXT NOT NULL, task_id TEXT NOT NULL, task_group TEXT NOT NULL, kind TEXT NOT NULL,
  state TEXT NOT NULL, try_number INTEGER NOT NULL, max_tries INTEGER NOT NULL, start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL, next_retry_at BIGINT NOT NULL, pool TEXT NOT NULL, priority INTEGER NOT NULL,
  PRIMARY KEY (run_id, task_id));
CREATE TABLE attempts (run_id TEXT NOT NULL, task_id TEXT NOT NULL, try_number INTEGER NOT NULL, state TEXT NOT NULL,
  start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, log_path TEXT NOT NULL, exit_code INTEGER NOT NULL,
  error TEXT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (run_id, task_id, try_number));
CREATE INDEX attempts_by_state ON attempts (state);
CREATE TABLE heartbeats (owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, started_at BIGINT NOT NULL,
  beat_at BIGINT NOT NULL);
CREATE TABLE sync_reports (run_id TEXT NOT NULL, task_id TEXT NOT NULL, connection TEXT NOT NULL, report TEXT NOT NULL,
  at BIGINT NOT NULL);
CREATE INDEX sync_reports_by_run ON sync_reports (run_id);
CREATE TABLE test_results (run_id TEXT NOT NULL, task_id TEXT NOT NULL, test_name TEXT NOT NULL, status TEXT NOT NULL,
  failures BIGINT NOT NULL, message TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX test_results_by_run ON test_results (run_id);
INSERT INTO runs VALUES ('scheduled__x', 'a', 'scheduled', 'success', 1, 1, 2, '{}', 1, 1, 2, '');
INSERT INTO task_instances VALUES ('scheduled__x', 't', '', 'shell', 'success', 1, 1, 1, 2, 0, 'default_pool', 1);
INSERT INTO attempts VALUES ('scheduled__x', 't', 1, 'success', 1, 2, '/l', 0, '', 'me');
INSERT INTO sync_reports VALUES ('scheduled__x', 't', 'pg', '{}', 2);
INSERT INTO sync_reports VALUES ('', 'cli', 'pg', '{}', 3);
INSERT INTO test_results VALUES ('scheduled__x', 't', 'not_null', 'pass', 0, '', 2);
)sql";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_EQ((*store)->schema_version(), 2);
  auto run = (*store)->run("a", "scheduled__x");
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->state, RunState::kSuccess);
  ASSERT_EQ((*store)->task_instances("a", "scheduled__x")->size(), 1u);
  EXPECT_EQ((*(*store)->task_instances("a", "scheduled__x"))[0].pipeline, "a");
  ASSERT_EQ((*store)->attempts("a", "scheduled__x", "t")->size(), 1u);
  EXPECT_EQ((*(*store)->attempts("a", "scheduled__x", "t"))[0].owner, "me");
  EXPECT_EQ((*store)->sync_reports("a", "scheduled__x")->size(), 1u);
  EXPECT_EQ((*store)->sync_reports("", "")->size(), 1u);  // the CLI's sync outside any run
  EXPECT_EQ((*(*store)->test_results("a", "scheduled__x"))[0].test_name, "not_null");
  // The new key takes a second pipeline's run with the same id.
  RunRecord other{"scheduled__x", "b", RunType::kScheduled, RunState::kQueued, 1, 1, 2, "{}", 1, 0, 0, ""};
  EXPECT_TRUE((*store)->create_run(other).ok());
}

}  // namespace
}  // namespace strata::orchestrate
