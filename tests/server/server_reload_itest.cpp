// `strata serve` re-reads pipelines/ while it serves: a pipeline file added after start runs the
// run another process queued for it (as `strata pipeline run NAME` does) and appears in the API;
// a changed file replaces its pipeline, a broken one keeps the previous version, a deleted one
// drops it. Real runtime (SQLite store, executor, scheduler thread) and HTTP server.
#include <gtest/gtest.h>

#include "common/time.h"
#include "server_harness.h"

namespace strata::server::testing {
namespace {

// The ids of a pipeline's tasks as GET /api/v1/pipelines/{name} lists them, comma-separated; for
// another answer than 200, "status N: body".
std::string task_ids(httplib::Client& c, const std::string& pipeline) {
  auto r = c.Get(("/api/v1/pipelines/" + pipeline).c_str());
  if (!r || r->status != 200) return r ? "status " + std::to_string(r->status) + ": " + r->body : "no response";
  std::string ids;
  const Json pipeline_json = Json::parse(r->body);
  for (const auto& t : pipeline_json["tasks"]) ids += (ids.empty() ? "" : ",") + t["id"].get<std::string>();
  return ids;
}

TEST(ServerReload, APipelineAddedWhileServingRunsItsQueuedRun) {
  ServerHarness h;  // the default reload interval (15 s): the queued run makes the scheduler reload at once
  auto c = h.client();
  EXPECT_EQ(task_ids(c, "big").rfind("status 404", 0), 0u);
  ASSERT_TRUE(write_file_atomic(h.file("pipelines/big.yml"), "tasks:\n  - {id: hello, shell: \"echo big\"}\n"));
  // What `strata pipeline run big` does in another process: a queued manual run in the store.
  orchestrate::RunRecord run;
  run.run_id = "manual__big";
  run.pipeline = "big";
  run.logical_date = run.interval_start = run.interval_end = run.queued_at = now_micros();
  ASSERT_TRUE(h.store().ensure_pipeline("big").ok());
  ASSERT_TRUE(h.store().create_run(run).ok());
  // Found at the scheduler's next heartbeat (5 s), well before the periodic reload.
  EXPECT_TRUE(eventually([&] { return run_state(c, "manual__big") == "success"; }, 12000))
      << run_state(c, "manual__big");
  EXPECT_EQ(task_ids(c, "big"), "hello");
  Json list = json_of(c.Get("/api/v1/pipelines"));
  bool listed = false;
  for (const auto& p : list["pipelines"]) listed = listed || p["name"] == "big";
  EXPECT_TRUE(listed) << list.dump();
}

TEST(ServerReload, ChangedBrokenAndDeletedFilesAreReloaded) {
  ServerHarness h({}, "127.0.0.1", {}, 200'000);
  auto c = h.client();
  ASSERT_EQ(task_ids(c, "slow"), "ticker");
  ASSERT_TRUE(write_file_atomic(h.file("pipelines/slow.yml"),
                                "tasks:\n  - {id: first, shell: \"echo 1\"}\n  - {id: second, shell: \"echo 2\"}\n"));
  EXPECT_TRUE(eventually([&] { return task_ids(c, "slow") == "first,second"; }, 10000)) << task_ids(c, "slow");
  // A run triggered now uses the new version.
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "slow");
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(wait_finished(c, run_id));
  EXPECT_EQ(json_of(c.Get(("/api/v1/runs/" + run_id + "/tasks/second").c_str()))["task_instance"]["state"], "success");

  // A file that fails to parse keeps the previous version.
  ASSERT_TRUE(write_file_atomic(h.file("pipelines/slow.yml"), "tasks:\n  - {id: first, shell: \"echo 1\"\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(task_ids(c, "slow"), "first,second");

  // A deleted file drops its pipeline; the others stay.
  std::filesystem::remove(h.file("pipelines/slow.yml"));
  EXPECT_TRUE(eventually([&] { return c.Get("/api/v1/pipelines/slow")->status == 404; }, 10000));
  EXPECT_EQ(task_ids(c, "broken"), "first,boom,after");
  EXPECT_EQ(h.runtime().pipeline("slow"), nullptr);
}

}  // namespace
}  // namespace strata::server::testing
