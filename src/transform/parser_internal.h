#pragma once
// Internal to the parser: shared between parser.cpp and properties.cpp. Not a public API.

#include <string>
#include <unordered_map>
#include <vector>

#include "common/yaml.h"
#include "transform/parser.h"

namespace strata::transform::detail {

// Parse state: the project being built and indexes into it.
struct ParseState {
  ParsedProject out;
  EnvLookup env;
  // "model:name" → index into out.nodes for patching (models, seeds, snapshots, analyses; not tests).
  std::unordered_map<std::string, long> by_name;
  // Set while an installed package is parsed (out.project is then the package's dbt_project.yml):
  // the root project, whose config trees apply after the package's own (the root wins).
  const ProjectConfig* root = nullptr;
};

// Applies the `kind` config trees ("models", "seeds"...) along `fqn` to `config`: the parsed
// project's own tree, then the root project's when a package is parsed. `where` (optional) gets
// where each applied key was set.
void apply_project_configs(const ParseState& state, const std::string& kind, const std::vector<std::string>& fqn,
                           Json& config, ConfigOrigins* where = nullptr);

// Splits "a/b/c.sql" into folders ["a","b"] and stem "c".
void split_path(const std::string& relative, std::vector<std::string>& folders, std::string& stem);

// Applies one property file (version: 2), already read as YAML. `resource_dir` is the resource
// folder the file lives in (e.g. "models"), `relative` its path inside it.
Status parse_property_file(ParseState& state, const YamlDocument& doc, const std::string& resource_dir,
                           const std::string& relative);

// Checks that every key of a `config:` mapping is known for `kind`; located error otherwise.
Status check_config_keys(const YamlDocument& doc, const YamlNode& config, const std::string& kind);

// Defaults dbt gives every node of a type (materialized, enabled, tags, ...); built once, shared.
const Json& default_config(ResourceType type);

// Adds a node (enabled or disabled) and indexes it by name.
void add_node(ParseState& state, Node node);

}  // namespace strata::transform::detail
