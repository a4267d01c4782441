// JSON helpers, error conversion and the route table shared by the endpoint handlers.
#include <charconv>

#include "common/json_text.h"
#include "common/time.h"
#include "server/api.h"

namespace strata::server {

std::vector<std::shared_ptr<const orchestrate::PipelineSpec>> Api::pipelines() const {
  return ctx.current_pipelines ? ctx.current_pipelines() : ctx.pipelines;
}

std::shared_ptr<const orchestrate::PipelineSpec> Api::pipeline(const std::string& name) const {
  for (const auto& p : pipelines())
    if (p->name == name) return p;
  return nullptr;
}

Result<std::shared_ptr<const orchestrate::PipelineSpec>> Api::require_pipeline(const std::string& name) const {
  auto p = pipeline(name);
  if (!p)
    return Error(ErrorCode::kNotFound, "no pipeline named '" + name + "'", {},
                 "pipelines are the files pipelines/<name>.yml; GET /api/v1/pipelines lists them");
  return p;
}

int64_t Api::now() const { return ctx.clock ? ctx.clock->now() : now_micros(); }

int http_status_of(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kUsage:
    case ErrorCode::kConfig:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kFailed:
    case ErrorCode::kCancelled:
      return 409;
    case ErrorCode::kConnection:
      return 503;
    case ErrorCode::kInternal:
      break;
  }
  return 500;
}

namespace {

const char* code_name(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "bad_request";
  }
}

}  // namespace

void write_error(httplib::Response& res, int status, const std::string& message, const std::string& hint,
                 const Api& api) {
  Json e = {{"status", status}, {"code", code_name(status)}, {"message", api.mask(message)}};
  if (!hint.empty()) e["hint"] = api.mask(hint);
  res.status = status;
  res.set_content(json_text(Json{{"error", e}}), kJsonContentType);
}

Json time_json(int64_t micros) { return micros == 0 ? Json(nullptr) : Json(format_iso8601(micros)); }

Json duration_json(int64_t start, int64_t end) {
  if (start == 0 || end == 0 || end < start) return nullptr;
  return static_cast<double>(end - start) / 1e6;
}

Json run_json(const orchestrate::RunRecord& run, bool with_params) {
  Json j = {{"run_id", run.run_id},
            {"pipeline", run.pipeline},
            {"type", orchestrate::run_type_name(run.type)},
            {"state", orchestrate::run_state_name(run.state)},
            {"logical_date", time_json(run.logical_date)},
            {"data_interval_start", time_json(run.interval_start)},
            {"data_interval_end", time_json(run.interval_end)},
            {"queued_at", time_json(run.queued_at)},
            {"start_at", time_json(run.start_at)},
            {"end_at", time_json(run.end_at)},
            {"duration_seconds", duration_json(run.start_at, run.end_at)},
            {"note", run.note}};
  if (with_params) {
    Json params = Json::parse(run.params_json, nullptr, false);
    j["params"] = params.is_discarded() ? Json::object() : params;
  }
  return j;
}

Result<Json> body_object(const httplib::Request& req) {
  if (req.body.empty()) return Json::object();
  Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded())
    return Error(ErrorCode::kUsage, "the request body is not valid JSON", {}, "send a JSON object, e.g. {}");
  if (!j.is_object()) return Error(ErrorCode::kUsage, "the request body must be a JSON object", {}, "e.g. {}");
  return j;
}

Result<int> int_param(const httplib::Request& req, const std::string& name, int fallback, int min, int max) {
  STRATA_ASSIGN(int64_t v, int64_param(req, name, fallback, min, max));
  return static_cast<int>(v);
}

Result<int64_t> int64_param(const httplib::Request& req, const std::string& name, int64_t fallback, int64_t min,
                            int64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max)
    return Error(ErrorCode::kUsage, "query parameter '" + name + "' must be an integer from " + std::to_string(min) +
                                        " to " + std::to_string(max),
                 {}, name + "=" + std::to_string(fallback));
  return v;
}

Result<std::optional<int64_t>> time_param(const httplib::Request& req, const std::string& name) {
  if (!req.has_param(name)) return std::optional<int64_t>();
  auto t = parse_iso8601(req.get_param_value(name));
  if (!t)
    return Error(ErrorCode::kUsage, "query parameter '" + name + "' is not an ISO 8601 time", {},
                 name + "=2026-01-01T00:00:00Z");
  return std::optional<int64_t>(*t);
}

std::string capture(const httplib::Request& req, size_t n) {
  return n < req.matches.size() ? std::string(req.matches[n]) : std::string();
}

Result<orchestrate::RunRecord> require_run(Api& api, const httplib::Request& req, const std::string& run_id) {
  if (req.has_param("pipeline")) {
    const std::string pipeline = req.get_param_value("pipeline");
    STRATA_ASSIGN(auto run, api.ctx.store->run(pipeline, run_id));
    if (!run)
      return Error(ErrorCode::kNotFound, "pipeline '" + pipeline + "' has no run '" + run_id + "'", {},
                   "GET /api/v1/pipelines/" + pipeline + "/runs lists its runs");
    return *run;
  }
  STRATA_ASSIGN(auto runs, api.ctx.store->runs_with_id(run_id));
  if (runs.empty())
    return Error(ErrorCode::kNotFound, "no run '" + run_id + "'", {}, "GET /api/v1/runs lists the runs");
  if (runs.size() > 1) {
    std::string names;
    for (const auto& r : runs) names += (names.empty() ? "'" : ", '") + r.pipeline + "'";
    return Error(ErrorCode::kFailed, "run id '" + run_id + "' exists in several pipelines: " + names, {},
                 "name the pipeline with the query parameter ?pipeline=" + runs.front().pipeline);
  }
  return runs.front();
}

std::vector<size_t> downstream_of(const orchestrate::PipelineSpec& spec, size_t task) {
  std::vector<bool> marked(spec.tasks.size(), false);
  marked[task] = true;
  std::vector<size_t> out;
  // Tasks are topologically ordered: one forward pass finds every descendant.
  for (size_t i = task + 1; i < spec.tasks.size(); ++i) {
    for (size_t up : spec.tasks[i].upstream) {
      if (marked[up]) {
        marked[i] = true;
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

httplib::Server::Handler Routes::wrap(JsonHandler handler) {
  Api& api = api_;
  return [&api, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    ApiResult r = handler(req);
    if (!r.ok()) {
      write_error(res, http_status_of(r.error()), r.error().message(), r.error().hint(), api);
      return;
    }
    res.status = r->status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(json_text(r->body), kJsonContentType);
  };
}

void Routes::get(const std::string& pattern, JsonHandler handler) { http_.Get(pattern, wrap(std::move(handler))); }

void Routes::post(const std::string& pattern, JsonHandler handler) { http_.Post(pattern, wrap(std::move(handler))); }

void Routes::get_raw(const std::string& pattern, httplib::Server::Handler handler) {
  http_.Get(pattern, std::move(handler));
}

void Routes::post_raw(const std::string& pattern, httplib::Server::Handler handler) {
  http_.Post(pattern, std::move(handler));
}

}  // namespace strata::server
