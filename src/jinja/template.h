#pragma once
// jinja::Template — a parsed template: parse once (Environment::parse), render many times.
// Immutable after parsing; render() may run concurrently on many threads with separate Contexts.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "jinja/environment.h"
#include "jinja/value.h"

namespace strata::jinja {

namespace detail {
struct Program;
}

// The result of rendering a template as a module (`{% import %}`, Template::make_module): its
// top-level macros and variables, and its output.
struct Module {
  Dict exports;
  std::string output;
  // The module as a template value: `m.name` reads exports, `{{ m }}` prints the output.
  Value as_value() const;
};

class Template : public std::enable_shared_from_this<Template> {
 public:
  // Use Environment::parse / get_template.
  Template(std::shared_ptr<EnvironmentState> env, std::string name, std::unique_ptr<detail::Program> program);
  ~Template();
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

  const std::string& name() const { return name_; }
  // Renders with the given variables. Errors carry this template's name, line and column.
  Result<std::string> render(const Context& context) const;
  // Appends the rendering to out (out is left partially written on error).
  Status render_to(const Context& context, std::string& out) const;
  // Runs the template and collects its top-level macros and variables.
  Result<Module> make_module(const Context& context) const;

  // Names of the macros defined at top level (including host macro-like tags), in source order.
  std::vector<std::string> macro_names() const;
  // A top-level macro as a callable Value, without rendering the template. Free names inside it
  // are resolved when it is called, through the caller's context and the environment's globals
  // (so macros loaded from many files can call each other by name). nullopt when unknown.
  std::optional<Value> macro(std::string_view name) const;
  // Uses of host-registered tags, in source order.
  const std::vector<CustomBlock>& custom_blocks() const;

  const detail::Program& program() const { return *program_; }
  const std::shared_ptr<EnvironmentState>& environment_state() const { return env_; }

 private:
  std::shared_ptr<EnvironmentState> env_;
  std::string name_;
  std::unique_ptr<detail::Program> program_;
};

// Calls a callable Value (e.g. a macro from Template::macro) from C++ outside any render; `context`
// provides the variables its free names resolve to (then the environment's globals). A macro that
// uses `return(x)` yields x; otherwise its rendered text.
Result<Value> call_function(const Environment& env, const Context& context, const Value& fn, CallArgs args);

}  // namespace strata::jinja
