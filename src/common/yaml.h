#pragma once
// YAML loading that keeps the file, line and column of every node, so configuration errors can
// point at file:line:col, and a pre-pass that replaces `{{ env_var('NAME') }}` and
// `{{ env_var('NAME', 'default') }}` in scalar values (as dbt does in profiles.yml). Other Jinja in
// values is left untouched for the layer that renders it.

#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "common/env.h"
#include "common/error.h"
#include "common/result.h"
#include "common/secrets.h"

namespace strata {

struct YamlOptions {
  EnvLookup env = process_env();
  // When set, values read from secret-looking variables (is_secret_env_name) are registered.
  SecretMasker* masker = nullptr;
  // When false, env_var calls are left in place.
  bool substitute_env = true;
};

// A parsed YAML file. The root is a yaml-cpp node whose Mark() gives 0-based positions.
struct YamlDocument {
  std::string file;
  YAML::Node root;

  // The 1-based position of a node in this file.
  SourceLocation where(const YAML::Node& node) const;
  // A kConfig error located at node.
  Error error(const YAML::Node& node, std::string message, std::string hint = {}) const;
};

// Parses a file. Errors: kNotFound when unreadable, kConfig (located) for syntax errors and for an
// env_var without default whose variable is unset.
Result<YamlDocument> load_yaml_file(const std::string& path, const YamlOptions& options = {});
Result<YamlDocument> load_yaml_string(std::string_view text, std::string file_name, const YamlOptions& options = {});

// Replaces every `{{ env_var(...) }}` call in one string. `where` locates errors.
Result<std::string> substitute_env_vars(std::string_view text, const YamlOptions& options,
                                        const SourceLocation& where);

// Typed access with located errors. `what` names the value in messages ("port", "sync_mode").
Result<std::string> yaml_string(const YamlDocument& doc, const YAML::Node& node, std::string_view what);
Result<long long> yaml_int(const YamlDocument& doc, const YAML::Node& node, std::string_view what);
Result<bool> yaml_bool(const YamlDocument& doc, const YAML::Node& node, std::string_view what);

}  // namespace strata
