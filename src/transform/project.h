#pragma once
// dbt_project.yml: the project's name, profile, folders, vars, hooks and config trees. Loading
// validates keys and reports located errors (file:line:col). Parsing needs no warehouse.
// A loaded ProjectConfig is an immutable value; safe to share between threads.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/result.h"
#include "common/yaml.h"
#include "transform/node.h"

namespace strata::transform {

// Configs for one level of a config tree (`models:` → package → folder → ... → node name).
struct ConfigTree {
  Json configs = Json::object();                 // keys normalised (no '+', pre_hook → pre-hook)
  ConfigOrigins configs_where;                   // each config's value in dbt_project.yml
  std::map<std::string, ConfigTree> children;    // folder / package / node name
  SourceLocation where;
};

struct ProjectConfig {
  std::string root;          // absolute path of the project folder
  std::string file;          // path of dbt_project.yml
  std::string name;
  std::string version;
  int config_version = 2;
  std::string profile;       // empty → the project name
  std::vector<std::string> model_paths{"models"};
  std::vector<std::string> seed_paths{"seeds"};
  std::vector<std::string> test_paths{"tests"};
  std::vector<std::string> macro_paths{"macros"};
  std::vector<std::string> snapshot_paths{"snapshots"};
  std::vector<std::string> analysis_paths{"analyses"};
  std::vector<std::string> docs_paths;              // empty → every other resource path
  std::string target_path = "target";
  std::string packages_install_path = "dbt_packages";
  std::vector<std::string> clean_targets;
  Json vars = Json::object();                     // as written (global keys and per-package maps)
  std::vector<std::string> on_run_start;
  std::vector<std::string> on_run_end;
  Json dispatch = Json::array();
  Json quoting = Json::object();
  std::string query_comment;
  // Config trees by resource kind: "models", "seeds", "snapshots", "tests", "sources", "analyses", "data_tests".
  std::map<std::string, ConfigTree> config_trees;
  std::vector<std::string> warnings;
};

// The project's target folder: target_path, under the project's root unless absolute.
std::string target_dir(const ProjectConfig& project);

// Loads `<project_dir>/dbt_project.yml`. Errors (kConfig, located): missing file (kNotFound),
// invalid YAML, missing `name`, unknown top-level keys, unknown `+config` keys, wrong value types.
Result<ProjectConfig> load_project(const std::string& project_dir, const EnvLookup& env);

// Builds a ConfigTree from a YAML mapping (a `models:` section, or nested). `kind` chooses which
// config keys are known. Errors: unknown `+key` (with a "did you mean" hint), non-mapping values.
Result<ConfigTree> parse_config_tree(const YamlDocument& doc, const YamlNode& node, const std::string& kind);

// Normalises a config key: strips '+', maps "pre_hook"/"post_hook" to "pre-hook"/"post-hook".
std::string normalize_config_key(std::string_view key);
// True when `key` (normalised) is a config dbt knows for resources of `kind` ("models", ...).
bool is_known_config_key(std::string_view key, const std::string& kind);
// The known key closest to `key` (edit distance ≤ 3), or "".
std::string suggest_config_key(std::string_view key, const std::string& kind);

// Merges `overlay` configs into `base` with dbt's rules: tags, pre-hook, post-hook append; meta,
// docs, grants, quoting, persist_docs merge as dicts; every other key replaces.
void merge_configs(Json& base, const Json& overlay);
// As merge_configs, and records in `base_where` where each of overlay's keys was set: its entry in
// `overlay_where`, else `fallback` (when not empty).
void merge_configs(Json& base, ConfigOrigins& base_where, const Json& overlay, const ConfigOrigins& overlay_where,
                   const SourceLocation& fallback = {});

// `rendered` (configs a render of a file's config() calls found) less the hooks already in
// `scanned` (what the static scan read from the same calls and merged before), each hook once,
// so that merging both does not run a config() hook twice. Other keys are kept as they are.
Json configs_not_scanned(Json rendered, const Json& scanned);

// Applies the configs of a tree along `path` (package, folders..., name) to `out`, root first.
// `out_where` (optional) gets where each applied key was set.
void apply_config_tree(const ConfigTree& tree, const std::vector<std::string>& path, Json& out,
                       ConfigOrigins* out_where = nullptr);


}  // namespace strata::transform
