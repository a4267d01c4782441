#include "transform/previous_state.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/strings.h"
#include "common/time.h"
#include "transform/artifacts.h"

namespace strata::transform {

namespace {

Result<Json> read_json(const std::string& path) {
  std::string text;
  if (!read_file(path, text)) return Error(ErrorCode::kNotFound, "cannot read " + path);
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Error(ErrorCode::kConfig, path + " is not a JSON object", {path},
                 "point --state at the target folder of an earlier strata or dbt invocation");
  return doc;
}

const Json* member(const Json& doc, const char* section, const std::string& key) {
  auto s = doc.find(section);
  if (s == doc.end() || !s->is_object()) return nullptr;
  auto it = s->find(key);
  return it == s->end() ? nullptr : &*it;
}

const Json& field(const Json& j, const char* key) {
  static const Json kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// A config value that says nothing: what a missing key is compared as.
bool is_empty_value(const Json& v) {
  return v.is_null() || (v.is_object() && v.empty()) || (v.is_array() && v.empty()) || v == false ||
         (v.is_string() && v.get<std::string>().empty());
}

bool same_value(const Json& a, const Json& b) { return a == b || (is_empty_value(a) && is_empty_value(b)); }

bool same_config(const Json& now, const Json& before) {
  if (!now.is_object() || !before.is_object()) return now == before;
  for (const auto& [key, value] : now.items())
    if (!same_value(value, field(before, key.c_str()))) return false;
  for (const auto& [key, value] : before.items())
    if (!now.contains(key) && !is_empty_value(value)) return false;
  return true;
}

bool persists(const Json& config, const char* what) {
  const Json& docs = field(config, "persist_docs");
  return docs.is_object() && field(docs, what) == true;
}

std::map<std::string, Json> column_field(const Json& node, const char* key) {
  std::map<std::string, Json> out;
  const Json& cols = field(node, "columns");
  if (cols.is_object())
    for (const auto& [name, c] : cols.items()) out[name] = c.is_object() ? field(c, key) : Json();
  return out;
}

bool enforced(const Json& node) {
  const Json& contract = field(field(node, "config"), "contract");
  return contract.is_object() && field(contract, "enforced") == true;
}

}  // namespace

Result<std::optional<FreshnessResults>> load_freshness(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<FreshnessResults>();
  STRATA_ASSIGN(Json doc, read_json(path));
  FreshnessResults out;
  const Json& list = field(doc, "results");
  if (list.is_array()) {
    for (const auto& r : list) {
      if (!r.is_object() || !field(r, "unique_id").is_string()) continue;
      std::optional<int64_t> loaded;
      const Json& at = field(r, "max_loaded_at");
      if (at.is_string() && field(r, "status") != "runtime error") {
        // "2024-05-01 10:00:00+00" as the warehouse printed it, or ISO 8601 with a T.
        std::string iso = at.get<std::string>();
        if (iso.size() > 10 && iso[10] == ' ') iso[10] = 'T';
        loaded = parse_iso8601(iso);
      }
      out[r["unique_id"].get<std::string>()] = loaded;
    }
  }
  return std::optional<FreshnessResults>(std::move(out));
}

Result<PreviousState> PreviousState::load(const std::string& dir) {
  PreviousState state;
  state.dir_ = dir;
  std::error_code ec;
  const std::string manifest = dir + "/manifest.json";
  if (!std::filesystem::exists(manifest, ec))
    return Error(ErrorCode::kUsage, "no manifest.json in the --state folder '" + dir + "'", {},
                 "pass the target folder of an earlier invocation (e.g. a copy of production's target/)");
  STRATA_ASSIGN(state.manifest_, read_json(manifest));
  const std::string results = dir + "/run_results.json";
  if (std::filesystem::exists(results, ec)) {
    STRATA_ASSIGN(Json doc, read_json(results));
    state.has_run_results_ = true;
    const Json& list = field(doc, "results");
    if (list.is_array())
      for (const auto& r : list)
        if (r.is_object() && field(r, "unique_id").is_string() && field(r, "status").is_string())
          state.statuses_[r["unique_id"].get<std::string>()] = r["status"].get<std::string>();
  }
  STRATA_ASSIGN(state.freshness_, load_freshness(dir + "/sources.json"));
  return state;
}

const Json* PreviousState::node(const std::string& unique_id) const {
  for (const char* section : {"nodes", "sources", "unit_tests"})
    if (const Json* j = member(manifest_, section, unique_id)) return j;
  return nullptr;
}

const Json* PreviousState::macro(const std::string& unique_id) const { return member(manifest_, "macros", unique_id); }

std::string PreviousState::result_status(const std::string& unique_id) const {
  auto it = statuses_.find(unique_id);
  return it == statuses_.end() ? std::string() : it->second;
}

StateComparison::StateComparison(const Graph& graph, const PreviousState& state,
                                 std::optional<FreshnessResults> current_freshness)
    : graph_(graph), state_(state), current_freshness_(std::move(current_freshness)) {
  const auto& macros = graph.project().macros;
  std::map<std::string, const MacroDef*> by_id;
  for (const auto& m : macros) {
    by_id[m.unique_id] = &m;
    const Json* before = state.macro(m.unique_id);
    if (!before || field(*before, "macro_sql") != m.macro_sql) changed_macros_.insert(m.unique_id);
  }
  // A macro calling a changed macro changed too: repeat until nothing more is added.
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& m : macros) {
      if (changed_macros_.count(m.unique_id)) continue;
      for (const auto& dep : m.depends_on_macros)
        if (changed_macros_.count(dep)) {
          changed_macros_.insert(m.unique_id);
          grew = true;
          break;
        }
    }
  }
}

bool StateComparison::modified(size_t i, const std::string& aspect, const Json& now, const Json& before) const {
  const Node& n = graph_.node(i);
  const bool source = n.resource_type == ResourceType::kSource;
  if (aspect == "body") {
    return !source && field(field(now, "checksum"), "checksum") != field(field(before, "checksum"), "checksum");
  }
  if (aspect == "configs") return !same_config(field(now, "config"), field(before, "config"));
  if (aspect == "relation") {
    // Configured names, not the target's: a dev build compares cleanly with a prod manifest.
    if (source) {
      for (const char* key : {"database", "schema", "identifier"})
        if (field(now, key) != field(before, key)) return true;
      for (const char* key : {"loaded_at_field", "freshness", "quoting"})
        if (!same_value(field(now, key), field(before, key))) return true;
      return false;
    }
    for (const char* key : {"database", "schema", "alias"})
      if (!same_value(field(field(now, "config"), key), field(field(before, "config"), key))) return true;
    return false;
  }
  if (aspect == "persisted_descriptions") {
    const Json& config = field(now, "config");
    if (persists(config, "relation") && field(now, "description") != field(before, "description")) return true;
    return persists(config, "columns") && column_field(now, "description") != column_field(before, "description");
  }
  if (aspect == "macros") {
    return std::any_of(n.depends_on_macros.begin(), n.depends_on_macros.end(),
                       [&](const std::string& m) { return changed_macros_.count(m) > 0; });
  }
  if (aspect == "contract") {
    if (enforced(now) != enforced(before)) return true;
    return enforced(now) && column_field(now, "data_type") != column_field(before, "data_type");
  }
  return false;
}

Result<bool> StateComparison::state_matches(size_t i, const std::string& value) const {
  static const std::vector<std::string> kAspects = {"body",   "configs", "relation", "persisted_descriptions",
                                                    "macros", "contract"};
  const Json* before = state_.node(graph_.node(i).unique_id);
  if (value == "new") return before == nullptr;
  if (value == "old") return before != nullptr;
  if (value == "modified" || value == "unmodified") {
    bool any = !before;
    if (before) {
      const Json now = manifest_node_json(graph_, i);
      any = std::any_of(kAspects.begin(), kAspects.end(), [&](const auto& a) { return modified(i, a, now, *before); });
    }
    return value == "modified" ? any : !any;
  }
  if (starts_with(value, "modified.")) {
    const std::string aspect = value.substr(9);
    if (std::find(kAspects.begin(), kAspects.end(), aspect) != kAspects.end())
      return before != nullptr && modified(i, aspect, manifest_node_json(graph_, i), *before);
  }
  return Error(ErrorCode::kUsage, "unknown state selector 'state:" + value + "'", {},
               "use state:new, state:old, state:modified, state:unmodified or state:modified.body|configs|relation|"
               "persisted_descriptions|macros|contract");
}

Result<bool> StateComparison::result_matches(size_t i, const std::string& status) const {
  if (!state_.has_run_results())
    return Error(ErrorCode::kUsage, "result:" + status + " needs run_results.json in the --state folder '" +
                                        state_.dir() + "'",
                 {}, "pass the target folder of an earlier build, run, test, seed or snapshot");
  return state_.result_status(graph_.node(i).unique_id) == status;
}

Result<bool> StateComparison::source_status_matches(size_t i, const std::string& value) const {
  if (value != "fresher")
    return Error(ErrorCode::kUsage, "unknown source_status '" + value + "'", {}, "use source_status:fresher");
  if (!state_.freshness())
    return Error(ErrorCode::kUsage,
                 "source_status:fresher needs sources.json in the --state folder '" + state_.dir() + "'", {},
                 "pass the target folder of an invocation that ran strata source freshness");
  if (!current_freshness_)
    return Error(ErrorCode::kUsage, "source_status:fresher needs the current freshness results (target/sources.json)",
                 {}, "run strata source freshness first: it writes them");
  const std::string& id = graph_.node(i).unique_id;
  auto now = current_freshness_->find(id);
  if (now == current_freshness_->end() || !now->second) return false;
  auto before = state_.freshness()->find(id);
  if (before == state_.freshness()->end()) return true;
  return before->second && *now->second > *before->second;
}

Result<std::vector<Deferral>> defer_to_state(Graph& graph, const std::vector<size_t>& selected,
                                             const PreviousState& state, warehouse::Warehouse& wh, bool favor_state) {
  std::vector<bool> is_selected(graph.size(), false);
  for (size_t i : selected) is_selected[i] = true;
  std::map<std::string, std::set<std::string>> existing;  // schema → lower-case relation names
  auto exists = [&](const Node& n) -> Result<bool> {
    auto it = existing.find(n.schema);
    if (it == existing.end()) {
      STRATA_ASSIGN(auto relations, wh.relations(n.schema));
      std::set<std::string> names;
      for (const auto& r : relations) names.insert(to_lower(r.relation.name));
      it = existing.emplace(n.schema, std::move(names)).first;
    }
    return it->second.count(to_lower(n.alias)) > 0;
  };
  std::vector<Deferral> deferred;
  for (size_t i = 0; i < graph.size(); ++i) {
    const Node& n = graph.node(i);
    const bool relational = n.resource_type == ResourceType::kModel || n.resource_type == ResourceType::kSeed ||
                            n.resource_type == ResourceType::kSnapshot;
    if (is_selected[i] || !relational || n.materialized() == "ephemeral") continue;
    const Json* before = state.node(n.unique_id);
    if (!before || !field(*before, "schema").is_string() || !field(*before, "alias").is_string() ||
        !field(*before, "relation_name").is_string())
      continue;
    if (!favor_state) {
      STRATA_ASSIGN(bool built_here, exists(n));
      if (built_here) continue;
    }
    Node& m = graph.mutable_node(i);
    deferred.push_back(Deferral{i, m.database, m.schema, m.alias, m.relation_name});
    const Json& database = field(*before, "database");
    m.database = database.is_string() ? database.get<std::string>() : std::string();
    m.schema = (*before)["schema"].get<std::string>();
    m.alias = (*before)["alias"].get<std::string>();
    m.relation_name = (*before)["relation_name"].get<std::string>();
  }
  return deferred;
}

void restore_relations(Graph& graph, const std::vector<Deferral>& deferred) {
  for (const auto& d : deferred) {
    Node& m = graph.mutable_node(d.node);
    m.database = d.database;
    m.schema = d.schema;
    m.alias = d.alias;
    m.relation_name = d.relation_name;
  }
}

}  // namespace strata::transform
