#include "orchestrate/connection_secrets.h"

#include <filesystem>
#include <regex>
#include <sstream>

#include "common/strings.h"
#include "common/yaml.h"
#include "ingest/connection_config.h"

namespace strata::orchestrate {
namespace {

// The env var names of a line's env_var('NAME', …) / env_var("NAME") calls.
std::vector<std::string> env_var_names(const std::string& line) {
  static const std::regex call(R"(env_var\s*\(\s*['"]([^'"]+)['"])");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(line.begin(), line.end(), call); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

void register_env_secrets(const std::string& path, SecretMasker& masker, const EnvLookup& env) {
  std::string text;
  if (!read_file(path, text)) return;
  static const std::regex password_key(R"(^\s*["']?password["']?\s*:)");
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const bool password_line = std::regex_search(line, password_key);
    for (const auto& name : env_var_names(line)) {
      if (!password_line && !is_secret_env_name(name)) continue;
      if (auto value = env(name); value && !value->empty()) masker.add(*value);
    }
  }
}

}  // namespace

void register_connection_secrets(const std::string& project_dir, SecretMasker& masker, const EnvLookup& env) {
  std::error_code ec;
  const std::filesystem::path folder = std::filesystem::path(project_dir) / "connections";
  for (auto it = std::filesystem::directory_iterator(folder, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const auto& file = it->path();
    if (file.extension() != ".yml" && file.extension() != ".yaml") continue;
    YamlOptions yaml;
    yaml.env = env;
    yaml.masker = &masker;
    (void)ingest::load_connection_config(file.string(), yaml);  // registers the password when it loads
    register_env_secrets(file.string(), masker, env);
  }
}

}  // namespace strata::orchestrate
