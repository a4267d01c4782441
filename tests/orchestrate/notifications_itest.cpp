// Pipeline notifications against a real HTTP server on loopback: a failing task's retry and
// failure and the run's failure reach the webhooks that asked for them, with the header and the
// JSON body; a 503 is tried again, a 404 is not; a later successful run sends run_succeeded; and
// a mistake in `notifications:` is a located error.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "orchestrate/runtime.h"
#include "support/temp_dir.h"

namespace strata::orchestrate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Records every POST by path; /flaky answers 503 to its first request, /gone always 404.
class WebhookServer {
 public:
  WebhookServer() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      int& seen = counts_[req.path];
      ++seen;
      received_.push_back({req.path, req.get_header_value("X-Token"), req.body});
      res.status = req.path == "/gone" ? 404 : (req.path == "/flaky" && seen == 1) ? 503 : 200;
      changed_.notify_all();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~WebhookServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  struct Post {
    std::string path, token, body;
  };
  // Waits (up to 20 s) until `n` requests arrived; returns them all.
  std::vector<Post> wait_for(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(20), [&] { return received_.size() >= n; });
    return received_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> counts_;
  std::vector<Post> received_;
};

std::vector<json> bodies_at(const std::vector<WebhookServer::Post>& posts, const std::string& path) {
  std::vector<json> out;
  for (const auto& p : posts)
    if (p.path == path) out.push_back(json::parse(p.body));
  return out;
}

TEST(NotificationsTest, FailuresRetriesAndSuccessReachTheWebhooksThatAskForThem) {
  WebhookServer hooks;
  strata::testing::TempDir temp;
  const std::string dir = temp.file("proj");
  fs::create_directories(dir + "/pipelines");
  ::setenv("STRATA_TEST_NOTIFY_TOKEN", "t0ken-abc", 1);
  const std::string base = "http://127.0.0.1:" + std::to_string(hooks.port());
  std::ofstream(dir + "/pipelines/p.yml") << "notifications:\n"
                                             "  - webhook: " << base << "/ok\n"
                                             "    on: [run_failed, run_succeeded, task_failed, task_retry]\n"
                                             "    headers: {X-Token: \"{{ env_var('STRATA_TEST_NOTIFY_TOKEN') }}\"}\n"
                                             "  - webhook: " << base << "/flaky\n"
                                             "    on: run_failed\n"
                                             "  - webhook: " << base << "/gone\n"
                                             "tasks:\n"
                                             "  - id: ok\n    shell: \"echo fine\"\n"
                                             "  - id: bad\n    shell: \"test -f go || exit 3\"\n"
                                             "    retries: 1\n    retry_delay: 0\n    depends_on: [ok]\n";
  RuntimeOptions options;
  options.project_dir = dir;
  auto rt = Runtime::open(options);
  ASSERT_TRUE(rt.ok()) << rt.error().to_string();
  ASSERT_TRUE((*rt)->start().ok());
  auto run_once = [&](RunState expected) {
    auto run = (*rt)->scheduler().trigger("p", "{}");
    ASSERT_TRUE(run.ok()) << run.error().to_string();
    ASSERT_TRUE((*rt)->scheduler().start_now(run->pipeline, run->run_id).ok());
    EXPECT_EQ((*rt)->executor().wait(run->pipeline, run->run_id), expected);
  };
  run_once(RunState::kFailed);
  // /ok: the retry, the failure, the run's end; /flaky: the run's end twice (503, then 200);
  // /gone (default events: run_failed, task_failed): each once, as a 404 is not tried again.
  auto posts = hooks.wait_for(3 + 2 + 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nothing more should come
  posts = hooks.wait_for(0);
  const auto ok = bodies_at(posts, "/ok");
  ASSERT_EQ(ok.size(), 3u);
  EXPECT_EQ(ok[0]["event"], "task_retry");
  EXPECT_EQ(ok[0]["task_id"], "bad");
  EXPECT_EQ(ok[0]["try_number"], 1);
  EXPECT_EQ(ok[1]["event"], "task_failed");
  EXPECT_EQ(ok[1]["try_number"], 2);
  EXPECT_NE(ok[1]["error"].get<std::string>().find("3"), std::string::npos) << ok[1].dump();
  EXPECT_EQ(ok[2]["event"], "run_failed");
  EXPECT_EQ(ok[2]["pipeline"], "p");
  EXPECT_FALSE(ok[2].contains("task_id"));
  EXPECT_NE(ok[2]["text"].get<std::string>().find("pipeline p"), std::string::npos);
  EXPECT_EQ(ok[2]["run_id"], ok[0]["run_id"]);
  for (const auto& p : posts) {
    if (p.path == "/ok") {
      EXPECT_EQ(p.token, "t0ken-abc");
    }
  }
  const auto flaky = bodies_at(posts, "/flaky");
  ASSERT_EQ(flaky.size(), 2u);
  EXPECT_EQ(flaky[1]["event"], "run_failed");
  const auto gone = bodies_at(posts, "/gone");
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0]["event"], "task_failed");
  EXPECT_EQ(gone[1]["event"], "run_failed");

  // The task succeeds now: only /ok asked for run_succeeded.
  std::ofstream(dir + "/go") << "";
  const size_t before = posts.size();
  run_once(RunState::kSuccess);
  posts = hooks.wait_for(before + 1);
  ASSERT_EQ(posts.size(), before + 1);
  EXPECT_EQ(posts.back().path, "/ok");
  EXPECT_EQ(json::parse(posts.back().body)["event"], "run_succeeded");
}

TEST(NotificationsTest, MistakesAreLocatedErrors) {
  auto error_of = [](const std::string& notifications) {
    auto spec = load_pipeline_text("notifications:\n" + notifications + "tasks:\n  - {id: a, shell: \"true\"}\n",
                                   "/tmp/p.yml");
    EXPECT_FALSE(spec.ok());
    return spec.ok() ? std::string() : spec.error().to_string();
  };
  std::string e = error_of("  - webhook: https://hooks.example/x\n    on: [run_exploded]\n");
  EXPECT_NE(e.find("p.yml:3:10"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown notification event 'run_exploded'"), std::string::npos) << e;
  EXPECT_NE(e.find("task_retry"), std::string::npos) << e;  // the hint lists the events
  e = error_of("  - webhook: ftp://hooks.example/x\n");
  EXPECT_NE(e.find("p.yml:2:14"), std::string::npos) << e;
  EXPECT_NE(e.find("http:// or https://"), std::string::npos) << e;
  e = error_of("  - webhook: https://hooks.example/x\n    email: me@example.com\n");
  EXPECT_NE(e.find("unknown key 'email'"), std::string::npos) << e;
  e = error_of("  - on: [run_failed]\n");
  EXPECT_NE(e.find("needs webhook:"), std::string::npos) << e;
  e = error_of("  webhook: https://hooks.example/x\n");
  EXPECT_NE(e.find("notifications must be a list"), std::string::npos) << e;
}

}  // namespace
}  // namespace strata::orchestrate
