#pragma once
// Access to environment variables as an injected dependency, so tests can pass their own.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

// Looks a variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv). Safe to call from any thread as long as nobody calls setenv.
EnvLookup process_env();
// A fixed map, then (if fallback is set) the fallback.
EnvLookup map_env(std::map<std::string, std::string> values, EnvLookup fallback = nullptr);

// True for names whose values must be treated as secrets: containing PASSWORD, PASSWD, SECRET,
// TOKEN, CREDENTIAL, PRIVATE_KEY or API_KEY (any case), or starting with DBT_ENV_SECRET_.
bool is_secret_env_name(std::string_view name);

}  // namespace strata
