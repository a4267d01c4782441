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
    EXPECT_EQ((*store)->schema_version(), 1);
    ASSERT_TRUE((*store)->ensure_pipeline("p").ok());
  }
  auto again = SqliteStore::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), 1);
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
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 1);
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
  EXPECT_NE(dup.error().message().find("exists already"), std::string::npos);
  run.state = RunState::kSuccess;
  run.end_at = 300;
  ASSERT_TRUE(store->update_run(run).ok());
  auto got = store->run("scheduled__a");
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
  auto tis = store->task_instances("scheduled__a");
  ASSERT_EQ(tis->size(), 1u);
  EXPECT_EQ((*tis)[0].state, TaskState::kSuccess);
  EXPECT_EQ((*tis)[0].group, "g.h");
  EXPECT_EQ((*tis)[0].kind, TaskKind::kSql);

  AttemptRecord a{"scheduled__a", "t", 1, TaskState::kRunning, 1, 0, "/l/1.log", 0, "", "me"};
  ASSERT_TRUE(store->upsert_attempt(a).ok());
  EXPECT_EQ(store->running_attempts()->size(), 1u);
  a.state = TaskState::kFailed;
  a.error = "boom";
  ASSERT_TRUE(store->upsert_attempt(a).ok());
  EXPECT_EQ(store->running_attempts()->size(), 0u);
  EXPECT_EQ((*store->attempts("scheduled__a", "t"))[0].error, "boom");

  ASSERT_TRUE(store->set_paused("p", true).ok());
  EXPECT_TRUE((*store->pipelines())[0].paused);
  ASSERT_TRUE(store->ensure_pipeline("p").ok());
  EXPECT_TRUE((*store->pipelines())[0].paused);  // ensure keeps the flag

  ASSERT_TRUE(store->heartbeat({"owner1", "host", 42, 1, 2}).ok());
  ASSERT_TRUE(store->heartbeat({"owner1", "host", 42, 1, 9}).ok());
  EXPECT_EQ((*store->heartbeats())[0].beat_at, 9);
  ASSERT_TRUE(store->add_sync_report({"scheduled__a", "t", "pg", "{}", 1}).ok());
  ASSERT_TRUE(store->add_test_result({"scheduled__a", "t", "not_null", "fail", "3 rows", 3, 1}).ok());
  EXPECT_EQ(store->sync_reports("scheduled__a")->size(), 1u);
  EXPECT_EQ((*store->test_results("scheduled__a"))[0].failures, 3);
}

TEST(SqliteStoreTest, ConcurrentWritersFromManyThreads) {
  strata::testing::TempDir dir;
  auto store = std::move(SqliteStore::open(dir.file("m.db"))).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        TaskInstanceRecord ti;
        ti.run_id = "r";
        ti.task_id = std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(store->upsert_task_instance(ti).ok());
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(store->task_instances("r")->size(), 400u);
}

}  // namespace
}  // namespace strata::orchestrate
