// Connections and their sync history (per stream: rows, bytes, seconds, cursor, errors).
#include <algorithm>
#include <filesystem>

#include "common/strings.h"
#include "ingest/connection_config.h"
#include "server/api.h"

namespace strata::server {
namespace {

// connections/<name>.yml or .yaml; names are plain file stems (no separators).
std::vector<std::string> connection_files(const Api& api) {
  std::vector<std::string> out;
  std::error_code ec;
  const auto dir = std::filesystem::path(api.ctx.project_dir) / "connections";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yml" || ext == ".yaml")) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> require_connection(const Api& api, const std::string& name) {
  for (const auto& file : connection_files(api))
    if (std::filesystem::path(file).stem().string() == name) return file;
  return Error(ErrorCode::kNotFound, "no connection named '" + name + "'", {},
               "connections are the files connections/<name>.yml; GET /api/v1/connections lists them");
}

// A report's list of strings (schema_changes, warnings), masked; [] when absent.
Json masked_strings(const Api& api, const Json& s, const char* key) {
  Json out = Json::array();
  if (!s.contains(key) || !s[key].is_array()) return out;
  for (const auto& item : s[key])
    if (item.is_string()) out.push_back(api.mask(item.get<std::string>()));
  return out;
}

Json stream_json(const Api& api, const Json& s) {
  auto field = [&](const char* key) { return s.contains(key) ? s[key] : Json(nullptr); };
  Json error = field("error");
  if (error.is_string()) error = api.mask(error.get<std::string>());
  return {{"stream", field("stream")},   {"bronze", field("bronze")},
          {"mode", field("mode")},       {"status", field("status")},
          {"rows", field("rows")},       {"bytes", field("bytes")},
          {"seconds", field("seconds")}, {"cursor_before", field("cursor_before")},
          {"cursor_after", field("cursor_after")}, {"error", error},
          {"schema_changes", masked_strings(api, s, "schema_changes")},
          {"warnings", masked_strings(api, s, "warnings")}};
}

Json sync_json(const Api& api, const orchestrate::SyncReportRecord& r) {
  Json report = Json::parse(r.report_json, nullptr, false);
  if (!report.is_object()) report = Json::object();
  Json streams = Json::array();
  if (report.contains("streams") && report["streams"].is_array())
    for (const auto& s : report["streams"]) streams.push_back(stream_json(api, s));
  auto field = [&](const char* key) { return report.contains(key) ? report[key] : Json(nullptr); };
  const bool has_sync_id = report.contains("sync_id") && report["sync_id"].is_string() &&
                          !report["sync_id"].get<std::string>().empty();
  return {{"run_id", r.run_id},
          {"sync_id", has_sync_id ? report["sync_id"] : Json(nullptr)},
          {"pipeline", r.pipeline.empty() ? Json(nullptr) : Json(r.pipeline)},
          {"task_id", r.task_id},
          {"at", time_json(r.at)},
          {"status", field("status")},
          {"started_at", field("started_at")},
          {"finished_at", field("finished_at")},
          {"error", report.contains("error") && report["error"].is_string()
                        ? Json(api.mask(report["error"].get<std::string>()))
                        : Json(nullptr)},
          {"streams", streams}};
}

Result<ingest::ConnectionConfig> load_config(const Api& api, const std::string& file) {
  YamlOptions yaml_options;
  yaml_options.masker = api.ctx.masker.get();
  return ingest::load_connection_config(file, yaml_options);
}

// The streams to show for a connection: its `streams:` list, or, for one without (it syncs every
// table of its schemas: `all_tables`), the streams its sync history names. Never asks the source.
Result<Json> streams_json(Api& api, const std::string& name, const ingest::ConnectionConfig& config) {
  Json streams = Json::array();
  for (const auto& s : config.streams)
    streams.push_back({{"name", s.full_name()},
                       {"mode", ingest::sync_mode_name(s.mode)},
                       {"cursor_field", s.cursor_field.empty() ? Json(nullptr) : Json(s.cursor_field)}});
  if (!config.streams.empty()) return streams;
  STRATA_ASSIGN(auto synced, api.history->synced_streams(name));
  for (const auto& s : synced)
    streams.push_back({{"name", s.stream}, {"mode", s.mode.empty() ? Json(nullptr) : Json(s.mode)},
                       {"cursor_field", nullptr}});
  return streams;
}

Result<Json> connection_json(Api& api, const std::string& file) {
  const std::string name = std::filesystem::path(file).stem().string();
  Json j = {{"name", name}, {"file", "connections/" + std::filesystem::path(file).filename().string()}};
  auto config = load_config(api, file);
  if (!config.ok()) {
    j["error"] = api.mask(config.error().message());
  } else {
    j["source"] = {{"host", config->source.host}, {"port", config->source.port},
                   {"database", config->source.database}};
    j["destination"] = {{"schema", config->destination.schema}, {"target", config->destination.target}};
    j["all_tables"] = config->streams.empty();
    STRATA_ASSIGN(j["streams"], streams_json(api, name, *config));
    // Located in the project (connections/x.yml), not by the server's own path.
    Json warnings = Json::array();
    for (std::string w : config->warnings) {
      if (w.rfind(file, 0) == 0) w = j["file"].get<std::string>() + w.substr(file.size());
      warnings.push_back(api.mask(w));
    }
    j["warnings"] = warnings;
  }
  STRATA_ASSIGN(auto last, api.history->sync_reports(name, 1));
  j["last_sync"] = nullptr;
  if (!last.empty()) {
    Json s = sync_json(api, last.front());
    j["last_sync"] = {{"run_id", s["run_id"]}, {"pipeline", s["pipeline"]}, {"at", s["at"]}, {"status", s["status"]},
                      {"error", s["error"]}};
  }
  return j;
}

// True when `stream` is in the connection's `streams:` list or in its sync history.
Result<bool> known_stream(Api& api, const std::string& name, const std::string& file, const std::string& stream) {
  auto config = load_config(api, file);
  if (config.ok())
    for (const auto& s : config->streams)
      if (s.full_name() == stream) return true;
  STRATA_ASSIGN(auto synced, api.history->synced_streams(name));
  return std::any_of(synced.begin(), synced.end(), [&](const SyncedStream& s) { return s.stream == stream; });
}

}  // namespace

void add_connection_routes(Routes& routes, Api& api) {
  routes.get("/api/v1/connections", [&api](const httplib::Request&) -> ApiResult {
    Json list = Json::array();
    for (const auto& file : connection_files(api)) {
      STRATA_ASSIGN(Json j, connection_json(api, file));
      list.push_back(std::move(j));
    }
    return Reply{{{"connections", list}}};
  });
  routes.get(R"(/api/v1/connections/([^/]+)/syncs)", [&api](const httplib::Request& req) -> ApiResult {
    const std::string name = capture(req, 1);
    STRATA_TRY(require_connection(api, name));
    STRATA_ASSIGN(int limit, int_param(req, "limit", 25, 1, 500));
    STRATA_ASSIGN(auto reports, api.history->sync_reports(name, limit));
    Json syncs = Json::array();
    for (const auto& r : reports) syncs.push_back(sync_json(api, r));
    return Reply{{{"connection", name}, {"syncs", syncs}}};
  });
  routes.get(R"(/api/v1/connections/([^/]+)/streams/([^/]+)/history)", [&api](const httplib::Request& req) -> ApiResult {
    const std::string name = capture(req, 1), stream = capture(req, 2);
    STRATA_ASSIGN(const std::string file, require_connection(api, name));
    STRATA_ASSIGN(int limit, int_param(req, "limit", 50, 1, 1000));
    STRATA_ASSIGN(const bool known, known_stream(api, name, file, stream));
    if (!known)
      return Error(ErrorCode::kNotFound, "connection " + name + " has no stream '" + stream + "'", {},
                   "GET /api/v1/connections lists each connection's streams");
    STRATA_ASSIGN(auto reports, api.history->sync_reports(name, limit));
    Json points = Json::array();
    for (auto it = reports.rbegin(); it != reports.rend(); ++it) {
      Json sync = sync_json(api, *it);
      for (const auto& s : sync["streams"]) {
        if (s["stream"] != stream) continue;
        points.push_back({{"run_id", it->run_id}, {"at", time_json(it->at)}, {"status", s["status"]},
                          {"rows", s["rows"]}, {"bytes", s["bytes"]}, {"seconds", s["seconds"]},
                          {"cursor", s["cursor_after"]}, {"error", s["error"]}});
      }
    }
    return Reply{{{"connection", name}, {"stream", stream}, {"points", points}}};
  });
}

}  // namespace strata::server
