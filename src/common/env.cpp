#include "common/env.h"

#include <cstdlib>

#include "common/strings.h"

namespace strata {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup map_env(std::map<std::string, std::string> values, EnvLookup fallback) {
  return [values = std::move(values), fallback = std::move(fallback)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it != values.end()) return it->second;
    if (fallback) return fallback(name);
    return std::nullopt;
  };
}

bool is_secret_env_name(std::string_view name) {
  std::string upper = to_upper(name);
  if (starts_with(upper, "DBT_ENV_SECRET_")) return true;
  for (const char* word : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE_KEY", "API_KEY"})
    if (upper.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace strata
