#pragma once
// Helpers for the jinja unit tests.

#include <string>

#include <gtest/gtest.h>

#include "jinja/environment.h"
#include "jinja/template.h"

namespace strata::jinja::testing {

// Renders `source` with `context`; returns the text or "ERROR: <message>".
inline std::string render(const Environment& env, const std::string& source, const Context& context = {}) {
  auto out = env.render(source, context, "t.sql");
  if (!out.ok()) return "ERROR: " + out.error().to_string();
  return *out;
}

inline std::string render(const std::string& source, const Context& context = {}) {
  Environment env;
  return render(env, source, context);
}

}  // namespace strata::jinja::testing
