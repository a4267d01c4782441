// Datasets (orchestrate/datasets.h): what updates and what waits for each dataset, their events,
// and events sent from outside (Airflow 2.9's POST /datasets/events).
#include <cstdint>
#include <map>

#include "orchestrate/datasets.h"
#include "server/api.h"

namespace strata::server {

using orchestrate::DatasetEventRecord;

namespace {

Json events_json(const std::vector<DatasetEventRecord>& events) {
  Json out = Json::array();
  for (const auto& e : events) out.push_back(orchestrate::dataset_event_json(e));
  return out;
}

ApiResult list_datasets(Api& api) {
  std::map<std::string, orchestrate::DatasetUse> uses = orchestrate::dataset_uses(api.pipelines());
  STRATA_ASSIGN(auto summaries, api.ctx.store->dataset_summaries());
  std::map<std::string, orchestrate::DatasetSummaryRecord> by_uri;
  for (auto& s : summaries) {
    uses.try_emplace(s.uri);
    by_uri[s.uri] = s;
  }
  Json list = Json::array();
  for (const auto& [uri, use] : uses) {
    auto s = by_uri.find(uri);
    const bool any = s != by_uri.end();
    Json producers = Json::array();
    for (const auto& [pipeline, task] : use.producers) producers.push_back({{"pipeline", pipeline}, {"task", task}});
    Json consumers = Json::array();
    for (const auto& name : use.consumers) {
      auto spec = api.pipeline(name);
      consumers.push_back({{"pipeline", name}, {"schedule", spec && spec->datasets ? Json(spec->datasets->to_string())
                                                                                   : Json(nullptr)}});
    }
    list.push_back({{"uri", uri},
                    {"producers", producers},
                    {"consumers", consumers},
                    {"total_events", any ? s->second.events : 0},
                    {"last_event_id", any ? Json(s->second.last_id) : Json(nullptr)},
                    {"last_event_at", any ? time_json(s->second.last_at) : Json(nullptr)}});
  }
  return Reply{{{"datasets", list}}};
}

ApiResult list_events(Api& api, const httplib::Request& req) {
  STRATA_ASSIGN(int limit, int_param(req, "limit", 25, 1, 1000));
  STRATA_ASSIGN(int64_t after, int64_param(req, "after_id", 0, 0, INT64_MAX));
  const std::string uri = req.has_param("uri") ? req.get_param_value("uri") : "";
  STRATA_ASSIGN(auto events, api.ctx.store->dataset_events(uri, after, limit));
  return Reply{{{"events", events_json(events)}}};
}

ApiResult create_event(Api& api, const httplib::Request& req) {
  STRATA_ASSIGN(Json body, body_object(req));
  for (const auto& [key, value] : body.items())
    if (key != "uri" && key != "extra")
      return Error(ErrorCode::kUsage, "unknown field '" + key + "' in the dataset event", {},
                   "send {\"uri\": \"s3://bucket/orders\", \"extra\": {…}}");
  if (!body.contains("uri") || !body["uri"].is_string())
    return Error(ErrorCode::kUsage, "a dataset event needs \"uri\", a string", {},
                 "send {\"uri\": \"s3://bucket/orders\"}");
  DatasetEventRecord event;
  event.uri = body["uri"].get<std::string>();
  if (std::string problem = orchestrate::dataset_uri_problem(event.uri); !problem.empty())
    return Error(ErrorCode::kUsage, problem, {}, "a dataset is a URI without spaces, in ASCII");
  STRATA_TRY(orchestrate::check_known_dataset(event.uri, api.pipelines()));
  Json extra = body.contains("extra") ? body["extra"] : Json::object();
  if (!extra.is_object())
    return Error(ErrorCode::kUsage, "\"extra\" must be a JSON object", {}, "e.g. \"extra\": {\"rows\": 42}");
  extra["from_rest_api"] = true;  // as Airflow marks the events its API creates
  event.extra_json = extra.dump();
  std::lock_guard lock(api.mutation_mutex);
  const int64_t at = api.now();
  STRATA_ASSIGN(event.id, api.ctx.store->add_dataset_event(event, at));
  event.at = at;
  if (api.ctx.scheduler) api.ctx.scheduler->notify();
  return Reply{{{"event", orchestrate::dataset_event_json(event)}}, 201};
}

}  // namespace

void add_dataset_routes(Routes& routes, Api& api) {
  routes.get("/api/v1/datasets", [&api](const httplib::Request&) { return list_datasets(api); });
  routes.get("/api/v1/datasets/events", [&api](const httplib::Request& req) { return list_events(api, req); });
  routes.post("/api/v1/datasets/events", [&api](const httplib::Request& req) { return create_event(api, req); });
  routes.get(R"(/api/v1/runs/([^/]+)/dataset_events)", [&api](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(auto run, require_run(api, req, capture(req, 1)));
    STRATA_ASSIGN(auto events, api.ctx.store->run_dataset_events(run.pipeline, run.run_id));
    return Reply{{{"events", events_json(events)}}};
  });
}

}  // namespace strata::server
