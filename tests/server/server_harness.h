#pragma once
// A real API server for tests: a temp project with real pipelines (shell tasks), the real Runtime
// (SQLite store, executor, scheduler serving on its own thread), a real DuckDB warehouse for the
// data preview, and the Server on a free loopback port. httplib::Client talks to it.

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "orchestrate/runtime.h"
#include "orchestrate/sqlite_store.h"
#include "server/server.h"
#include "support/temp_dir.h"

namespace strata::server::testing {

using Json = nlohmann::json;

inline constexpr const char* kSecret = "s3cr3t-Pa55word";

inline const char* kDemoPipeline = R"(
params: {greeting: hello, count: 1, flag: false}
tasks:
  - {id: extract, shell: "echo extracting {{ params.greeting }}; echo password=s3cr3t-Pa55word", group: load}
  - {id: stage, shell: "echo staging", group: load, depends_on: extract}
  - {id: transform, shell: "echo transform", depends_on: load}
)";

inline const char* kBrokenPipeline = R"(
tasks:
  - {id: first, shell: "echo first"}
  - {id: boom, shell: "echo about to fail; exit 3", depends_on: first}
  - {id: after, shell: "echo after", depends_on: boom}
)";

inline const char* kSlowPipeline = R"(
tasks:
  - {id: ticker, shell: "for i in 1 2 3 4; do echo tick$i; sleep 0.3; done"}
)";

inline const char* kLongPipeline = R"(
tasks:
  - {id: sleeper, shell: "echo sleeping; sleep 60", retries: 2, retry_delay: 0}
  - {id: waiting, shell: "sleep 60"}
  - {id: after, shell: "echo after", depends_on: sleeper}
)";

class ServerHarness {
 public:
  // extra_files: more project files, by path in the project (e.g. "pipelines/x.yml");
  // pipeline_reload_interval: micros between the scheduler's re-reads of pipelines/ (0: default);
  // env: where the runtime reads its metadata store settings (nullptr: none, so SQLite);
  // executor / worker_timeout: RuntimeOptions' (workers: `strata worker` processes run the tasks).
  explicit ServerHarness(AuthConfig auth = {}, std::string host = "127.0.0.1",
                         const std::map<std::string, std::string>& extra_files = {},
                         int64_t pipeline_reload_interval = 0, EnvLookup env = nullptr,
                         orchestrate::ExecutorMode executor = orchestrate::ExecutorMode::kLocal,
                         int64_t worker_timeout = 30'000'000) {
    namespace fs = std::filesystem;
    fs::create_directories(dir_.file("pipelines"));
    for (const auto& [path, text] : extra_files) {
      fs::create_directories(fs::path(dir_.file(path)).parent_path());
      write_file_atomic(dir_.file(path), text);
    }
    write_file_atomic(dir_.file("pipelines/demo.yml"), kDemoPipeline);
    write_file_atomic(dir_.file("pipelines/broken.yml"), kBrokenPipeline);
    write_file_atomic(dir_.file("pipelines/slow.yml"), kSlowPipeline);
    write_file_atomic(dir_.file("pipelines/long.yml"), kLongPipeline);
    masker_->add(kSecret);
    orchestrate::RuntimeOptions options;
    options.project_dir = dir_.path();
    options.workers = 4;
    options.masker = masker_;
    if (pipeline_reload_interval > 0) options.pipeline_reload_interval = pipeline_reload_interval;
    options.env = env ? env : map_env({});
    options.executor = executor;
    options.worker_timeout = worker_timeout;
    runtime_ = std::move(orchestrate::Runtime::open(options)).value();
    Status started = runtime_->start();
    if (!started.ok()) throw std::runtime_error(started.error().to_string());
    scheduler_thread_ = std::thread([this] { runtime_->scheduler().serve(); });
    warehouse_ = std::move(warehouse::open_duckdb(dir_.file("warehouse.duckdb"))).value();
    ServerContext ctx = context_from_runtime(*runtime_);
    ctx.masker = masker_;
    warehouse::Database* db = warehouse_.get();
    ctx.warehouse = [db]() -> Result<warehouse::Database*> { return db; };
    ServerOptions server_options;
    server_options.host = host;
    server_options.port = 0;
    server_options.auth = std::move(auth);
    server_options.threads = 8;
    server_options.sse_poll_ms = 50;
    server_ = std::move(Server::start(std::move(ctx), server_options)).value();
  }

  ~ServerHarness() {
    server_->stop();
    runtime_->scheduler().stop();
    scheduler_thread_.join();
    runtime_.reset();
    warehouse_.reset();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(20, 0);
    return c;
  }
  const std::string& project() const { return dir_.path(); }
  std::string file(const std::string& name) const { return dir_.file(name); }
  orchestrate::MetadataStore& store() { return runtime_->store(); }
  orchestrate::Runtime& runtime() { return *runtime_; }
  warehouse::Database& warehouse() { return *warehouse_; }
  Server& server() { return *server_; }

 private:
  strata::testing::TempDir dir_;
  SecretMaskerPtr masker_ = std::make_shared<SecretMasker>();
  std::unique_ptr<orchestrate::Runtime> runtime_;
  std::thread scheduler_thread_;
  std::unique_ptr<warehouse::Database> warehouse_;
  std::unique_ptr<Server> server_;
};

// Parses a response body; a null JSON when there is no response or it is not JSON.
inline Json json_of(const httplib::Result& r) {
  if (!r) return nullptr;
  Json j = Json::parse(r->body, nullptr, false);
  return j.is_discarded() ? Json(nullptr) : j;
}

// Polls until pred() or timeout; returns pred()'s last value.
inline bool eventually(const std::function<bool()>& pred, int timeout_ms = 20000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

}  // namespace strata::server::testing

namespace strata::server::testing {

// A browser-like session: the cookie and CSRF token of GET /api/v1/session.
struct BrowserSession {
  std::string cookie;
  std::string csrf;

  static BrowserSession open(httplib::Client& c, const httplib::Headers& extra = {}) {
    auto r = c.Get("/api/v1/session", extra);
    BrowserSession s;
    if (!r || r->status != 200) return s;
    const std::string set_cookie = r->get_header_value("Set-Cookie");
    s.cookie = set_cookie.substr(0, set_cookie.find(';'));
    s.csrf = Json::parse(r->body).value("csrf_token", "");
    return s;
  }
  httplib::Headers headers() const { return {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}; }
};

// POST with the session's headers and a JSON body.
inline httplib::Result post(httplib::Client& c, const BrowserSession& s, const std::string& path,
                            const std::string& body = "{}") {
  return c.Post(path.c_str(), s.headers(), body, "application/json");
}

// Triggers a run of a pipeline and returns its id ("" on failure).
inline std::string trigger(httplib::Client& c, const BrowserSession& s, const std::string& pipeline,
                           const std::string& body = "{}") {
  auto r = post(c, s, "/api/v1/pipelines/" + pipeline + "/runs", body);
  if (!r || r->status != 201) return "";
  return Json::parse(r->body)["run"]["run_id"].get<std::string>();
}

// The run's state as the API reports it ("" when unknown).
inline std::string run_state(httplib::Client& c, const std::string& run_id) {
  Json j = json_of(c.Get(("/api/v1/runs/" + run_id).c_str()));
  return j.is_object() && j.contains("run") ? j["run"]["state"].get<std::string>() : "";
}

inline bool wait_finished(httplib::Client& c, const std::string& run_id) {
  return eventually([&] {
    const std::string s = run_state(c, run_id);
    return s == "success" || s == "failed";
  });
}

}  // namespace strata::server::testing
