// server::History on both metadata stores: the same rows written through the store give the same
// answers from the SQLite file and from PostgreSQL (whose JSON functions read the sync reports).
#include <gtest/gtest.h>

#include <atomic>

#include "orchestrate/pg_store.h"
#include "orchestrate/sqlite_store.h"
#include "orchestrate/store_factory.h"
#include "server/history.h"
#include "server_harness.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"

namespace strata::server {
namespace {

using orchestrate::MetadataStoreConfig;

class HistoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      config_.sqlite_path = dir_.file(".strata/strata.db");
    } else {
      static std::atomic<int> counter{0};
      config_.kind = MetadataStoreConfig::Kind::kPostgres;
      config_.conninfo =
          strata::testing::shared_pg_cluster().create_database("history_" + std::to_string(++counter));
      config_.schema = "strata_meta";
    }
    auto store = orchestrate::open_metadata_store(config_);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(store).value();
  }

  void add_run(const std::string& pipeline, const std::string& run_id, int64_t logical_date,
               orchestrate::RunState state) {
    orchestrate::RunRecord run{run_id, pipeline, orchestrate::RunType::kScheduled, state, logical_date, logical_date,
                               logical_date + 10, "{}", 1, 0, 0, "", ""};
    ASSERT_TRUE(store_->create_run(run).ok());
  }

  strata::testing::TempDir dir_;
  MetadataStoreConfig config_;
  std::unique_ptr<orchestrate::MetadataStore> store_;
};

TEST_P(HistoryTest, AnswersFromTheStoresRows) {
  using orchestrate::RunState;
  add_run("p", "r1", 100, RunState::kSuccess);
  add_run("p", "r2", 200, RunState::kFailed);
  add_run("p", "r3", 300, RunState::kSuccess);
  add_run("q", "r1", 150, RunState::kQueued);
  orchestrate::TaskInstanceRecord ti;
  ti.pipeline = "p";
  ti.run_id = "r1";
  ti.task_id = "t";
  ti.state = orchestrate::TaskState::kSuccess;
  ti.start_at = 1'000'000;
  ti.end_at = 3'000'000;  // 2 s
  ASSERT_TRUE(store_->upsert_task_instance(ti).ok());
  ti.task_id = "u";
  ti.state = orchestrate::TaskState::kFailed;
  ti.end_at = 1'200'000;  // 0.2 s
  ASSERT_TRUE(store_->upsert_task_instance(ti).ok());
  ASSERT_TRUE(store_->add_sync_report({"r1", "t", "erp",
                                       R"({"streams":[{"stream":"public.orders","mode":"incremental","rows":10},)"
                                       R"({"stream":"public.users","mode":"full_refresh","rows":3}]})",
                                       5, "p"})
                  .ok());
  ASSERT_TRUE(store_->add_sync_report(
                        {"r3", "t", "erp", R"({"streams":[{"stream":"public.orders","mode":"full_refresh","rows":7}]})",
                         9, "p"})
                  .ok());
  ASSERT_TRUE(store_->add_test_result({"r1", "t", "not_null", "pass", "", 0, 5, "p"}).ok());
  ASSERT_TRUE(store_->add_test_result({"r3", "t", "not_null", "fail", "2 rows", 2, 9, "p"}).ok());

  auto history = History::open(config_, nullptr);
  ASSERT_TRUE(history.ok()) << history.error().to_string();
  History& h = **history;

  RunFilter all_p;
  all_p.pipeline = "p";
  auto page = h.runs(all_p, 2, 0);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->runs.size(), 2u);
  EXPECT_EQ(page->runs[0].run_id, "r3");
  RunFilter failed = all_p;
  failed.state = "failed";
  failed.from = 150;
  EXPECT_EQ(h.runs(failed, 10, 0)->total, 1);
  EXPECT_EQ(h.runs(all_p, 10, 2)->runs.size(), 1u);

  auto tis = h.task_instances("p", {"r1", "r2"});
  ASSERT_TRUE(tis.ok()) << tis.error().to_string();
  EXPECT_EQ(tis->size(), 2u);
  auto counts = h.task_counts("p", "r1");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["success"], 1);
  EXPECT_EQ((*counts)["failed"], 1);

  auto reports = h.sync_reports("erp", 1);
  ASSERT_TRUE(reports.ok()) << reports.error().to_string();
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].run_id, "r3");
  auto streams = h.synced_streams("erp");
  ASSERT_TRUE(streams.ok()) << streams.error().to_string();
  ASSERT_EQ(streams->size(), 2u);
  EXPECT_EQ((*streams)[0].stream, "public.orders");
  EXPECT_EQ((*streams)[0].mode, "full_refresh");  // the latest report's
  EXPECT_EQ((*streams)[1].mode, "full_refresh");
  auto rows = h.rows_synced();
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].rows, 17);
  EXPECT_EQ((*rows)[1].rows, 3);

  auto tests = h.recent_test_results(1);
  ASSERT_TRUE(tests.ok()) << tests.error().to_string();
  ASSERT_EQ(tests->size(), 1u);
  EXPECT_EQ((*tests)[0].run_id, "r3");
  EXPECT_EQ((*tests)[0].failures, 2);

  auto run_counts = h.run_counts();
  ASSERT_TRUE(run_counts.ok());
  EXPECT_EQ(run_counts->size(), 3u);  // p/failed, p/success, q/queued
  auto durations = h.task_durations();
  ASSERT_TRUE(durations.ok()) << durations.error().to_string();
  ASSERT_EQ(durations->size(), 1u);
  EXPECT_EQ((*durations)[0].count, 2);
  EXPECT_NEAR((*durations)[0].sum, 2.2, 1e-6);
  EXPECT_EQ((*durations)[0].cumulative[0], 0);  // <= 0.1 s
  EXPECT_EQ((*durations)[0].cumulative[1], 1);  // <= 0.5 s
  EXPECT_EQ((*durations)[0].cumulative[3], 2);  // <= 5 s
}

INSTANTIATE_TEST_SUITE_P(BothStores, HistoryTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// `strata serve` on a PostgreSQL metadata store (with a password): a run triggered through the API
// runs, the API's lists (History) and details (the store) read it back from PostgreSQL, and no
// response holds the password.
TEST(ServerOnPostgres, TriggeredRunIsListedFromPostgres) {
  using namespace testing;
  auto& pg = strata::testing::shared_pg_cluster();
  pg.create_database("server_meta");
  const std::string url = pg.password_url("server_meta");
  ServerHarness h({}, "127.0.0.1", {}, 0, map_env({{"STRATA_METADATA_URL", url}}));
  ASSERT_EQ(h.runtime().store_config().kind, MetadataStoreConfig::Kind::kPostgres);
  auto c = h.client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "demo");
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(wait_finished(c, run_id));
  auto runs = c.Get("/api/v1/runs?pipeline=demo");
  ASSERT_TRUE(runs);
  Json page = json_of(runs);
  EXPECT_EQ(page["total"], 1) << runs->body;
  Json run = json_of(c.Get(("/api/v1/runs/" + run_id).c_str()));
  EXPECT_EQ(run["run"]["state"], "success");
  EXPECT_EQ(run["task_counts"]["success"], 3);
  auto pipelines = c.Get("/api/v1/pipelines");
  ASSERT_TRUE(pipelines);
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  for (const auto* body : {&runs->body, &pipelines->body, &metrics->body})
    EXPECT_EQ(body->find(pg.password()), std::string::npos);
  // The rows are in PostgreSQL, not in a SQLite file.
  EXPECT_FALSE(std::filesystem::exists(h.file(".strata/strata.db")));
  auto store = orchestrate::PgStore::open(orchestrate::PgStoreOptions{url, "strata_meta", nullptr});
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_TRUE((*(*store)->run("demo", run_id)).has_value());
}

}  // namespace
}  // namespace strata::server
