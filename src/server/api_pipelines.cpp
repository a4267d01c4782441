// Pipelines: list, detail with the task graph, pause/unpause, runs (paged), trigger, grid.
#include <set>

#include "common/strings.h"
#include "server/api.h"

namespace strata::server {

using orchestrate::PipelineSpec;
using orchestrate::RunRecord;

namespace {

constexpr int kRecentRuns = 25;

Json recent_run_json(const RunRecord& r) {
  return {{"run_id", r.run_id},
          {"state", orchestrate::run_state_name(r.state)},
          {"type", orchestrate::run_type_name(r.type)},
          {"logical_date", time_json(r.logical_date)},
          {"start_at", time_json(r.start_at)},
          {"end_at", time_json(r.end_at)}};
}

// When the pipeline's next scheduled run becomes due, and its logical date.
std::pair<Json, Json> next_run(Api& api, const PipelineSpec& spec, bool paused) {
  if (paused || !spec.schedule) return {nullptr, nullptr};
  // Made per request: the pipeline may have been reloaded since the last one.
  auto timetable = orchestrate::Timetable::create(*spec.schedule, spec.timezone, spec.schedule_where);
  if (!timetable.ok()) return {nullptr, nullptr};
  auto latest = api.ctx.store->latest_run(spec.name);
  std::optional<orchestrate::DataInterval> last;
  if (latest.ok() && *latest) last = orchestrate::DataInterval{(*latest)->interval_start, (*latest)->interval_end};
  orchestrate::TimeRestriction restriction{spec.start_date, spec.end_date, spec.catchup};
  auto next = timetable->next_run(last, restriction, api.now());
  if (!next) return {nullptr, nullptr};
  return {time_json(next->run_after), time_json(next->logical_date())};
}

Json seconds_or_null(int64_t micros) { return micros > 0 ? Json(static_cast<double>(micros) / 1e6) : Json(nullptr); }

Result<Json> pipeline_summary(Api& api, const PipelineSpec& spec, const std::map<std::string, bool>& paused) {
  auto p = paused.find(spec.name);
  const bool is_paused = p != paused.end() && p->second;
  auto [next, next_logical] = next_run(api, spec, is_paused);
  RunFilter filter;
  filter.pipeline = spec.name;
  STRATA_ASSIGN(RunPage recent, api.history->runs(filter, kRecentRuns, 0));
  Json runs = Json::array();
  int active = 0;
  for (const auto& r : recent.runs) {
    runs.push_back(recent_run_json(r));
    if (r.state == orchestrate::RunState::kRunning) ++active;
  }
  return Json{{"name", spec.name},
              {"file", spec.file},
              {"schedule", spec.schedule ? Json(*spec.schedule) : Json(nullptr)},
              {"dataset_schedule", spec.datasets ? Json(spec.datasets->to_string()) : Json(nullptr)},
              {"dataset_uris", spec.datasets ? Json(spec.datasets->uris()) : Json::array()},
              {"timezone", spec.timezone},
              {"paused", is_paused},
              {"next_run", next},
              {"next_logical_date", next_logical},
              {"catchup", spec.catchup},
              {"max_active_runs", spec.max_active_runs},
              {"max_active_tasks", spec.max_active_tasks > 0 ? Json(spec.max_active_tasks) : Json(nullptr)},
              {"dagrun_timeout_seconds", seconds_or_null(spec.dagrun_timeout)},
              {"params", spec.params},
              {"task_count", spec.tasks.size()},
              {"active_runs", active},
              {"total_runs", recent.total},
              {"recent_runs", runs}};
}

Result<std::map<std::string, bool>> paused_map(Api& api) {
  STRATA_ASSIGN(auto records, api.ctx.store->pipelines());
  std::map<std::string, bool> out;
  for (const auto& r : records) out[r.name] = r.paused;
  return out;
}


Json graph_json(Api& api, const PipelineSpec& spec) {
  std::vector<std::vector<std::string>> downstream(spec.tasks.size());
  Json edges = Json::array();
  for (const auto& t : spec.tasks)
    for (size_t up : t.upstream) {
      downstream[up].push_back(t.id);
      edges.push_back({{"from", spec.tasks[up].id}, {"to", t.id}});
    }
  Json tasks = Json::array();
  std::map<std::string, Json> groups;  // every group path, including the parents of nested ones
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    const auto& t = spec.tasks[i];
    Json upstream = Json::array();
    for (size_t up : t.upstream) upstream.push_back(spec.tasks[up].id);
    tasks.push_back({{"id", t.id},
                     {"kind", orchestrate::task_kind_name(t.kind)},
                     {"group", t.group},
                     {"command", api.mask(t.command)},
                     {"upstream", upstream},
                     {"downstream", downstream[i]},
                     {"trigger_rule", orchestrate::trigger_rule_name(t.trigger_rule)},
                     {"retries", t.retry.retries},
                     {"retry_delay_seconds", seconds_or_null(t.retry.retry_delay)},
                     {"execution_timeout_seconds", seconds_or_null(t.retry.execution_timeout)},
                     {"pool", t.pool},
                     {"priority", t.priority},
                     {"outlets", t.outlets},
                     {"depends_on_past", t.depends_on_past}});
    if (t.group.empty()) continue;
    std::string path;
    for (const std::string& part : split(t.group, '.')) {
      const std::string parent = path;
      path = path.empty() ? part : path + "." + part;
      if (!groups.count(path))
        groups[path] = {{"id", path}, {"label", part}, {"parent", parent.empty() ? Json(nullptr) : Json(parent)},
                        {"tasks", Json::array()}, {"groups", Json::array()}};
    }
    groups[t.group]["tasks"].push_back(t.id);
  }
  for (auto& [path, g] : groups)
    if (!g["parent"].is_null()) groups[g["parent"].get<std::string>()]["groups"].push_back(path);
  Json group_list = Json::array();
  for (auto& [path, g] : groups) group_list.push_back(std::move(g));
  return {{"tasks", tasks}, {"groups", group_list}, {"edges", edges}};
}

// Checks trigger params against the pipeline's declared params.
Status validate_params(const PipelineSpec& spec, const Json& params) {
  if (!params.is_object())
    return Error(ErrorCode::kUsage, "\"params\" must be a JSON object", {}, "{\"params\": {\"name\": value}}");
  for (const auto& [key, value] : params.items()) {
    if (!spec.params.contains(key)) {
      std::vector<std::string> known;
      for (const auto& [k, v] : spec.params.items()) known.push_back(k);
      return Error(ErrorCode::kUsage, "pipeline '" + spec.name + "' has no param '" + key + "'", {},
                   known.empty() ? "this pipeline declares no params" : "declared params: " + join(known, ", "));
    }
    const Json& declared = spec.params[key];
    const bool same = declared.is_null() || (declared.is_number() && value.is_number()) ||
                      declared.type() == value.type();
    if (!same)
      return Error(ErrorCode::kUsage,
                   "param '" + key + "' must be a " + std::string(declared.type_name()) + ", not a " +
                       std::string(value.type_name()),
                   {}, "the declared default is " + declared.dump());
  }
  return ok_status();
}

Result<RunFilter> run_filter(const httplib::Request& req, const std::string& pipeline) {
  RunFilter f;
  f.pipeline = pipeline;
  if (req.has_param("state")) {
    const std::string s = req.get_param_value("state");
    if (!orchestrate::parse_run_state(s))
      return Error(ErrorCode::kUsage, "unknown run state '" + s + "'", {}, "one of queued, running, success, failed");
    f.state = s;
  }
  if (req.has_param("type")) {
    const std::string t = req.get_param_value("type");
    if (!orchestrate::parse_run_type(t))
      return Error(ErrorCode::kUsage, "unknown run type '" + t + "'", {}, "one of manual, scheduled, backfill, dataset_triggered");
    f.type = t;
  }
  STRATA_ASSIGN(f.from, time_param(req, "from"));
  STRATA_ASSIGN(f.to, time_param(req, "to"));
  return f;
}

Result<Json> grid_json(Api& api, const PipelineSpec& spec, int limit) {
  RunFilter filter;
  filter.pipeline = spec.name;
  STRATA_ASSIGN(RunPage page, api.history->runs(filter, limit, 0));
  std::vector<std::string> ids;
  std::map<std::string, size_t> run_index;
  for (size_t i = 0; i < page.runs.size(); ++i) {
    ids.push_back(page.runs[i].run_id);
    run_index[page.runs[i].run_id] = i;
  }
  STRATA_ASSIGN(auto tis, api.history->task_instances(spec.name, ids));
  std::map<std::string, size_t> task_index;
  Json tasks = Json::array();
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    task_index[spec.tasks[i].id] = i;
    tasks.push_back({{"id", spec.tasks[i].id}, {"group", spec.tasks[i].group},
                     {"kind", orchestrate::task_kind_name(spec.tasks[i].kind)}});
  }
  std::vector<Json> cells(page.runs.size(), Json(std::vector<Json>(spec.tasks.size(), nullptr)));
  for (const auto& ti : tis) {
    auto r = run_index.find(ti.run_id);
    auto t = task_index.find(ti.task_id);
    if (r == run_index.end() || t == task_index.end()) continue;
    cells[r->second][t->second] = {{"state", orchestrate::task_state_name(ti.state)},
                                   {"try_number", ti.try_number},
                                   {"start_at", time_json(ti.start_at)},
                                   {"end_at", time_json(ti.end_at)},
                                   {"duration_seconds", duration_json(ti.start_at, ti.end_at)}};
  }
  Json runs = Json::array();
  for (size_t i = 0; i < page.runs.size(); ++i) {
    Json r = run_json(page.runs[i], false);
    r["task_instances"] = std::move(cells[i]);
    runs.push_back(std::move(r));
  }
  return Json{{"pipeline", spec.name}, {"tasks", tasks}, {"runs", runs}, {"total_runs", page.total}};
}

}  // namespace

Result<Reply> list_runs(Api& api, const httplib::Request& req, const std::string& pipeline) {
  STRATA_ASSIGN(RunFilter filter, run_filter(req, pipeline));
  STRATA_ASSIGN(int limit, int_param(req, "limit", 25, 1, 500));
  STRATA_ASSIGN(int offset, int_param(req, "offset", 0, 0, 1 << 30));
  STRATA_ASSIGN(RunPage page, api.history->runs(filter, limit, offset));
  Json runs = Json::array();
  for (const auto& r : page.runs) runs.push_back(run_json(r));
  return Reply{{{"runs", runs}, {"total", page.total}, {"limit", limit}, {"offset", offset}}};
}

void add_pipeline_routes(Routes& routes, Api& api) {
  routes.get("/api/v1/pipelines", [&api](const httplib::Request&) -> ApiResult {
    STRATA_ASSIGN(auto paused, paused_map(api));
    Json list = Json::array();
    for (const auto& p : api.pipelines()) {
      STRATA_ASSIGN(Json summary, pipeline_summary(api, *p, paused));
      list.push_back(std::move(summary));
    }
    return Reply{{{"pipelines", list}}};
  });
  routes.get(R"(/api/v1/pipelines/([^/]+))", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(auto spec, api.require_pipeline(capture(req, 1)));
    STRATA_ASSIGN(auto paused, paused_map(api));
    STRATA_ASSIGN(Json j, pipeline_summary(api, *spec, paused));
    j.update(graph_json(api, *spec));
    return Reply{j};
  });
  for (const bool pause : {true, false}) {
    routes.post(std::string(R"(/api/v1/pipelines/([^/]+)/)") + (pause ? "pause" : "unpause"),
                [&api, pause](const httplib::Request& req) -> ApiResult {
                  STRATA_ASSIGN(auto spec, api.require_pipeline(capture(req, 1)));
                  STRATA_TRY(api.ctx.store->ensure_pipeline(spec->name));
                  STRATA_TRY(api.ctx.store->set_paused(spec->name, pause));
                  if (api.ctx.scheduler) api.ctx.scheduler->notify();
                  return Reply{{{"name", spec->name}, {"paused", pause}}};
                });
  }
  routes.get(R"(/api/v1/pipelines/([^/]+)/runs)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(auto spec, api.require_pipeline(capture(req, 1)));
    return list_runs(api, req, spec->name);
  });
  routes.post(R"(/api/v1/pipelines/([^/]+)/runs)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(auto spec, api.require_pipeline(capture(req, 1)));
    STRATA_ASSIGN(Json body, body_object(req));
    for (const auto& [key, value] : body.items())
      if (key != "params")
        return Error(ErrorCode::kUsage, "unknown field '" + key + "' in the trigger request", {},
                     "send {\"params\": {…}}");
    const Json params = body.contains("params") ? body["params"] : Json::object();
    STRATA_TRY(validate_params(*spec, params));
    if (!api.ctx.scheduler)
      return Error(ErrorCode::kFailed, "this server runs no scheduler, so it cannot trigger runs");
    std::lock_guard lock(api.mutation_mutex);
    STRATA_ASSIGN(RunRecord run, api.ctx.scheduler->trigger(spec->name, params.dump()));
    api.ctx.scheduler->notify();
    return Reply{{{"run", run_json(run)}}, 201};
  });
  routes.get(R"(/api/v1/pipelines/([^/]+)/grid)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(auto spec, api.require_pipeline(capture(req, 1)));
    STRATA_ASSIGN(int limit, int_param(req, "limit", 25, 1, 500));
    STRATA_ASSIGN(Json grid, grid_json(api, *spec, limit));
    return Reply{std::move(grid)};
  });
}

}  // namespace strata::server
