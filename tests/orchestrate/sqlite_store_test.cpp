#include <gtest/gtest.h>

#include <sqlite3.h>


#include "orchestrate/sqlite_store.h"
#include "store_contract.h"
#include "store_contract_datasets.h"
#include "support/temp_dir.h"

namespace strata::orchestrate {
namespace {

using testing::StoreContractTest;

// The store contract (store_contract.h) on SQLite: a file per test; handles are connections to it.
INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreContractTest,
    ::testing::Values(testing::StoreBackend{
        "sqlite", [](const strata::testing::TempDir& dir) { return dir.file(".strata/strata.db"); },
        [](const std::string& path) -> Result<std::unique_ptr<MetadataStore>> {
          STRATA_ASSIGN(auto store, SqliteStore::open(path));
          return std::unique_ptr<MetadataStore>(std::move(store));
        }}),
    testing::backend_name);

TEST(SqliteStoreTest, MigratesOnceInWalMode) {
  strata::testing::TempDir dir;
  const std::string path = dir.file(".strata/strata.db");
  {
    auto store = SqliteStore::open(path);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    EXPECT_EQ((*store)->schema_version(), 7);
    ASSERT_TRUE((*store)->ensure_pipeline("p").ok());
  }
  auto again = SqliteStore::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), 7);
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
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 7);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
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
  EXPECT_EQ((*store)->schema_version(), 7);
  auto run = (*store)->run("a", "scheduled__x");
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->state, RunState::kSuccess);
  EXPECT_EQ((*run)->note, "");  // added by migration 6
  ASSERT_EQ((*store)->task_instances("a", "scheduled__x")->size(), 1u);
  EXPECT_EQ((*(*store)->task_instances("a", "scheduled__x"))[0].pipeline, "a");
  ASSERT_EQ((*store)->attempts("a", "scheduled__x", "t")->size(), 1u);
  EXPECT_EQ((*(*store)->attempts("a", "scheduled__x", "t"))[0].owner, "me");
  EXPECT_EQ((*store)->sync_reports("a", "scheduled__x")->size(), 1u);
  EXPECT_EQ((*store)->sync_reports("", "")->size(), 1u);  // the CLI's sync outside any run
  EXPECT_EQ((*(*store)->test_results("a", "scheduled__x"))[0].test_name, "not_null");
  // The new key takes a second pipeline's run with the same id.
  RunRecord other{"scheduled__x", "b", RunType::kScheduled, RunState::kQueued, 1, 1, 2, "{}", 1, 0, 0, "", ""};
  EXPECT_TRUE((*store)->create_run(other).ok());
}

}  // namespace
}  // namespace strata::orchestrate
