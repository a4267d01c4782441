// Sessions (CSRF tokens for the UI), /healthz and /metrics (Prometheus text format 0.0.4).
#include <sstream>

#include "common/json_text.h"
#include "server/api.h"

namespace strata::server {
namespace {

constexpr int64_t kStaleHeartbeat = 60'000'000;

// Seconds since the newest scheduler heartbeat; nullopt when there is none.
std::optional<double> heartbeat_age(Api& api) {
  auto beats = api.ctx.store->heartbeats();
  if (!beats.ok() || beats->empty()) return std::nullopt;
  int64_t newest = 0;
  for (const auto& b : *beats) newest = std::max(newest, b.beat_at);
  return static_cast<double>(std::max<int64_t>(0, api.now() - newest)) / 1e6;
}

// A Prometheus label value: backslash, quote and newline escaped.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

Result<std::string> metrics_text(Api& api) {
  std::ostringstream out;
  STRATA_ASSIGN(auto runs, api.history->run_counts());
  out << "# HELP strata_runs Pipeline runs by state.\n# TYPE strata_runs gauge\n";
  for (const auto& c : runs)
    out << "strata_runs{pipeline=\"" << label(c.pipeline) << "\",state=\"" << label(c.state) << "\"} " << c.count << "\n";
  STRATA_ASSIGN(auto tasks, api.history->task_counts_by_pipeline());
  out << "# HELP strata_task_instances Task instances by state.\n# TYPE strata_task_instances gauge\n";
  for (const auto& c : tasks)
    out << "strata_task_instances{pipeline=\"" << label(c.pipeline) << "\",state=\"" << label(c.state) << "\"} "
        << c.count << "\n";
  STRATA_ASSIGN(auto durations, api.history->task_durations());
  out << "# HELP strata_task_duration_seconds Durations of task instances.\n"
         "# TYPE strata_task_duration_seconds histogram\n";
  for (const auto& h : durations) {
    const std::string p = label(h.pipeline);
    for (size_t i = 0; i < h.cumulative.size(); ++i) {
      std::ostringstream le;
      if (i < std::size(History::kDurationBuckets)) le << History::kDurationBuckets[i];
      else le << "+Inf";
      out << "strata_task_duration_seconds_bucket{pipeline=\"" << p << "\",le=\"" << le.str() << "\"} "
          << h.cumulative[i] << "\n";
    }
    out << "strata_task_duration_seconds_sum{pipeline=\"" << p << "\"} " << h.sum << "\n";
    out << "strata_task_duration_seconds_count{pipeline=\"" << p << "\"} " << h.count << "\n";
  }
  STRATA_ASSIGN(auto rows, api.history->rows_synced());
  out << "# HELP strata_rows_synced_total Rows copied by syncs.\n# TYPE strata_rows_synced_total counter\n";
  for (const auto& r : rows)
    out << "strata_rows_synced_total{connection=\"" << label(r.connection) << "\",stream=\"" << label(r.stream)
        << "\"} " << r.rows << "\n";
  out << "# HELP strata_scheduler_heartbeat_age_seconds Seconds since the newest scheduler heartbeat.\n"
         "# TYPE strata_scheduler_heartbeat_age_seconds gauge\n";
  auto age = heartbeat_age(api);
  out << "strata_scheduler_heartbeat_age_seconds " << (age ? std::to_string(*age) : std::string("NaN")) << "\n";
  return out.str();
}

void session_reply(Api& api, httplib::Response& res, const Session& s) {
  res.set_header("Set-Cookie", Auth::cookie_for(s));
  res.set_header("Cache-Control", "no-store");
  Json body = {{"csrf_token", s.csrf_token}, {"auth_required", api.auth->config().protect_reads}};
  res.set_content(json_text(body), kJsonContentType);
}

}  // namespace

void add_session_routes(Routes& routes, Api& api) {
  routes.get_raw("/api/v1/session", [&api](const httplib::Request& req, httplib::Response& res) {
    // The auth check ran already: reads are open, or a token or session came with the request.
    auto existing = api.auth->session_of(req, api.now());
    session_reply(api, res, existing ? *existing : api.auth->create_session(api.now()));
  });
  routes.post_raw("/api/v1/session", [&api](const httplib::Request& req, httplib::Response& res) {
    auto body = body_object(req);
    if (!body.ok()) return write_error(res, 400, body.error().message(), body.error().hint(), api);
    const Json token = body->contains("token") ? (*body)["token"] : Json(nullptr);
    if (api.auth->has_valid_token(req) || (token.is_string() && api.auth->token_matches(token.get<std::string>())))
      return session_reply(api, res, api.auth->create_session(api.now()));
    write_error(res, 401, "wrong or missing token", "send {\"token\": \"<the API token>\"}", api);
  });
}

void add_health_routes(Routes& routes, Api& api) {
  routes.get("/healthz", [&api](const httplib::Request&) -> ApiResult {
    auto age = heartbeat_age(api);
    const bool stale = age && *age * 1e6 > static_cast<double>(kStaleHeartbeat);
    return Reply{{{"status", stale ? "stale" : "ok"},
                  {"scheduler_heartbeat_age_seconds", age ? Json(*age) : Json(nullptr)},
                  {"pipelines", api.pipelines().size()}},
                 stale ? 503 : 200};
  });
  routes.get_raw("/metrics", [&api](const httplib::Request&, httplib::Response& res) {
    auto text = metrics_text(api);
    if (!text.ok()) return write_error(res, http_status_of(text.error()), text.error().message(), "", api);
    res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace strata::server
