// Runs and task instances: list, detail, cancel, clear (with downstream), mark success/failed.
#include <filesystem>

#include "server/api.h"

namespace strata::server {

using orchestrate::PipelineSpec;
using orchestrate::RunRecord;
using orchestrate::RunState;
using orchestrate::TaskInstanceRecord;
using orchestrate::TaskState;

namespace {

// The stored run again (after a change), by its key.
Result<RunRecord> reload_run(Api& api, const RunRecord& run) {
  STRATA_ASSIGN(auto again, api.ctx.store->run(run.pipeline, run.run_id));
  if (!again) return Error(ErrorCode::kNotFound, "no run '" + run.run_id + "' in pipeline '" + run.pipeline + "'");
  return *again;
}

Result<std::shared_ptr<const PipelineSpec>> spec_of(Api& api, const RunRecord& run) {
  auto spec = api.pipeline(run.pipeline);
  if (!spec)
    return Error(ErrorCode::kNotFound, "run '" + run.run_id + "' belongs to pipeline '" + run.pipeline +
                                           "', which is not in this project any more");
  return spec;
}

Result<size_t> require_task(const PipelineSpec& spec, const std::string& task_id) {
  auto i = spec.find_task(task_id);
  if (!i)
    return Error(ErrorCode::kNotFound, "pipeline '" + spec.name + "' has no task '" + task_id + "'", {},
                 "GET /api/v1/pipelines/" + spec.name + " lists its tasks");
  return *i;
}

// The stored instance of every task of the spec (a fresh `none` record when absent), by index.
Result<std::vector<TaskInstanceRecord>> instances_by_task(Api& api, const PipelineSpec& spec, const RunRecord& run) {
  STRATA_ASSIGN(auto stored, api.ctx.store->task_instances(run.pipeline, run.run_id));
  std::vector<TaskInstanceRecord> out(spec.tasks.size());
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    const auto& t = spec.tasks[i];
    out[i].pipeline = run.pipeline;
    out[i].run_id = run.run_id;
    out[i].task_id = t.id;
    out[i].group = t.group;
    out[i].kind = t.kind;
    out[i].max_tries = t.retry.retries + 1;
    out[i].pool = t.pool;
    out[i].priority = t.priority;
  }
  for (auto& ti : stored)
    if (auto i = spec.find_task(ti.task_id)) out[*i] = std::move(ti);
  return out;
}

Json task_instance_json(const PipelineSpec& spec, size_t i, const TaskInstanceRecord& ti) {
  Json upstream = Json::array(), downstream = Json::array();
  for (size_t up : spec.tasks[i].upstream) upstream.push_back(spec.tasks[up].id);
  for (size_t k = 0; k < spec.tasks.size(); ++k)
    for (size_t up : spec.tasks[k].upstream)
      if (up == i) downstream.push_back(spec.tasks[k].id);
  return {{"task_id", ti.task_id},
          {"group", ti.group},
          {"kind", orchestrate::task_kind_name(ti.kind)},
          {"state", orchestrate::task_state_name(ti.state)},
          {"try_number", ti.try_number},
          {"max_tries", ti.max_tries},
          {"start_at", time_json(ti.start_at)},
          {"end_at", time_json(ti.end_at)},
          {"duration_seconds", duration_json(ti.start_at, ti.end_at)},
          {"next_retry_at", time_json(ti.next_retry_at)},
          {"pool", ti.pool},
          {"priority", ti.priority},
          {"note", ti.note},
          {"upstream", upstream},
          {"downstream", downstream}};
}

// The tasks a clear or mark applies to: the task, and with "downstream" everything after it.
Result<std::vector<size_t>> targets(const PipelineSpec& spec, size_t task, const Json& body) {
  std::vector<size_t> out{task};
  if (body.contains("downstream")) {
    if (!body["downstream"].is_boolean())
      return Error(ErrorCode::kUsage, "\"downstream\" must be true or false");
    if (body["downstream"].get<bool>())
      for (size_t d : downstream_of(spec, task)) out.push_back(d);
  }
  return out;
}

// A finished run's state from its task instances (the executor's rule: failed when a leaf failed).
RunState final_state(const PipelineSpec& spec, const std::vector<TaskInstanceRecord>& tis) {
  std::vector<bool> has_child(spec.tasks.size(), false);
  for (const auto& t : spec.tasks)
    for (size_t up : t.upstream) has_child[up] = true;
  for (size_t i = 0; i < tis.size(); ++i)
    if (!has_child[i] && (tis[i].state == TaskState::kFailed || tis[i].state == TaskState::kUpstreamFailed))
      return RunState::kFailed;
  return RunState::kSuccess;
}

constexpr int64_t kCancelWaitMs = 10'000;

Result<Reply> cancel_run(Api& api, RunRecord run) {
  const int64_t now = api.now();
  if (run.state == RunState::kQueued) {
    // Take the run away from the scheduler atomically before failing it.
    STRATA_ASSIGN(bool claimed, api.ctx.store->claim_run(run.pipeline, run.run_id, "api-cancel", now, 0));
    if (claimed) {
      run.state = RunState::kFailed;
      run.end_at = now;
      run.note = "the run was cancelled through the API before it started";
      STRATA_TRY(api.ctx.store->update_run(run));
      return Reply{{{"run", run_json(run)}}};
    }
    STRATA_ASSIGN(run, reload_run(api, run));
  }
  if (run.state == RunState::kRunning) {
    if (api.ctx.executor == nullptr ||
        !api.ctx.executor->cancel_run(run.pipeline, run.run_id, "the run was cancelled through the API"))
      return Error(ErrorCode::kFailed, "run '" + run.run_id + "' is running in another worker (" + run.owner + ")", {},
                   "cancel it through the API of the `strata serve` that runs it, or try again in a moment");
    // Running attempts stop within their runner's cancel latency; answer with the final state when it comes soon.
    const bool ended = api.ctx.executor->wait_for(run.pipeline, run.run_id, kCancelWaitMs).has_value();
    STRATA_ASSIGN(run, reload_run(api, run));
    return Reply{{{"run", run_json(run)}}, ended ? 200 : 202};
  }
  return Error(ErrorCode::kFailed, "run '" + run.run_id + "' has finished already (" +
                                       std::string(orchestrate::run_state_name(run.state)) + ")");
}

Result<Reply> clear_tasks(Api& api, RunRecord run, const PipelineSpec& spec, const std::vector<size_t>& which) {
  if (run.state == RunState::kQueued || run.state == RunState::kRunning)
    return Error(ErrorCode::kFailed, "run '" + run.run_id + "' is " + std::string(orchestrate::run_state_name(run.state)),
                 {}, "clear tasks once the run has finished");
  STRATA_ASSIGN(auto tis, instances_by_task(api, spec, run));
  Json cleared = Json::array();
  for (size_t i : which) {
    TaskInstanceRecord ti = tis[i];
    // As Airflow's clear: the task gets its retries again, counted from the tries it has made.
    ti.max_tries = ti.try_number + spec.tasks[i].retry.retries + 1;
    ti.state = TaskState::kNone;
    ti.end_at = 0;
    ti.next_retry_at = 0;
    ti.note.clear();
    STRATA_TRY(api.ctx.store->upsert_task_instance(ti));
    cleared.push_back(ti.task_id);
  }
  run.state = RunState::kQueued;
  run.queued_at = api.now();
  run.start_at = 0;  // as Airflow's clear: the run starts afresh (its dagrun_timeout counts from there)
  run.end_at = 0;
  run.note.clear();
  STRATA_TRY(api.ctx.store->update_run(run));
  if (api.ctx.scheduler) api.ctx.scheduler->notify();
  return Reply{{{"cleared", cleared}, {"run", run_json(run)}}};
}

Result<Reply> mark_tasks(Api& api, RunRecord run, const PipelineSpec& spec, const std::vector<size_t>& which,
                         TaskState state) {
  if (run.state == RunState::kRunning)
    return Error(ErrorCode::kFailed, "run '" + run.run_id + "' is running", {}, "mark tasks once it has finished");
  STRATA_ASSIGN(auto tis, instances_by_task(api, spec, run));
  const int64_t now = api.now();
  Json marked = Json::array();
  for (size_t i : which) {
    TaskInstanceRecord& ti = tis[i];
    ti.state = state;
    ti.next_retry_at = 0;
    ti.note.clear();
    if (ti.end_at == 0) ti.end_at = now;
    STRATA_TRY(api.ctx.store->upsert_task_instance(ti));
    marked.push_back(ti.task_id);
  }
  if (run.state != RunState::kQueued) {
    bool all_finished = true;
    for (const auto& ti : tis) all_finished = all_finished && orchestrate::is_finished(ti.state);
    if (all_finished) {
      const RunState marked_state = final_state(spec, tis);
      if (marked_state != run.state) run.note = "marked " + std::string(orchestrate::run_state_name(marked_state)) +
                                                 " through the API (was " +
                                                 std::string(orchestrate::run_state_name(run.state)) + ")";
      run.state = marked_state;
      STRATA_TRY(api.ctx.store->update_run(run));
    }
  }
  return Reply{{{"marked", marked}, {"run", run_json(run)}}};
}

}  // namespace

void add_run_routes(Routes& routes, Api& api) {
  routes.get("/api/v1/runs", [&api](const httplib::Request& req) -> ApiResult {
    std::string pipeline = req.has_param("pipeline") ? req.get_param_value("pipeline") : "";
    if (!pipeline.empty()) STRATA_TRY(api.require_pipeline(pipeline));
    return list_runs(api, req, pipeline);
  });
  routes.get(R"(/api/v1/runs/([^/]+))", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(RunRecord run, require_run(api, req, capture(req, 1)));
    STRATA_ASSIGN(auto counts, api.history->task_counts(run.pipeline, run.run_id));
    return Reply{{{"run", run_json(run)}, {"task_counts", counts}}};
  });
  routes.post(R"(/api/v1/runs/([^/]+)/cancel)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_TRY(body_object(req));
    std::lock_guard lock(api.mutation_mutex);
    STRATA_ASSIGN(RunRecord run, require_run(api, req, capture(req, 1)));
    return cancel_run(api, std::move(run));
  });
  routes.get(R"(/api/v1/runs/([^/]+)/tasks)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(RunRecord run, require_run(api, req, capture(req, 1)));
    STRATA_ASSIGN(auto spec, spec_of(api, run));
    STRATA_ASSIGN(auto tis, instances_by_task(api, *spec, run));
    Json list = Json::array();
    for (size_t i = 0; i < tis.size(); ++i) list.push_back(task_instance_json(*spec, i, tis[i]));
    return Reply{{{"run_id", run.run_id}, {"task_instances", list}}};
  });
  routes.get(R"(/api/v1/runs/([^/]+)/tasks/([^/]+))", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(RunRecord run, require_run(api, req, capture(req, 1)));
    STRATA_ASSIGN(auto spec, spec_of(api, run));
    STRATA_ASSIGN(size_t index, require_task(*spec, capture(req, 2)));
    STRATA_ASSIGN(auto tis, instances_by_task(api, *spec, run));
    STRATA_ASSIGN(auto attempts, api.ctx.store->attempts(run.pipeline, run.run_id, spec->tasks[index].id));
    Json list = Json::array();
    for (const auto& a : attempts) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(a.log_path, ec);
      list.push_back({{"try_number", a.try_number},
                      {"state", orchestrate::task_state_name(a.state)},
                      {"start_at", time_json(a.start_at)},
                      {"end_at", time_json(a.end_at)},
                      {"duration_seconds", duration_json(a.start_at, a.end_at)},
                      {"exit_code", a.exit_code},
                      {"error", api.mask(a.error)},
                      {"owner", a.owner},
                      {"log_size", ec ? Json(nullptr) : Json(size)}});
    }
    return Reply{{{"task_instance", task_instance_json(*spec, index, tis[index])}, {"attempts", list}}};
  });
  routes.post(R"(/api/v1/runs/([^/]+)/tasks/([^/]+)/clear)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(Json body, body_object(req));
    std::lock_guard lock(api.mutation_mutex);
    STRATA_ASSIGN(RunRecord run, require_run(api, req, capture(req, 1)));
    STRATA_ASSIGN(auto spec, spec_of(api, run));
    STRATA_ASSIGN(size_t index, require_task(*spec, capture(req, 2)));
    STRATA_ASSIGN(auto which, targets(*spec, index, body));
    return clear_tasks(api, std::move(run), *spec, which);
  });
  routes.post(R"(/api/v1/runs/([^/]+)/tasks/([^/]+)/mark)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(Json body, body_object(req));
    const Json state = body.contains("state") ? body["state"] : Json(nullptr);
    if (state != "success" && state != "failed")
      return Error(ErrorCode::kUsage, "\"state\" must be \"success\" or \"failed\"", {}, "{\"state\": \"success\"}");
    std::lock_guard lock(api.mutation_mutex);
    STRATA_ASSIGN(RunRecord run, require_run(api, req, capture(req, 1)));
    STRATA_ASSIGN(auto spec, spec_of(api, run));
    STRATA_ASSIGN(size_t index, require_task(*spec, capture(req, 2)));
    STRATA_ASSIGN(auto which, targets(*spec, index, body));
    return mark_tasks(api, std::move(run), *spec, which, state == "success" ? TaskState::kSuccess : TaskState::kFailed);
  });
}

}  // namespace strata::server
