// Statement execution: output, control flow, assignments, macros, loops, includes and imports.
#include "jinja/renderer.h"

namespace strata::jinja::detail {
namespace {

class Macro final : public Callable {
 public:
  Macro(std::shared_ptr<const MacroDef> def, std::shared_ptr<const Template> owner, std::shared_ptr<Scope> closure)
      : def_(std::move(def)), owner_(std::move(owner)), closure_(std::move(closure)) {}
  Macro(std::shared_ptr<const MacroDef> def, std::shared_ptr<const Template> owner, std::weak_ptr<Scope> closure)
      : def_(std::move(def)), owner_(std::move(owner)), weak_closure_(std::move(closure)) {}

  // This macro holding its defining scope (for a value that leaves that scope), or nullptr when it
  // already does or the scope has ended.
  std::shared_ptr<const Macro> pinned() const {
    if (closure_) return nullptr;
    auto scope = weak_closure_.lock();
    if (!scope) return nullptr;
    return std::make_shared<Macro>(def_, owner_, std::move(scope));
  }

  const std::string& name() const override { return def_->name; }
  bool is_macro() const override { return true; }

  Result<Value> call(CallArgs& args, CallContext& context) const override {
    auto* r = dynamic_cast<Renderer*>(&context);
    if (!r) return Error(ErrorCode::kFailed, "macro '" + def_->name + "' called outside a render");
    if (r->depth >= r->options().max_depth) return r->error(r->pos, "maximum recursion depth exceeded");
    auto scope = std::make_shared<Scope>();
    scope->parent = closure_ ? closure_ : weak_closure_.lock();
    STRATA_TRY(bind(*r, *scope, args));
    std::shared_ptr<Scope> saved_scope = std::move(r->scope);
    r->scope = scope;
    const Template* saved_template = r->swap_template(owner_.get());
    Pos saved_pos = r->pos;
    ++r->depth;
    Exec defaults = bind_defaults(*r, *scope, args);
    std::string out;
    Exec st = defaults.ok() ? r->exec_body(def_->body, out) : defaults;
    --r->depth;
    r->pos = saved_pos;
    r->swap_template(saved_template);
    r->scope = std::move(saved_scope);
    r->loop_control = LoopControl::kNone;
    if (!st.ok()) return std::move(st).error();
    if (r->returning) {
      r->returning = false;
      return std::move(r->return_value);
    }
    return Value(std::move(out));
  }

 private:
  Exec bind(Renderer& r, Scope& scope, CallArgs& args) const {
    const auto& params = def_->params;
    ValueList extra;
    for (std::size_t i = 0; i < args.positional.size(); ++i) {
      if (i < params.size()) scope.add(HashedName(params[i].name, params[i].hash), std::move(args.positional[i]));
      else if (def_->uses_varargs) extra.push_back(std::move(args.positional[i]));
      else
        return r.error(r.pos, "macro '" + def_->name + "' takes not more than " + std::to_string(params.size()) +
                                  " argument(s)");
    }
    Dict kwargs;
    for (auto& [k, v] : args.keyword) {
      bool is_param = false;
      for (const auto& p : params) is_param = is_param || p.name == k;
      if (is_param) {
        if (scope.find(k)) return r.error(r.pos, "macro '" + def_->name + "' got multiple values for argument '" + k + "'");
        scope.add(HashedName(k), std::move(v));
      } else if (k == "caller") {
        scope.set("caller", std::move(v));
      } else if (def_->uses_kwargs) {
        kwargs.set(Value(k), std::move(v));
      } else {
        return r.error(r.pos, "macro '" + def_->name + "' takes no keyword argument '" + k + "'");
      }
    }
    scope.set("varargs", Value::tuple(std::move(extra)));
    scope.set("kwargs", Value(std::move(kwargs)));
    return done();
  }

  Exec bind_defaults(Renderer& r, Scope& scope, const CallArgs&) const {
    for (const auto& p : def_->params) {
      HashedName key(p.name, p.hash);
      if (scope.find(key)) continue;
      if (p.default_value) {
        STRATA_ASSIGN(Value v, p.default_value->eval(r));
        scope.set(key, std::move(v));
      } else {
        scope.set(key, Value::undefined("parameter '" + p.name + "' was not provided"));
      }
    }
    return done();
  }

  std::shared_ptr<const MacroDef> def_;
  std::shared_ptr<const Template> owner_;
  std::shared_ptr<Scope> closure_;
  // A macro stored in the scope it closes over refers to it weakly, or the two would keep each
  // other alive after the render (a leak per macro definition).
  std::weak_ptr<Scope> weak_closure_;
};

// The `loop` variable of a for loop.
class LoopObject final : public Object {
 public:
  LoopObject(const ValueList* items, int depth0, Renderer* r, const ForStmt* stmt)
      : items_(items), depth0_(depth0), renderer_(r), stmt_(stmt) {}

  std::string type_name() const override { return "LoopContext"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    std::int64_t n = items_ ? static_cast<std::int64_t>(items_->size()) : 0;
    if (name.size() == 4 && name == "last") return Value(index0_ == n - 1);  // the common ones first
    if (name.size() == 5 && name == "first") return Value(index0_ == 0);
    if (name == "index") return Value(index0_ + 1);
    if (name == "index0") return Value(index0_);
    if (name == "revindex") return Value(n - index0_);
    if (name == "revindex0") return Value(n - index0_ - 1);
    if (name == "first") return Value(index0_ == 0);
    if (name == "last") return Value(index0_ == n - 1);
    if (name == "length") return Value(n);
    if (name == "depth") return Value(static_cast<std::int64_t>(depth0_ + 1));
    if (name == "depth0") return Value(static_cast<std::int64_t>(depth0_));
    if (name == "previtem") {
      if (!items_ || index0_ == 0) return Value::undefined("there is no previous item");
      return (*items_)[static_cast<std::size_t>(index0_ - 1)];
    }
    if (name == "nextitem") {
      if (!items_ || index0_ + 1 >= n) return Value::undefined("there is no next item");
      return (*items_)[static_cast<std::size_t>(index0_ + 1)];
    }
    return std::nullopt;
  }
  Result<Value> call_method(std::string_view name, CallArgs& args, CallContext& context) const override {
    if (name == "cycle") {
      if (args.positional.empty()) return Error(ErrorCode::kFailed, "no items for cycling given");
      return args.positional[static_cast<std::size_t>(index0_) % args.positional.size()];
    }
    if (name == "changed") {
      Value now = Value::tuple(args.positional);
      if (has_last_ && last_changed_.equals(now)) return Value(false);
      last_changed_ = std::move(now);
      has_last_ = true;
      return Value(true);
    }
    return Object::call_method(name, args, context);
  }
  Result<Value> call(CallArgs& args, CallContext&) const override {
    if (!renderer_ || !stmt_->recursive)
      return Error(ErrorCode::kFailed, "Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
    if (args.positional.size() != 1) return Error(ErrorCode::kFailed, "loop() takes exactly one argument");
    std::string out;
    STRATA_TRY(stmt_->run(*renderer_, out, args.positional[0], depth0_ + 1));
    return Value(std::move(out));
  }
  std::string to_string() const override { return "<LoopContext " + std::to_string(index0_ + 1) + "/" +
                                                   std::to_string(items_ ? items_->size() : 0) + ">"; }

  void set_index(std::int64_t i) { index0_ = i; }
  // Called when the loop ends: the object may outlive it (e.g. stored in a namespace).
  void deactivate() {
    items_ = nullptr;
    renderer_ = nullptr;
  }

 private:
  const ValueList* items_;
  int depth0_;
  Renderer* renderer_;
  const ForStmt* stmt_;
  std::int64_t index0_ = 0;
  mutable Value last_changed_;
  mutable bool has_last_ = false;
};

class NamespaceObject final : public Object {
 public:
  std::string type_name() const override { return "Namespace"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (const Value* v = attrs_.find(name)) return *v;
    return std::nullopt;
  }
  std::optional<Value> get_item(const Value& key) const override {
    if (const Value* v = attrs_.find(key)) return *v;
    return std::nullopt;
  }
  std::string to_string() const override { return "<Namespace " + Value(attrs_).repr() + ">"; }
  Dict attrs_;
};

Exec bind_target(Renderer& r, Scope& scope, const Target& t, const Value& v) {
  if (!t.is_tuple) {
    if (t.attr.empty()) {
      scope.set(HashedName(t.name, t.hash), v);
      return done();
    }
    Value ns = r.lookup(t.name);
    auto* obj = ns.is_object() ? dynamic_cast<NamespaceObject*>(ns.as_object().get()) : nullptr;
    if (!obj) return r.error(t.pos, "cannot assign attribute on non-namespace object");
    obj->attrs_.set(Value(t.attr), v);
    return done();
  }
  STRATA_ASSIGN(ValueList items, r.iterate(v, t.pos));
  if (items.size() > t.items.size())
    return r.error(t.pos, "too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
  if (items.size() < t.items.size())
    return r.error(t.pos, "not enough values to unpack (expected " + std::to_string(t.items.size()) + ", got " +
                              std::to_string(items.size()) + ")");
  for (std::size_t i = 0; i < items.size(); ++i) STRATA_TRY(bind_target(r, scope, t.items[i], items[i]));
  return done();
}

Result<Value> apply_filters(Renderer& r, const std::vector<std::unique_ptr<FilterExpr>>& filters, Value v) {
  for (const auto& f : filters) {
    STRATA_ASSIGN(v, f->apply(r, v));
  }
  return v;
}

}  // namespace

Value make_macro(std::shared_ptr<const MacroDef> def, std::shared_ptr<const Template> owner,
                 std::shared_ptr<Scope> closure) {
  return Value::callable(std::make_shared<Macro>(std::move(def), std::move(owner), std::move(closure)));
}

Value pin_macro(const Value& value) {
  if (!value.is_callable()) return value;
  const auto* macro = dynamic_cast<const Macro*>(value.as_callable().get());
  if (!macro) return value;
  auto pinned = macro->pinned();
  return pinned ? Value::callable(std::move(pinned)) : value;
}

Value make_namespace(const CallArgs& args) {
  auto ns = std::make_shared<NamespaceObject>();
  for (const auto& v : args.positional)
    if (v.is_dict())
      for (const auto& [k, val] : v.as_dict().entries()) ns->attrs_.set(k, val);
  for (const auto& [k, v] : args.keyword) ns->attrs_.set(Value(k), v);
  return Value::object(std::move(ns));
}

Exec Renderer::exec_body(const Body& body, std::string& out) {
  if (!body.empty() && stack_exceeded()) return stack_error(body.front()->pos);
  for (const auto& s : body) {
    STRATA_TRY(s->exec(*this, out));
    if (loop_control != LoopControl::kNone || returning) break;
  }
  return done();
}

Exec TextStmt::exec(Renderer&, std::string& out) const {
  out += text;
  return done();
}

Exec OutputStmt::exec(Renderer& r, std::string& out) const {
  Value scratch;
  const Value* v = expr->try_ref(r, scratch);
  if (!v) {
    STRATA_ASSIGN(v, expr->eval_ref(r, scratch));
  }
  if (v->is_undefined() && r.strict()) return r.undefined_error(*v, expr->pos);
  v->append_to(out);
  return done();
}

Exec IfStmt::exec(Renderer& r, std::string& out) const {
  for (const auto& [cond, body] : branches) {
    int t = cond->try_truthy(r);
    if (t >= 0) {
      if (t) return r.exec_body(body, out);
      continue;
    }
    Value scratch;
    STRATA_ASSIGN(const Value* v, cond->eval_ref(r, scratch));
    STRATA_TRY(r.check_defined(*v, cond->pos));
    if (v->truthy()) return r.exec_body(body, out);
  }
  return r.exec_body(else_body, out);
}

Exec ForStmt::exec(Renderer& r, std::string& out) const {
  STRATA_ASSIGN(Value iterable, iter->eval(r));
  return run(r, out, iterable, 0);
}

Exec ForStmt::run(Renderer& r, std::string& out, const Value& iterable, int depth0) const {
  if (depth0 >= r.options().max_depth) return r.error(pos, "maximum recursion depth exceeded");
  STRATA_ASSIGN(ValueList items, r.iterate(iterable, iter->pos));
  auto loop_scope = std::make_shared<Scope>();
  loop_scope->vars.reserve(4);
  loop_scope->parent = r.scope;
  if (filter) {
    ValueList kept;
    for (auto& item : items) {
      loop_scope->vars.clear();
      STRATA_TRY(bind_target(r, *loop_scope, target, item));
      std::shared_ptr<Scope> saved = std::move(r.scope);
      r.scope = loop_scope;
      auto cond = filter->eval(r);
      r.scope = std::move(saved);
      if (!cond.ok()) return std::move(cond).error();
      if (cond->truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    auto else_scope = std::make_shared<Scope>();
    else_scope->parent = r.scope;
    std::shared_ptr<Scope> saved = std::move(r.scope);
    r.scope = else_scope;
    Exec st = r.exec_body(else_body, out);
    r.scope = std::move(saved);
    return st;
  }
  auto loop = std::make_shared<LoopObject>(&items, depth0, &r, this);
  Renderer::LoopCounters saved_loop = r.innermost_loop;
  r.innermost_loop = {loop.get(), 0, static_cast<std::int64_t>(items.size())};
  Value loop_value = Value::object(loop);
  std::shared_ptr<Scope> saved = std::move(r.scope);
  r.scope = loop_scope;
  Exec st = done();
  static const HashedName kLoop("loop");
  // Each iteration starts with only `loop` and the target bound; for a plain name target the
  // two variables are kept and reassigned (same bindings as clearing the scope, no allocation).
  bool plain = !target.is_tuple && target.attr.empty() && target.name != "loop";
  for (std::size_t i = 0; i < items.size(); ++i) {
    loop->set_index(static_cast<std::int64_t>(i));
    r.innermost_loop.index0 = static_cast<std::int64_t>(i);
    if (plain && loop_scope->vars.size() >= 2) {
      loop_scope->vars.resize(2);
      Value& lv = loop_scope->vars[0].value;
      if (!lv.is_object() || &lv.object_ref() != loop.get()) lv = loop_value;
      loop_scope->vars[1].value = items[i];
      st = done();
    } else {
      loop_scope->vars.clear();
      loop_scope->add(kLoop, loop_value);
      st = bind_target(r, *loop_scope, target, items[i]);
    }
    if (!st.ok()) break;
    st = r.exec_body(body, out);
    if (!st.ok() || r.returning) break;
    if (r.loop_control == LoopControl::kBreak) {
      r.loop_control = LoopControl::kNone;
      break;
    }
    r.loop_control = LoopControl::kNone;
  }
  loop->deactivate();
  r.innermost_loop = saved_loop;
  r.scope = std::move(saved);
  return st;
}

Exec SetStmt::exec(Renderer& r, std::string&) const {
  STRATA_ASSIGN(Value v, value->eval(r));
  return bind_target(r, *r.scope, target, v);
}

Exec SetBlockStmt::exec(Renderer& r, std::string&) const {
  std::string captured;
  STRATA_TRY(r.exec_body(body, captured));
  STRATA_ASSIGN(Value v, apply_filters(r, filters, Value(std::move(captured))));
  return bind_target(r, *r.scope, target, v);
}

Exec MacroStmt::exec(Renderer& r, std::string&) const {
  r.scope->set(def->name, Value::callable(std::make_shared<Macro>(def, r.current_template().shared_from_this(),
                                                                  std::weak_ptr<Scope>(r.scope))));
  return done();
}

Exec CallBlockStmt::exec(Renderer& r, std::string& out) const {
  Value caller_macro = make_macro(caller, r.current_template().shared_from_this(), r.scope);
  Value fn;
  if (const auto* attr = dynamic_cast<const GetAttr*>(call->callee.get())) {
    STRATA_ASSIGN(Value obj, attr->object->eval(r));
    if (obj.is_undefined()) return r.undefined_error(obj, attr->pos);
    fn = r.get_attr(obj, attr->name);
  } else {
    STRATA_ASSIGN(fn, call->callee->eval(r));
  }
  PooledArgs args(r);
  STRATA_TRY(r.eval_args(call->args, *args));
  args->keyword.emplace_back("caller", std::move(caller_macro));
  STRATA_ASSIGN(Value v, r.call_value(fn, *args, call->pos));
  v.append_to(out);
  return done();
}

Exec DoStmt::exec(Renderer& r, std::string&) const {
  STRATA_ASSIGN(Value v, expr->eval(r));
  (void)v;
  return done();
}

Exec FilterBlockStmt::exec(Renderer& r, std::string& out) const {
  std::string captured;
  STRATA_TRY(r.exec_body(body, captured));
  STRATA_ASSIGN(Value v, apply_filters(r, filters, Value(std::move(captured))));
  v.append_to(out);
  return done();
}

Exec WithStmt::exec(Renderer& r, std::string& out) const {
  auto scope = std::make_shared<Scope>();
  scope->parent = r.scope;
  for (const auto& [target, expr] : assignments) {
    STRATA_ASSIGN(Value v, expr->eval(r));
    STRATA_TRY(bind_target(r, *scope, target, v));
  }
  std::shared_ptr<Scope> saved = std::move(r.scope);
  r.scope = scope;
  Exec st = r.exec_body(body, out);
  r.scope = std::move(saved);
  return st;
}

Exec IncludeStmt::exec(Renderer& r, std::string& out) const {
  STRATA_ASSIGN(Value n, name->eval(r));
  auto tmpl = r.load(n, pos);
  if (!tmpl.ok()) {
    if (ignore_missing && tmpl.error().code() == ErrorCode::kNotFound) return done();
    return std::move(tmpl).error();
  }
  return r.run_included(**tmpl, with_context, out, pos);
}

Exec ImportStmt::exec(Renderer& r, std::string&) const {
  STRATA_ASSIGN(Value n, name->eval(r));
  STRATA_ASSIGN(auto tmpl, r.load(n, pos));
  STRATA_ASSIGN(Module module, r.run_module(*tmpl, with_context, pos));
  if (!alias.empty()) {
    r.scope->set(alias, module.as_value());
    return done();
  }
  for (const auto& [from, to] : names) {
    const Value* v = module.exports.find(std::string_view(from));
    if (!v)
      return r.error(pos, "the template '" + tmpl->name() + "' (imported on line " + std::to_string(pos.line) +
                              ") does not export the requested name '" + from + "'");
    r.scope->set(to, *v);
  }
  return done();
}

Exec LoopControlStmt::exec(Renderer& r, std::string&) const {
  r.loop_control = kind;
  return done();
}

Exec BlockStmt::exec(Renderer& r, std::string& out) const { return r.exec_body(body, out); }

Exec CustomBodyStmt::exec(Renderer& r, std::string& out) const {
  const CustomBlock& block = r.current_template().custom_blocks()[index];
  auto it = r.state().tags.find(block.header.tag);
  if (it == r.state().tags.end() || !it->second.on_render) return done();
  Pos saved = r.pos;
  r.pos = pos;
  auto text = it->second.on_render(block, r);
  r.pos = saved;
  if (!text.ok()) return r.locate(std::move(text).error(), pos);
  out += *text;
  return done();
}

}  // namespace strata::jinja::detail
