// Template rendering entry points, modules, includes/imports, and the Renderer's loading helpers.
#include "jinja/template.h"

#include "jinja/renderer.h"

namespace strata::jinja {
namespace {

class ModuleObject final : public Object {
 public:
  ModuleObject(Dict exports, std::string output) : exports_(std::move(exports)), output_(std::move(output)) {}
  std::string type_name() const override { return "TemplateModule"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (const Value* v = exports_.find(name)) return *v;
    return std::nullopt;
  }
  std::string to_string() const override { return output_; }

 private:
  Dict exports_;
  std::string output_;
};

Dict exports_of(const detail::Scope& root) {
  Dict exports;
  for (const auto& var : root.vars)
    if (!var.name.empty() && var.name[0] != '_') exports.set(Value(var.name), detail::pin_macro(var.value));
  return exports;
}

}  // namespace

Value Module::as_value() const { return Value::object(std::make_shared<ModuleObject>(exports, output)); }

Template::Template(std::shared_ptr<EnvironmentState> env, std::string name, std::unique_ptr<detail::Program> program)
    : env_(std::move(env)), name_(std::move(name)), program_(std::move(program)) {}

Template::~Template() = default;

Result<std::string> Template::render(const Context& context) const {
  std::string out;
  STRATA_TRY(render_to(context, out));
  return out;
}

Status Template::render_to(const Context& context, std::string& out) const {
  Environment env(env_);
  detail::Renderer r(env, context, *this);
  out.reserve(out.size() + program_->text_size * 2);
  STRATA_TRY(r.exec_body(program_->body, out));
  return ok_status();
}

Result<Module> Template::make_module(const Context& context) const {
  Environment env(env_);
  detail::Renderer r(env, context, *this);
  Module module;
  STRATA_TRY(r.exec_body(program_->body, module.output));
  module.exports = exports_of(*r.scope);
  return module;
}

std::vector<std::string> Template::macro_names() const {
  std::vector<std::string> names;
  for (const auto& m : program_->macros) names.push_back(m->name);
  return names;
}

std::optional<Value> Template::macro(std::string_view name) const {
  for (const auto& m : program_->macros)
    if (m->name == name) return detail::make_macro(m, shared_from_this(), nullptr);
  return std::nullopt;
}

const std::vector<CustomBlock>& Template::custom_blocks() const { return program_->custom_blocks; }

Result<Value> call_function(const Environment& env, const Context& context, const Value& fn, CallArgs args) {
  auto holder = std::make_shared<Template>(env.state(), "<call>", std::make_unique<detail::Program>());
  detail::Renderer r(env, context, *holder);
  Result<Value> result = r.call_value(fn, args, detail::Pos{});
  if (!result.ok()) return result;
  r.returning = false;
  return result;
}

namespace detail {

Result<std::shared_ptr<const Template>> Renderer::load(const Value& name, Pos at) const {
  if (name.is_string()) {
    auto t = env_.get_template(name.as_string());
    if (!t.ok()) return locate(std::move(t).error(), at);
    return t;
  }
  if (name.is_sequence()) {
    for (const auto& candidate : name.as_list()) {
      if (!candidate.is_string()) continue;
      auto t = env_.get_template(candidate.as_string());
      if (t.ok() || t.error().code() != ErrorCode::kNotFound) return t;
    }
    return Error(ErrorCode::kNotFound, "none of the templates given were found: " + name.repr(),
                 SourceLocation{template_->name(), at.line, at.column});
  }
  return error(at, "template name must be a string, got " + name.type_name());
}

Result<Module> Renderer::run_module(const Template& tmpl, bool with_context, Pos at) {
  if (depth >= options().max_depth) return error(at, "maximum recursion depth exceeded");
  static const Context kEmpty;
  Renderer sub(env_, with_context ? *context_ : kEmpty, tmpl);
  sub.inherit_stack(*this);
  sub.depth = depth + 1;
  Module module;
  STRATA_TRY(sub.exec_body(tmpl.program().body, module.output));
  module.exports = exports_of(*sub.scope);
  return module;
}

Exec Renderer::run_included(const Template& tmpl, bool with_context, std::string& out, Pos at) {
  if (depth >= options().max_depth) return error(at, "maximum recursion depth exceeded");
  if (!with_context) {
    static const Context kEmpty;
    Renderer sub(env_, kEmpty, tmpl);
    sub.inherit_stack(*this);
    sub.depth = depth + 1;
    return sub.exec_body(tmpl.program().body, out);
  }
  auto inner = std::make_shared<Scope>();
  inner->parent = scope;
  std::shared_ptr<Scope> saved = std::move(scope);
  scope = inner;
  const Template* saved_template = swap_template(&tmpl);
  ++depth;
  Exec st = exec_body(tmpl.program().body, out);
  --depth;
  swap_template(saved_template);
  scope = std::move(saved);
  loop_control = LoopControl::kNone;
  return st;
}

}  // namespace detail
}  // namespace strata::jinja
