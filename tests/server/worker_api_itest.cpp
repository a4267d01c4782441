// The API of a `strata serve` whose executor runs tasks on `strata worker` processes (executor mode
// workers, PostgreSQL metadata store): a run's task logs are readable through the API while the
// task runs on the worker and after it ended, also from the store when this process has no file
// for them; cancelling a run through the API stops its tasks on the worker.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>

#include "orchestrate/scheduler.h"
#include "server_harness.h"
#include "support/child_process.h"
#include "support/pg_cluster.h"

namespace strata::server {
namespace {

using namespace testing;
const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";

class WorkerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
    auto& pg = strata::testing::shared_pg_cluster();
    static int counter = 0;
    const std::string db = "worker_api_" + std::to_string(++counter);
    pg.create_database(db);
    url_ = pg.url(db);
    harness_ = std::make_unique<ServerHarness>(AuthConfig{}, "127.0.0.1", std::map<std::string, std::string>{}, 0,
                                               map_env({{"STRATA_METADATA_URL", url_}}),
                                               orchestrate::ExecutorMode::kWorkers, 5'000'000);
    worker_ = strata::testing::spawn_child(
        kStrata,
        {"worker", "--project-dir", harness_->project(), "--concurrency", "4", "--heartbeat-interval", "0.1",
         "--poll-interval", "0.1"},
        {"STRATA_METADATA_", "STRATA_EXECUTOR"}, {"STRATA_METADATA_URL=" + url_}, harness_->file("worker.err"));
    ASSERT_GT(worker_, 0);
  }

  void TearDown() override {
    if (worker_ > 0) {
      EXPECT_TRUE(strata::testing::stop_child(worker_)) << worker_log();
    }
    harness_.reset();
  }

  std::string worker_log() const {
    std::string text;
    read_file(harness_->file("worker.err"), text);
    return text;
  }
  std::string worker_id() const { return orchestrate::host_name() + ":" + std::to_string(worker_); }

  std::string url_;
  std::unique_ptr<ServerHarness> harness_;
  pid_t worker_ = -1;
};

TEST_F(WorkerApiTest, LogsOfAWorkersTaskAreReadThroughTheApiLiveAndAfterwards) {
  auto c = harness_->client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "slow");
  ASSERT_FALSE(run_id.empty());
  const std::string path = "/api/v1/runs/" + run_id + "/tasks/ticker/logs/1";
  // While the task runs on the worker, its first lines are visible here.
  bool live = eventually([&] {
    Json log = json_of(c.Get(path.c_str()));
    return log.is_object() && !log.value("finished", true) &&
           log.value("content", "").find("tick1") != std::string::npos;
  });
  EXPECT_TRUE(live) << worker_log();
  ASSERT_TRUE(wait_finished(c, run_id)) << worker_log();
  EXPECT_EQ(run_state(c, run_id), "success") << worker_log();
  Json log = json_of(c.Get(path.c_str()));
  const std::string content = log.value("content", "");
  for (const char* expected : {"tick1", "tick4", "queued for a strata worker on queue 'default'"})
    EXPECT_NE(content.find(expected), std::string::npos) << expected << " in\n" << content;
  EXPECT_NE(content.find("claimed by worker " + worker_id()), std::string::npos) << content;
  auto attempts = std::move(harness_->store().attempts("slow", run_id, "ticker")).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].owner, worker_id());

  // A server without the file (another scheduler executed the attempt) reads what the worker
  // shipped to the store.
  std::filesystem::remove(attempts[0].log_path);
  log = json_of(c.Get(path.c_str()));
  const std::string shipped = log.value("content", "");
  EXPECT_NE(shipped.find("tick4"), std::string::npos) << shipped;
  EXPECT_NE(shipped.find("worker finished: success"), std::string::npos) << shipped;
  auto stream = c.Get((path + "/stream").c_str());
  ASSERT_TRUE(stream);
  EXPECT_NE(stream->body.find("tick4"), std::string::npos) << stream->body;
  EXPECT_NE(stream->body.find("event: end"), std::string::npos) << stream->body;
}

TEST_F(WorkerApiTest, CancellingARunStopsItsTasksOnTheWorker) {
  auto c = harness_->client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "long");
  ASSERT_FALSE(run_id.empty());
  auto& store = harness_->store();
  const orchestrate::WorkKey sleeper{"long", run_id, "sleeper", 1};
  ASSERT_TRUE(eventually([&] {
    auto item = store.work_item(sleeper);
    return item.ok() && item->has_value() && (*item)->state == orchestrate::TaskState::kRunning;
  })) << worker_log();
  const auto cancelled_at = std::chrono::steady_clock::now();
  auto r = post(c, s, "/api/v1/runs/" + run_id + "/cancel");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  ASSERT_TRUE(wait_finished(c, run_id));
  EXPECT_EQ(run_state(c, run_id), "failed");
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(10));
  auto got = store.work_item(sleeper);
  ASSERT_TRUE(got.ok() && got->has_value());
  const orchestrate::WorkItemRecord item = **got;
  EXPECT_EQ(item.state, orchestrate::TaskState::kFailed);
  EXPECT_TRUE(item.cancel_requested);
  EXPECT_EQ(item.worker, worker_id());
  EXPECT_NE(item.error.find("cancelled"), std::string::npos) << item.error;
  // Not retried although it has retries left: the run was cancelled.
  EXPECT_EQ(store.attempts("long", run_id, "sleeper")->size(), 1u);
}

}  // namespace
}  // namespace strata::server
