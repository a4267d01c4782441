#pragma once
// The shared state behind an Environment handle. Internal to the jinja module.

#include <mutex>
#include <string>
#include <unordered_map>

#include "jinja/environment.h"

namespace strata::jinja {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  std::size_t operator()(const HashedName& n) const { return n.hash; }
};
template <typename T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

struct EnvironmentState {
  Options options;
  StringMap<Value> globals;
  StringMap<FilterFunction> filters;
  StringMap<TestFunction> tests;
  StringMap<CustomTag> tags;
  std::shared_ptr<const Loader> loader;
  std::mutex cache_mutex;
  StringMap<std::shared_ptr<const Template>> cache;
};

namespace detail {
// Registration of the built-ins (filters.cpp, tests.cpp, globals in environment.cpp).
void register_builtin_filters(EnvironmentState& state);
void register_builtin_tests(EnvironmentState& state);
}  // namespace detail

}  // namespace strata::jinja
