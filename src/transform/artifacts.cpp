#include "transform/artifacts.h"

#include <filesystem>

#include "common/parallel.h"
#include "common/strings.h"

namespace strata::transform {

void append_member(Json& object, std::string key, Json value) {
  object.get_ref<Json::object_t&>().emplace_back(std::move(key), std::move(value));
}

Json object_with_capacity(size_t members) {
  Json object = Json::object();
  object.get_ref<Json::object_t&>().reserve(members);
  return object;
}

namespace {

constexpr const char* kManifestSchema = "https://schemas.getdbt.com/dbt/manifest/v12.json";
constexpr const char* kRunResultsSchema = "https://schemas.getdbt.com/dbt/run-results/v5.json";

Json metadata(const InvocationInfo& info, const char* schema) {
  return Json{{"dbt_schema_version", schema},
              {"dbt_version", kDbtVersion},
              {"generated_at", info.generated_at},
              {"invocation_id", info.invocation_id},
              {"env", Json::object()},
              {"strata_version", info.strata_version}};
}

Json string_array(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const auto& s : v) out.push_back(s);
  return out;
}

Json columns_json(const Node& n) {
  Json cols = Json::object();
  for (const auto& c : n.columns) {
    cols[c.name] = Json{{"name", c.name},
                        {"description", c.description},
                        {"meta", c.meta},
                        {"data_type", c.data_type.empty() ? Json(nullptr) : Json(c.data_type)},
                        {"constraints", c.constraints},
                        {"quote", nullptr},
                        {"tags", string_array(c.tags)}};
  }
  return cols;
}

Json config_json(const Node& n) {
  Json c = n.config;
  // dbt writes hooks as objects.
  for (const char* key : {"pre-hook", "post-hook"}) {
    if (!c.contains(key)) continue;
    Json hooks = Json::array();
    int index = 0;
    for (const auto& h : c[key]) {
      if (h.is_object()) hooks.push_back(h);
      else hooks.push_back(Json{{"sql", h.is_string() ? h.get<std::string>() : h.dump()}, {"transaction", true},
                                {"index", index}});
      ++index;
    }
    c[key] = hooks;
  }
  return c;
}

// dbt's `contract`: enforced, alias_types, and when enforced a checksum of the declared columns.
Json contract_json(const Node& n) {
  const Json& config = n.config.contains("contract") && n.config["contract"].is_object() ? n.config["contract"]
                                                                                          : Json::object();
  const bool enforced = config.contains("enforced") && config["enforced"] == true;
  const bool alias_types = !config.contains("alias_types") || config["alias_types"] != false;
  Json checksum = nullptr;
  if (enforced) {
    std::string declared;
    for (const auto& c : n.columns) declared += c.name + ":" + c.data_type + ";";
    checksum = sha256_hex(declared);
  }
  return Json{{"enforced", enforced}, {"alias_types", alias_types}, {"checksum", checksum}};
}

Json node_json(const Graph& g, size_t i, const std::string& compiled) {
  const Node& n = g.node(i);
  Json j = object_with_capacity(48);
  j["database"] = n.database.empty() ? Json(nullptr) : Json(n.database);
  j["schema"] = n.schema;
  j["name"] = n.name;
  j["resource_type"] = resource_type_name(n.resource_type);
  j["package_name"] = n.package_name;
  j["path"] = n.path;
  j["original_file_path"] = n.original_file_path;
  j["unique_id"] = n.unique_id;
  j["fqn"] = string_array(n.fqn);
  j["alias"] = n.alias;
  j["checksum"] = node_checksum(g, i);
  j["config"] = config_json(n);
  j["tags"] = string_array(n.tags);
  j["description"] = n.description;
  j["columns"] = columns_json(n);
  j["meta"] = n.meta;
  j["group"] = nullptr;
  j["docs"] = Json{{"show", true}, {"node_color", nullptr}};
  j["patch_path"] = n.patch_path.empty() ? Json(nullptr) : Json(n.patch_path);
  j["build_path"] = nullptr;
  j["unrendered_config"] = Json::object();
  j["created_at"] = 0;
  j["relation_name"] = n.materialized() == "ephemeral" || n.resource_type == ResourceType::kTest ||
                               n.resource_type == ResourceType::kAnalysis
                           ? Json(nullptr)
                           : Json(n.relation_name);
  j["raw_code"] = n.raw_code;
  j["language"] = n.language;
  Json refs = Json::array();
  for (const auto& r : n.refs)
    refs.push_back(Json{{"name", r.name},
                        {"package", r.package.empty() ? Json(nullptr) : Json(r.package)},
                        {"version", r.version.empty() ? Json(nullptr) : Json(r.version)}});
  j["refs"] = std::move(refs);
  Json sources = Json::array();
  for (const auto& s : n.sources) sources.push_back(Json::array({s.source_name, s.table_name}));
  j["sources"] = std::move(sources);
  j["metrics"] = Json::array();
  j["depends_on"] = Json{{"macros", string_array(n.depends_on_macros)}, {"nodes", string_array(n.depends_on)}};
  j["compiled_path"] = nullptr;
  if (!compiled.empty()) {
    j["compiled"] = true;
    j["compiled_code"] = compiled;
    j["extra_ctes_injected"] = true;
    j["extra_ctes"] = Json::array();
  }
  j["contract"] = contract_json(n);
  if (n.resource_type == ResourceType::kModel) {
    j["access"] = "protected";
    j["constraints"] = n.constraints;
    j["version"] = nullptr;
    j["latest_version"] = nullptr;
    j["deprecation_date"] = nullptr;
  }
  if (n.resource_type == ResourceType::kSeed) j["root_path"] = package_root(g.project(), n.package_name);
  if (n.is_test()) {
    j["column_name"] = n.column_name.empty() ? Json(nullptr) : Json(n.column_name);
    j["file_key_name"] = n.file_key_name.empty() ? Json(nullptr) : Json(n.file_key_name);
    j["attached_node"] = n.attached_node.empty() ? Json(nullptr) : Json(n.attached_node);
    if (n.test_metadata)
      j["test_metadata"] = Json{{"name", n.test_metadata->name},
                                {"kwargs", n.test_metadata->kwargs},
                                {"namespace", n.test_metadata->namespace_.empty() ? Json(nullptr)
                                                                                  : Json(n.test_metadata->namespace_)}};
  }
  return j;
}

Json source_json(const Node& n) {
  Json j = object_with_capacity(32);
  j["database"] = n.database.empty() ? Json(nullptr) : Json(n.database);
  j["schema"] = n.schema;
  j["name"] = n.name;
  j["resource_type"] = "source";
  j["package_name"] = n.package_name;
  j["path"] = n.path;
  j["original_file_path"] = n.original_file_path;
  j["unique_id"] = n.unique_id;
  j["fqn"] = string_array(n.fqn);
  j["source_name"] = n.source_name;
  j["source_description"] = n.source_description;
  j["loader"] = "";
  j["identifier"] = n.identifier;
  j["quoting"] = n.quoting;
  j["loaded_at_field"] = n.loaded_at_field.empty() ? Json(nullptr) : Json(n.loaded_at_field);
  j["freshness"] = n.freshness.is_null() ? Json{{"warn_after", Json::object()}, {"error_after", Json::object()},
                                                {"filter", nullptr}}
                                         : n.freshness;
  j["external"] = nullptr;
  j["description"] = n.description;
  j["columns"] = columns_json(n);
  j["meta"] = n.meta;
  j["source_meta"] = Json::object();
  j["tags"] = string_array(n.tags);
  j["config"] = n.config;
  j["patch_path"] = nullptr;
  j["unrendered_config"] = Json::object();
  j["relation_name"] = n.relation_name;
  j["created_at"] = 0;
  return j;
}

}  // namespace

Json manifest_node_json(const Graph& g, size_t i) {
  return g.node(i).resource_type == ResourceType::kSource ? source_json(g.node(i)) : node_json(g, i, {});
}

Json node_checksum(const Graph& g, size_t i) {
  const Node& n = g.node(i);
  if (n.resource_type != ResourceType::kSeed) return Json{{"name", "sha256"}, {"checksum", sha256_hex(n.raw_code)}};
  constexpr uintmax_t kMaxHashedSeed = uintmax_t{1} << 20;
  const std::string file = node_file_path(g.project(), n);
  std::error_code ec;
  std::string text;
  if (std::filesystem::file_size(file, ec) > kMaxHashedSeed || ec || !read_file(file, text))
    return Json{{"name", "path"}, {"checksum", n.original_file_path}};
  return Json{{"name", "sha256"}, {"checksum", sha256_hex(text)}};
}

Json manifest_json(const Graph& g, const InvocationInfo& info, const std::vector<std::string>& compiled) {
  Json doc = object_with_capacity(24);
  Json meta = metadata(info, kManifestSchema);
  meta["project_name"] = g.project().project.name;
  meta["project_id"] = md5_hex(g.project().project.name);
  meta["user_id"] = nullptr;
  meta["send_anonymous_usage_stats"] = false;
  meta["adapter_type"] = info.adapter_type;
  doc["metadata"] = std::move(meta);
  // Each node's entries are built on a few threads, then added in node order.
  struct Entries {
    Json node, parents = Json::array(), children = Json::array();
  };
  std::vector<Entries> built(g.size());
  parallel_for(g.size(), [&](size_t i) {
    const Node& n = g.node(i);
    built[i].node = n.resource_type == ResourceType::kSource
                        ? source_json(n)
                        : node_json(g, i, i < compiled.size() ? compiled[i] : std::string());
    for (size_t p : g.parents(i)) built[i].parents.push_back(g.node(p).unique_id);
    for (size_t c : g.children(i)) built[i].children.push_back(g.node(c).unique_id);
  });
  Json nodes = object_with_capacity(g.size()), sources = Json::object(), unit_tests = Json::object();
  Json parent_map = object_with_capacity(g.size()), child_map = object_with_capacity(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.node(i);
    if (!n.unit_test.is_null()) {  // dbt keeps unit tests apart from the nodes
      built[i].node["resource_type"] = "unit_test";
      built[i].node["model"] = n.unit_test["model"];
      built[i].node["given"] = n.unit_test["given"];
      built[i].node["expect"] = n.unit_test["expect"];
      built[i].node["overrides"] = n.unit_test["overrides"];
    }
    append_member(n.resource_type == ResourceType::kSource ? sources : !n.unit_test.is_null() ? unit_tests : nodes,
                  n.unique_id, std::move(built[i].node));
    append_member(parent_map, n.unique_id, std::move(built[i].parents));
    append_member(child_map, n.unique_id, std::move(built[i].children));
  }
  doc["nodes"] = std::move(nodes);
  doc["sources"] = std::move(sources);
  Json macros = Json::object();
  for (const auto& m : g.project().macros) {
    Json args = Json::array();
    for (const auto& a : m.arguments) args.push_back(Json{{"name", a}, {"type", nullptr}, {"description", ""}});
    macros[m.unique_id] = Json{{"name", m.name},
                               {"resource_type", "macro"},
                               {"package_name", m.package_name},
                               {"path", m.path},
                               {"original_file_path", m.original_file_path},
                               {"unique_id", m.unique_id},
                               {"macro_sql", m.macro_sql},
                               {"depends_on", Json{{"macros", string_array(m.depends_on_macros)}}},
                               {"description", m.description},
                               {"meta", Json::object()},
                               {"docs", Json{{"show", true}, {"node_color", nullptr}}},
                               {"patch_path", nullptr},
                               {"arguments", args},
                               {"created_at", 0},
                               {"supported_languages", nullptr}};
  }
  doc["macros"] = std::move(macros);
  Json docs = Json::object();
  for (const auto& d : g.project().docs)
    docs[d.unique_id] = Json{{"name", d.name},
                             {"resource_type", "doc"},
                             {"package_name", d.package_name},
                             {"path", d.original_file_path},
                             {"original_file_path", d.original_file_path},
                             {"unique_id", d.unique_id},
                             {"block_contents", d.contents}};
  doc["docs"] = std::move(docs);
  doc["exposures"] = Json::object();
  doc["metrics"] = Json::object();
  doc["groups"] = Json::object();
  Json selectors = Json::object();
  for (const auto& s : g.project().selectors)
    selectors[s.name] = Json{{"name", s.name}, {"description", s.description}, {"definition", s.definition}};
  doc["selectors"] = std::move(selectors);
  Json disabled = Json::object();
  for (const auto& n : g.project().disabled)
    disabled[n.unique_id] = Json::array({Json{{"unique_id", n.unique_id}, {"name", n.name},
                                              {"resource_type", resource_type_name(n.resource_type)},
                                              {"original_file_path", n.original_file_path}}});
  doc["disabled"] = std::move(disabled);
  doc["parent_map"] = std::move(parent_map);
  doc["child_map"] = std::move(child_map);
  doc["group_map"] = Json::object();
  doc["saved_queries"] = Json::object();
  doc["semantic_models"] = Json::object();
  doc["unit_tests"] = std::move(unit_tests);
  return doc;
}

Json batch_results_json(const BatchResults& batches) {
  auto windows = [](const std::vector<BatchResults::Window>& list) {
    Json out = Json::array();
    for (const auto& [start, end] : list) out.push_back(Json::array({start, end}));
    return out;
  };
  return Json{{"successful", windows(batches.successful)}, {"failed", windows(batches.failed)}};
}

BatchResults batch_results_from_json(const Json& doc) {
  BatchResults out;
  if (!doc.is_object()) return out;
  auto read = [&](const char* key, std::vector<BatchResults::Window>& list) {
    for (const auto& w : doc.value(key, Json::array()))
      if (w.is_array() && w.size() == 2 && w[0].is_string() && w[1].is_string())
        list.emplace_back(w[0].get<std::string>(), w[1].get<std::string>());
  };
  read("successful", out.successful);
  read("failed", out.failed);
  return out;
}

Json run_results_json(const InvocationInfo& info, const std::vector<NodeResult>& results, double elapsed_seconds,
                      const Json& args) {
  Json out = Json::array();
  for (const auto& r : results) {
    Json timing = Json::array();
    if (!r.compile_started_at.empty())
      timing.push_back(Json{{"name", "compile"}, {"started_at", r.compile_started_at},
                            {"completed_at", r.compile_completed_at}});
    if (!r.started_at.empty())
      timing.push_back(Json{{"name", "execute"}, {"started_at", r.started_at}, {"completed_at", r.completed_at}});
    Json adapter = Json::object();
    if (!r.code.empty()) {
      adapter["_message"] = r.code;
      adapter["code"] = r.code;
      adapter["rows_affected"] = r.rows_affected < 0 ? Json(nullptr) : Json(r.rows_affected);
    }
    out.push_back(Json{{"status", r.status},
                       {"timing", timing},
                       {"thread_id", "Thread-1"},
                       {"execution_time", r.execution_time},
                       {"adapter_response", adapter},
                       {"message", r.message.empty() ? Json(nullptr) : Json(r.message)},
                       {"failures", r.failures < 0 ? Json(nullptr) : Json(r.failures)},
                       {"unique_id", r.unique_id},
                       {"compiled", !r.compiled_code.empty()},
                       {"compiled_code", r.compiled_code},
                       {"relation_name", r.relation_name.empty() ? Json(nullptr) : Json(r.relation_name)},
                       {"batch_results", r.batch_results ? batch_results_json(*r.batch_results) : Json(nullptr)}});
  }
  Json a = args.is_object() ? args : Json::object();
  if (!a.contains("which")) a["which"] = info.command;
  return Json{{"metadata", metadata(info, kRunResultsSchema)},
              {"results", out},
              {"elapsed_time", elapsed_seconds},
              {"args", a}};
}

Status write_artifact(const std::string& target_dir, const std::string& name, const Json& doc) {
  std::error_code ec;
  std::filesystem::create_directories(target_dir, ec);
  std::string path = target_dir + "/" + name;
  if (!write_file_atomic(path, doc.dump(2)))
    return Error(ErrorCode::kFailed, "cannot write " + path, {}, "check that the target folder is writable");
  return ok_status();
}

}  // namespace strata::transform
