#include "transform/project.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "common/strings.h"

namespace strata::transform {

namespace fs = std::filesystem;

namespace {

constexpr std::array kCommonKeys = {
    "enabled", "tags", "meta", "docs", "database", "schema", "alias", "persist_docs", "pre-hook",
    "post-hook", "full_refresh", "quoting", "grants", "group", "access", "contract", "event_time",
    "materialized", "on_configuration_change", "packages", "sql_header", "description"};
constexpr std::array kModelKeys = {
    "unique_key", "incremental_strategy", "on_schema_change", "incremental_predicates",
    "merge_update_columns", "merge_exclude_columns", "batch_size", "lookback", "begin",
    "concurrent_batches", "partition_by", "cluster_by", "indexes", "unlogged", "options",
    "require_partition_filter", "partition_expiration_days", "partitions",
    "file_format", "location", "plugin", "labels", "predicates", "bind", "copy_grants", "query_tag",
    "transient", "dist", "sort", "sort_type", "required_tests"};
constexpr std::array kSeedKeys = {"column_types", "quote_columns", "delimiter", "indexes"};
constexpr std::array kSnapshotKeys = {
    "strategy", "unique_key", "updated_at", "check_cols", "target_schema", "target_database",
    "invalidate_hard_deletes", "hard_deletes", "snapshot_meta_column_names", "dbt_valid_to_current"};
constexpr std::array kTestKeys = {"severity", "warn_if", "error_if", "where", "limit", "fail_calc",
                                  "store_failures", "store_failures_as"};
constexpr std::array kSourceKeys = {"freshness", "loaded_at_field", "loaded_at_query"};

template <typename Array>
bool contains(const Array& arr, std::string_view key) {
  return std::find(arr.begin(), arr.end(), key) != arr.end();
}

std::vector<std::string_view> known_keys(const std::string& kind) {
  std::vector<std::string_view> keys(kCommonKeys.begin(), kCommonKeys.end());
  auto add = [&](const auto& arr) { keys.insert(keys.end(), arr.begin(), arr.end()); };
  if (kind == "models" || kind == "analyses") add(kModelKeys);
  if (kind == "seeds") add(kSeedKeys);
  if (kind == "snapshots") { add(kSnapshotKeys); add(kModelKeys); }
  if (kind == "tests" || kind == "data_tests") add(kTestKeys);
  if (kind == "sources") add(kSourceKeys);
  return keys;
}

Result<std::vector<std::string>> string_list(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  std::vector<std::string> out;
  if (node.is_scalar()) {
    out.push_back(node.scalar());
    return out;
  }
  if (!node.is_sequence()) return doc.error(node, std::string(what) + " must be a string or a list of strings");
  for (const auto& item : node) {
    if (!item.is_scalar()) return doc.error(item, std::string(what) + " must contain only strings");
    out.push_back(item.scalar());
  }
  return out;
}

bool is_dict_merge_key(std::string_view key) {
  return key == "meta" || key == "docs" || key == "grants" || key == "quoting" || key == "persist_docs" ||
         key == "column_types";
}

bool is_append_key(std::string_view key) { return key == "tags" || key == "pre-hook" || key == "post-hook"; }

Json as_list(const Json& value) {
  if (value.is_array()) return value;
  if (value.is_null()) return Json::array();
  return Json::array({value});
}

}  // namespace

Json configs_not_scanned(Json rendered, const Json& scanned) {
  for (const char* key : {"pre-hook", "post-hook"}) {
    auto it = rendered.find(key);
    if (it == rendered.end()) continue;
    Json seen = Json::array();
    for (auto s = scanned.begin(); s != scanned.end(); ++s)
      if (normalize_config_key(s.key()) == key) seen = as_list(s.value());
    Json kept = Json::array();
    for (const auto& hook : as_list(*it)) {
      auto hit = std::find(seen.begin(), seen.end(), hook);
      if (hit == seen.end()) kept.push_back(hook);
      else seen.erase(hit);
    }
    if (kept.empty()) rendered.erase(it);
    else *it = std::move(kept);
  }
  return rendered;
}

std::string normalize_config_key(std::string_view key) {
  if (!key.empty() && key[0] == '+') key.remove_prefix(1);
  if (key == "pre_hook") return "pre-hook";
  if (key == "post_hook") return "post-hook";
  return std::string(key);
}

bool is_known_config_key(std::string_view key, const std::string& kind) {
  for (auto k : known_keys(kind))
    if (k == key) return true;
  return false;
}

std::string suggest_config_key(std::string_view key, const std::string& kind) {
  return closest_match(key, known_keys(kind));
}

void merge_configs(Json& base, const Json& overlay) {
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    const std::string& key = it.key();
    if (is_append_key(key) && base.contains(key)) {
      Json merged = as_list(base[key]);
      for (const auto& v : as_list(it.value()))
        if (key != "tags" || std::find(merged.begin(), merged.end(), v) == merged.end()) merged.push_back(v);
      base[key] = std::move(merged);
    } else if (is_dict_merge_key(key) && base.contains(key) && base[key].is_object() && it.value().is_object()) {
      for (auto jt = it.value().begin(); jt != it.value().end(); ++jt) base[key][jt.key()] = jt.value();
    } else if (is_append_key(key)) {
      base[key] = as_list(it.value());
    } else {
      base[key] = it.value();
    }
  }
}

void merge_configs(Json& base, ConfigOrigins& base_where, const Json& overlay, const ConfigOrigins& overlay_where,
                   const SourceLocation& fallback) {
  merge_configs(base, overlay);
  std::shared_ptr<const SourceLocation> fallback_origin;
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    auto at = overlay_where.find(it.key());
    if (at != overlay_where.end()) {
      base_where[it.key()] = at->second;
    } else if (!fallback.empty()) {
      if (!fallback_origin) fallback_origin = config_origin(fallback);
      base_where[it.key()] = fallback_origin;
    }
  }
}

void apply_config_tree(const ConfigTree& tree, const std::vector<std::string>& path, Json& out,
                       ConfigOrigins* out_where) {
  auto apply = [&](const ConfigTree& level) {
    if (out_where)
      merge_configs(out, *out_where, level.configs, level.configs_where);
    else
      merge_configs(out, level.configs);
  };
  apply(tree);
  const ConfigTree* level = &tree;
  for (const auto& part : path) {
    auto it = level->children.find(part);
    if (it == level->children.end()) return;
    level = &it->second;
    apply(*level);
  }
}

Result<ConfigTree> parse_config_tree(const YamlDocument& doc, const YamlNode& node, const std::string& kind) {
  ConfigTree tree;
  tree.where = doc.where(node);
  if (node.is_null()) return tree;
  if (!node.is_map()) return doc.error(node, "'" + kind + "' must be a mapping of configs and folders");
  for (const auto& kv : node) {
    const std::string raw_key = kv.first.scalar();
    const std::string key = normalize_config_key(raw_key);
    const bool plus = !raw_key.empty() && raw_key[0] == '+';
    if (plus || is_known_config_key(key, kind)) {
      if (!is_known_config_key(key, kind)) {
        std::string suggestion = suggest_config_key(key, kind);
        return doc.error(kv.first, "unknown config key '" + raw_key + "' for " + kind,
                         suggestion.empty() ? "remove it or use a config dbt knows (see dbt's resource configs)"
                                            : "did you mean '+" + suggestion + "'?");
      }
      tree.configs[key] = yaml_to_json(kv.second);
      tree.configs_where[key] = config_origin(doc.where(kv.second));
      continue;
    }
    if (!kv.second.is_map() && !kv.second.is_null()) {
      std::string suggestion = suggest_config_key(key, kind);
      return doc.error(kv.first, "unknown config key '" + raw_key + "' for " + kind,
                       suggestion.empty()
                           ? "a folder or package name must hold a mapping; configs are written with '+'"
                           : "did you mean '+" + suggestion + "'?");
    }
    STRATA_ASSIGN(auto child, parse_config_tree(doc, kv.second, kind));
    tree.children.emplace(raw_key, std::move(child));
  }
  return tree;
}

std::string target_dir(const ProjectConfig& project) {
  if (!project.target_path.empty() && project.target_path.front() == '/') return project.target_path;
  return project.root + "/" + project.target_path;
}

Result<ProjectConfig> load_project(const std::string& project_dir, const EnvLookup& env) {
  ProjectConfig project;
  std::error_code ec;
  fs::path root = fs::absolute(project_dir.empty() ? "." : project_dir, ec).lexically_normal();
  project.root = root.string();
  if (!project.root.empty() && project.root.back() == '/' && project.root.size() > 1) project.root.pop_back();
  project.file = (root / "dbt_project.yml").string();
  if (!fs::exists(project.file))
    return Error(ErrorCode::kNotFound, "no dbt_project.yml in " + project.root, {project.file},
                 "run from a dbt project folder or pass --project-dir");
  YamlOptions options;
  options.env = env;
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(project.file, options));
  const YamlNode& top = doc.root;
  if (!top.is_map()) return doc.error(top, "dbt_project.yml must be a mapping", "start with `name: my_project`");

  static const std::set<std::string> kResourceSections = {"models", "seeds", "snapshots", "tests", "data_tests",
                                                          "sources", "analyses", "saved-queries", "semantic-models",
                                                          "metrics", "exposures", "unit_tests"};
  for (const auto& kv : top) {
    const std::string key = kv.first.scalar();
    const YamlNode& value = kv.second;
    if (key == "name") {
      STRATA_ASSIGN(project.name, yaml_string(doc, value, "name"));
    } else if (key == "version") {
      project.version = value.is_scalar() ? value.scalar() : "";
    } else if (key == "config-version") {
      STRATA_ASSIGN(long long v, yaml_int(doc, value, "config-version"));
      if (v != 2) return doc.error(value, "config-version must be 2", "set `config-version: 2`");
      project.config_version = static_cast<int>(v);
    } else if (key == "profile") {
      STRATA_ASSIGN(project.profile, yaml_string(doc, value, "profile"));
    } else if (key == "model-paths" || key == "source-paths") {
      STRATA_ASSIGN(project.model_paths, string_list(doc, value, key));
    } else if (key == "seed-paths" || key == "data-paths") {
      STRATA_ASSIGN(project.seed_paths, string_list(doc, value, key));
    } else if (key == "test-paths") {
      STRATA_ASSIGN(project.test_paths, string_list(doc, value, key));
    } else if (key == "macro-paths") {
      STRATA_ASSIGN(project.macro_paths, string_list(doc, value, key));
    } else if (key == "snapshot-paths") {
      STRATA_ASSIGN(project.snapshot_paths, string_list(doc, value, key));
    } else if (key == "analysis-paths") {
      STRATA_ASSIGN(project.analysis_paths, string_list(doc, value, key));
    } else if (key == "docs-paths" || key == "asset-paths") {
      if (key == "docs-paths") {
        STRATA_ASSIGN(project.docs_paths, string_list(doc, value, key));
      }
    } else if (key == "target-path") {
      STRATA_ASSIGN(project.target_path, yaml_string(doc, value, key));
    } else if (key == "packages-install-path" || key == "modules-path") {
      STRATA_ASSIGN(project.packages_install_path, yaml_string(doc, value, key));
    } else if (key == "clean-targets") {
      STRATA_ASSIGN(project.clean_targets, string_list(doc, value, key));
    } else if (key == "log-path" || key == "require-dbt-version" || key == "flags" || key == "restrict-access" ||
               key == "dbt-cloud") {
      // Accepted, not used by strata.
    } else if (key == "vars") {
      if (!value.is_map() && !value.is_null()) return doc.error(value, "vars must be a mapping");
      if (value.is_map()) project.vars = yaml_to_json(value);
    } else if (key == "on-run-start" || key == "on-run-end") {
      if (!value.is_null()) {
        STRATA_ASSIGN(auto hooks, string_list(doc, value, key));
        (key == "on-run-start" ? project.on_run_start : project.on_run_end) = std::move(hooks);
      }
    } else if (key == "dispatch") {
      if (!value.is_sequence()) return doc.error(value, "dispatch must be a list of {macro_namespace, search_order}");
      project.dispatch = yaml_to_json(value);
    } else if (key == "quoting") {
      project.quoting = yaml_to_json(value);
    } else if (key == "query-comment") {
      project.query_comment = value.is_scalar() ? value.scalar() : "";
    } else if (kResourceSections.count(key)) {
      std::string kind = key == "data_tests" ? "tests" : key;
      STRATA_ASSIGN(auto tree, parse_config_tree(doc, value, kind));
      project.config_trees[kind] = std::move(tree);
    } else {
      return doc.error(kv.first, "unknown key '" + key + "' in dbt_project.yml",
                       "see dbt's dbt_project.yml reference; configs for models go under `models:`");
    }
  }
  if (project.name.empty())
    return doc.error(top, "dbt_project.yml has no `name`", "add `name: my_project` (letters, digits, underscores)");
  for (char c : project.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return doc.error(top["name"], "project name '" + project.name + "' must contain only letters, digits and _",
                       "rename it, e.g. `name: " + replace_all(project.name, "-", "_") + "`");
  if (project.profile.empty()) project.profile = project.name;
  if (project.clean_targets.empty()) project.clean_targets = {project.target_path};
  if (project.docs_paths.empty()) {
    for (const auto* list : {&project.model_paths, &project.seed_paths, &project.test_paths, &project.macro_paths,
                             &project.snapshot_paths, &project.analysis_paths})
      project.docs_paths.insert(project.docs_paths.end(), list->begin(), list->end());
  }
  return project;
}

}  // namespace strata::transform
