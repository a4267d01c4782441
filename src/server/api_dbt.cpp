// The dbt graph (lineage) from target/manifest.json and data-test results over time.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "server/api.h"

namespace strata::server {
namespace {

// The manifest, re-read when its modification time changes. Thread-safe.
class ManifestCache {
 public:
  Result<std::shared_ptr<const Json>> get(const std::string& path) {
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(path, ec);
    if (ec)
      return Error(ErrorCode::kNotFound, "the project has no target/manifest.json yet", {},
                   "run `strata compile` or `strata build` (or a pipeline with build tasks) to write it");
    std::lock_guard lock(mutex_);
    if (manifest_ && mtime == mtime_) return manifest_;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    Json j = Json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Error(ErrorCode::kConfig, "target/manifest.json is not valid JSON", {}, "run `strata compile` again");
    manifest_ = std::make_shared<const Json>(std::move(j));
    mtime_ = mtime;
    return manifest_;
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<const Json> manifest_;
  std::filesystem::file_time_type mtime_;
};

std::string text_of(const Json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string layer_of(const Json& node) {
  const std::string schema = text_of(node, "schema"), path = text_of(node, "original_file_path");
  for (const char* layer : {"bronze", "silver", "gold"})
    if (schema.find(layer) != std::string::npos || path.find(std::string("/") + layer + "/") != std::string::npos)
      return layer;
  return text_of(node, "resource_type") == "source" ? "source" : "other";
}

// Every node and source of the manifest by unique id.
std::map<std::string, const Json*> all_nodes(const Json& manifest) {
  std::map<std::string, const Json*> out;
  for (const char* section : {"nodes", "sources"}) {
    auto it = manifest.find(section);
    if (it == manifest.end() || !it->is_object()) continue;
    for (const auto& [id, node] : it->items()) out[id] = &node;
  }
  return out;
}

std::vector<std::string> depends_on(const Json& node) {
  std::vector<std::string> out;
  auto d = node.find("depends_on");
  if (d == node.end() || !d->is_object() || !d->contains("nodes")) return out;
  for (const auto& n : (*d)["nodes"])
    if (n.is_string()) out.push_back(n.get<std::string>());
  return out;
}

// The node a test checks: attached_node, else its first dependency.
std::string tested_node(const Json& test) {
  std::string attached = text_of(test, "attached_node");
  if (!attached.empty()) return attached;
  auto deps = depends_on(test);
  return deps.empty() ? "" : deps.front();
}

Json node_summary(const std::string& id, const Json& node) {
  const std::string alias = text_of(node, "alias"), identifier = text_of(node, "identifier");
  Json config = node.contains("config") ? node["config"] : Json::object();
  return {{"unique_id", id},
          {"name", text_of(node, "name")},
          {"resource_type", text_of(node, "resource_type")},
          {"layer", layer_of(node)},
          {"database", node.contains("database") ? node["database"] : Json(nullptr)},
          {"schema", text_of(node, "schema")},
          {"relation", !alias.empty() ? alias : !identifier.empty() ? identifier : text_of(node, "name")},
          {"materialized", config.is_object() && config.contains("materialized") ? config["materialized"] : Json(nullptr)}};
}

// Latest result per test (by unique id and by name) from the store's recent runs.
std::map<std::string, orchestrate::TestResultRecord> latest_results(Api& api) {
  std::map<std::string, orchestrate::TestResultRecord> out;
  auto results = api.history->recent_test_results(20);
  if (!results.ok()) return out;
  for (const auto& r : *results) out[r.test_name] = r;  // oldest first: later ones win
  return out;
}

const orchestrate::TestResultRecord* result_for(const std::map<std::string, orchestrate::TestResultRecord>& latest,
                                                const std::string& id, const Json& test) {
  auto it = latest.find(id);
  if (it == latest.end()) it = latest.find(text_of(test, "name"));
  return it == latest.end() ? nullptr : &it->second;
}

int severity(const std::string& status) {
  if (status == "error") return 4;
  if (status == "fail") return 3;
  if (status == "warn") return 2;
  return status == "pass" ? 1 : 0;
}

Json graph(Api& api, const Json& manifest) {
  const auto nodes = all_nodes(manifest);
  const auto latest = latest_results(api);
  std::map<std::string, std::string> worst;  // model -> worst latest test status
  for (const auto& [id, node] : nodes) {
    if (text_of(*node, "resource_type") != "test") continue;
    const auto* r = result_for(latest, id, *node);
    if (!r) continue;
    std::string& w = worst[tested_node(*node)];
    if (severity(r->status) > severity(w)) w = r->status;
  }
  Json list = Json::array(), edges = Json::array();
  for (const auto& [id, node] : nodes) {
    Json j = node_summary(id, *node);
    auto w = worst.find(id);
    j["test_status"] = w == worst.end() ? Json(nullptr) : Json(w->second);
    list.push_back(std::move(j));
    for (const auto& dep : depends_on(*node))
      if (nodes.count(dep)) edges.push_back({{"from", dep}, {"to", id}});
  }
  return {{"nodes", list}, {"edges", edges}};
}

Result<Json> node_detail(Api& api, const Json& manifest, const std::string& id) {
  const auto nodes = all_nodes(manifest);
  auto it = nodes.find(id);
  if (it == nodes.end())
    return Error(ErrorCode::kNotFound, "no dbt node '" + id + "' in target/manifest.json", {},
                 "GET /api/v1/dbt/graph lists the nodes");
  const Json& node = *it->second;
  Json j = node_summary(id, node);
  j["path"] = text_of(node, "original_file_path");
  j["description"] = text_of(node, "description");
  j["raw_code"] = api.mask(text_of(node, "raw_code"));
  j["compiled_code"] = node.contains("compiled_code") ? Json(api.mask(text_of(node, "compiled_code"))) : Json(nullptr);
  Json columns = Json::array();
  if (node.contains("columns") && node["columns"].is_object())
    for (const auto& [name, c] : node["columns"].items())
      columns.push_back({{"name", name}, {"description", text_of(c, "description")},
                         {"data_type", c.contains("data_type") ? c["data_type"] : Json(nullptr)}});
  j["columns"] = columns;
  j["depends_on"] = depends_on(node);
  const auto latest = latest_results(api);
  Json referenced_by = Json::array(), tests = Json::array();
  for (const auto& [other_id, other] : nodes) {
    const bool is_test = text_of(*other, "resource_type") == "test";
    if (is_test && tested_node(*other) == id) {
      const auto* r = result_for(latest, other_id, *other);
      Json result = nullptr;
      if (r)
        result = {{"status", r->status}, {"failures", r->failures}, {"message", api.mask(r->message)},
                  {"at", time_json(r->at)}, {"run_id", r->run_id}, {"pipeline", r->pipeline}};
      tests.push_back({{"unique_id", other_id}, {"name", text_of(*other, "name")}, {"latest", result}});
    } else if (!is_test) {
      for (const auto& dep : depends_on(*other))
        if (dep == id) referenced_by.push_back(other_id);
    }
  }
  j["referenced_by"] = referenced_by;
  j["tests"] = tests;
  return j;
}

Result<Json> tests_over_time(Api& api, const Json* manifest, int runs) {
  STRATA_ASSIGN(auto results, api.history->recent_test_results(runs));
  std::map<std::string, std::string> model_of;  // test unique id or name -> tested node
  if (manifest)
    for (const auto& [id, node] : all_nodes(*manifest))
      if (text_of(*node, "resource_type") == "test") {
        model_of[id] = tested_node(*node);
        model_of[text_of(*node, "name")] = tested_node(*node);
      }
  Json run_list = Json::array();
  std::vector<std::pair<std::string, std::string>> seen_runs;  // (pipeline, run_id)
  std::map<std::string, Json> by_test;
  for (const auto& r : results) {
    if (seen_runs.empty() || seen_runs.back() != std::make_pair(r.pipeline, r.run_id)) {
      seen_runs.emplace_back(r.pipeline, r.run_id);
      run_list.push_back({{"run_id", r.run_id}, {"pipeline", r.pipeline}, {"at", time_json(r.at)}});
    }
    Json& t = by_test[r.test_name];
    if (t.is_null()) {
      auto m = model_of.find(r.test_name);
      t = {{"name", r.test_name}, {"model", m == model_of.end() ? Json(nullptr) : Json(m->second)},
           {"results", Json::array()}};
    }
    t["results"].push_back({{"run_id", r.run_id}, {"pipeline", r.pipeline}, {"task_id", r.task_id}, {"status", r.status},
                            {"failures", r.failures}, {"message", api.mask(r.message)}, {"at", time_json(r.at)}});
  }
  Json tests = Json::array();
  for (auto& [name, t] : by_test) tests.push_back(std::move(t));
  return Json{{"runs", run_list}, {"tests", tests}};
}

}  // namespace

void add_dbt_routes(Routes& routes, Api& api) {
  auto cache = std::make_shared<ManifestCache>();
  auto manifest_path = [&api] { return api.ctx.project_dir + "/target/manifest.json"; };
  routes.get("/api/v1/dbt/graph", [&api, cache, manifest_path](const httplib::Request&) -> ApiResult {
    STRATA_ASSIGN(auto manifest, cache->get(manifest_path()));
    return Reply{graph(api, *manifest)};
  });
  routes.get(R"(/api/v1/dbt/nodes/([^/]+))", [&api, cache, manifest_path](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(auto manifest, cache->get(manifest_path()));
    STRATA_ASSIGN(Json j, node_detail(api, *manifest, capture(req, 1)));
    return Reply{std::move(j)};
  });
  routes.get("/api/v1/dbt/tests", [&api, cache, manifest_path](const httplib::Request& req) -> ApiResult {
    STRATA_ASSIGN(int runs, int_param(req, "runs", 20, 1, 200));
    auto manifest = cache->get(manifest_path());
    STRATA_ASSIGN(Json j, tests_over_time(api, manifest.ok() ? manifest->get() : nullptr, runs));
    return Reply{std::move(j)};
  });
}

}  // namespace strata::server
