#pragma once
// Internal to the server module: the state shared by the endpoint handlers (Api), the route table
// (Routes) and JSON helpers. Handlers return Result<Reply>; an Error becomes the JSON error body
// with the HTTP status of its code (kUsage/kConfig 400, kNotFound 404, kFailed/kCancelled 409,
// kConnection 503, kInternal 500), its message masked.

#include <httplib.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "orchestrate/timetable.h"
#include "server/auth.h"
#include "server/history.h"
#include "server/server.h"

namespace strata::server {

using Json = nlohmann::json;

// A successful response: a JSON body and its status.
struct Reply {
  Json body;
  int status = 200;
};
using ApiResult = Result<Reply>;
using JsonHandler = std::function<ApiResult(const httplib::Request&)>;

// Everything handlers share. Immutable after start() except the thread-safe members.
struct Api {
  ServerContext ctx;
  ServerOptions options;
  std::unique_ptr<History> history;
  std::unique_ptr<Auth> auth;
  std::mutex mutation_mutex;        // serialises state-changing requests
  std::atomic<bool> stopping{false};

  // The pipelines as of now (ctx.current_pipelines, else ctx.pipelines).
  std::vector<std::shared_ptr<const orchestrate::PipelineSpec>> pipelines() const;
  std::shared_ptr<const orchestrate::PipelineSpec> pipeline(const std::string& name) const;
  // The pipeline or a kNotFound error naming it.
  Result<std::shared_ptr<const orchestrate::PipelineSpec>> require_pipeline(const std::string& name) const;
  std::string mask(std::string_view text) const { return ctx.masker ? ctx.masker->mask(text) : std::string(text); }
  int64_t now() const;
};

// Registers handlers on the httplib server with error conversion.
class Routes {
 public:
  Routes(httplib::Server& http, Api& api) : http_(http), api_(api) {}
  void get(const std::string& pattern, JsonHandler handler);
  void post(const std::string& pattern, JsonHandler handler);
  // A handler that writes the response itself (logs as text, SSE).
  void get_raw(const std::string& pattern, httplib::Server::Handler handler);
  void post_raw(const std::string& pattern, httplib::Server::Handler handler);

 private:
  httplib::Server::Handler wrap(JsonHandler handler);
  httplib::Server& http_;
  Api& api_;
};

void add_pipeline_routes(Routes& routes, Api& api);
// GET …/runs with the filters of docs/api.md; pipeline "" = every pipeline.
ApiResult list_runs(Api& api, const httplib::Request& req, const std::string& pipeline);
void add_run_routes(Routes& routes, Api& api);
// /api/v1/datasets…, and a run's triggering events (api_datasets.cpp).
void add_dataset_routes(Routes& routes, Api& api);
void add_log_routes(Routes& routes, Api& api);
void add_connection_routes(Routes& routes, Api& api);
void add_dbt_routes(Routes& routes, Api& api);
void add_preview_routes(Routes& routes, Api& api);
void add_health_routes(Routes& routes, Api& api);
void add_session_routes(Routes& routes, Api& api);

// ---- helpers (api_util.cpp) ----

// The Content-Type of every JSON response. With the charset parameter cpp-httplib leaves the body
// uncompressed: its built-in compression of "application/json" is Brotli at the highest quality,
// which took ~150 ms for an 80 KiB grid, far more than sending it uncompressed.
inline constexpr const char* kJsonContentType = "application/json; charset=utf-8";

// Writes {"error": {status, code, message, hint}} with the message masked.
void write_error(httplib::Response& res, int status, const std::string& message, const std::string& hint,
                 const Api& api);
int http_status_of(const Error& error);
// ISO 8601 UTC, or null for 0.
Json time_json(int64_t micros);
// Seconds between two instants, or null when either is 0.
Json duration_json(int64_t start, int64_t end);
Json run_json(const orchestrate::RunRecord& run, bool with_params = true);
// The request body as a JSON object ({} when empty). Errors: kUsage for malformed JSON or a
// non-object.
Result<Json> body_object(const httplib::Request& req);
// An integer query parameter within [min, max]; fallback when absent. kUsage when malformed.
Result<int> int_param(const httplib::Request& req, const std::string& name, int fallback, int min, int max);
Result<int64_t> int64_param(const httplib::Request& req, const std::string& name, int64_t fallback, int64_t min,
                            int64_t max);
// An ISO 8601 query parameter; nullopt when absent. kUsage when malformed.
Result<std::optional<int64_t>> time_param(const httplib::Request& req, const std::string& name);
// The n-th regex capture of the route (1-based), URL-decoded by httplib already.
std::string capture(const httplib::Request& req, size_t n);
// The run a `/api/v1/runs/{id}/…` request addresses. Runs are keyed by (pipeline, run_id): the
// query parameter `pipeline` picks the pipeline; without it the id must be unique across pipelines.
// Errors: kNotFound (no such run); kFailed (409) when pipelines share the id and none is named.
Result<orchestrate::RunRecord> require_run(Api& api, const httplib::Request& req, const std::string& run_id);
// Every task downstream of `task` (not itself), in the spec's topological order.
std::vector<size_t> downstream_of(const orchestrate::PipelineSpec& spec, size_t task);

}  // namespace strata::server
