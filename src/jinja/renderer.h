#pragma once
// Renderer: the mutable state of one render (scopes, loop control, return values, recursion
// depth) and the Python value semantics shared by the evaluator, filters and methods. Internal.
// Not thread-safe: one Renderer per render (per thread).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jinja/ast.h"
#include "jinja/env_state.h"
#include "jinja/template.h"

namespace strata::jinja::detail {

// A variable scope; macros keep the scope they were defined in (closures), hence shared.
// Names carry their hash so lookups compare hashes before strings.
struct Scope {
  struct Var {
    std::string name;
    std::size_t hash;
    Value value;
  };
  std::vector<Var> vars;
  std::shared_ptr<Scope> parent;

  Value* find(const HashedName& name) {
    for (auto& v : vars)
      if (v.hash == name.hash && same_chars(v.name, name.name)) return &v.value;
    return nullptr;
  }
  Value* find(std::string_view name) { return find(HashedName(name)); }
  void set(const HashedName& name, Value value) {
    if (Value* v = find(name)) {
      *v = std::move(value);
      return;
    }
    add(name, std::move(value));
  }
  void set(std::string_view name, Value value) { set(HashedName(name), std::move(value)); }
  // Appends without looking for an existing variable of that name.
  void add(const HashedName& name, Value value) { vars.push_back(Var{std::string(name.name), name.hash, std::move(value)}); }
};

class Renderer final : public CallContext {
 public:
  Renderer(const Environment& env, const Context& context, const Template& tmpl);

  // ---- CallContext
  Value lookup(std::string_view name) const override;
  // The variable (scopes, context, globals) or nullptr; valid until the scope changes.
  const Value* find(std::string_view name) const { return find(HashedName(name)); }
  const Value* find(const HashedName& name) const;
  Result<Value> call(const Value& callee, CallArgs args) override;
  const Environment& environment() const override { return env_; }
  SourceLocation location() const override;
  void* user_data() const override { return context_->user_data; }

  const EnvironmentState& state() const { return *state_; }
  const Options& options() const { return state_->options; }
  bool strict() const { return state_->options.undefined == UndefinedMode::kStrict; }
  const Template& current_template() const { return *template_; }

  // An error at `pos` of the current template, in ErrorCode::kFailed.
  Error error(Pos pos, std::string message) const;
  // Adds the current template and `pos` to an error that has no location yet.
  Error locate(Error e, Pos pos) const;
  // Strict mode: an error for using an undefined value; lenient: ok.
  Exec check_defined(const Value& v, Pos pos) const;
  // The error for using an undefined value regardless of mode (attribute of undefined, call...).
  Error undefined_error(const Value& v, Pos pos) const;

  // Runs statements, stopping early on break/continue/return.
  Exec exec_body(const Body& body, std::string& out);
  // Calls a value with evaluated arguments at `pos`.
  Result<Value> call_value(const Value& callee, CallArgs& args, Pos pos);
  // Evaluates call arguments (positional, *args, keyword, **kwargs), appending to `out`.
  Exec eval_args(const Args& args, CallArgs& out);
  // Empty CallArgs reused between calls (their vectors keep their capacity), taken and given
  // back in LIFO order; see PooledArgs.
  CallArgs& acquire_args() {
    if (args_used_ == args_stack_.size()) args_stack_.push_back(std::make_unique<CallArgs>());
    return *args_stack_[args_used_++];
  }
  void release_args() {
    CallArgs& a = *args_stack_[--args_used_];
    a.positional.clear();
    a.keyword.clear();
  }
  // Items of an iterable value (for loops, filters); strings iterate by code point.
  Result<ValueList> iterate(const Value& v, Pos pos) const;
  // `obj.name` / `obj[key]` with Jinja2's rules; undefined (with hint) when absent.
  Value get_attr(const Value& obj, std::string_view name) const;
  Value get_item(const Value& obj, const Value& key) const;
  // Loads a template through the environment's loader.
  Result<std::shared_ptr<const Template>> load(const Value& name, Pos pos) const;
  // Runs a template as a module (import): its exports, output discarded.
  Result<Module> run_module(const Template& tmpl, bool with_context, Pos pos);
  // Renders another template's body in place (include), sharing or not the current scopes.
  Exec run_included(const Template& tmpl, bool with_context, std::string& out, Pos pos);

  // Scope management.
  std::shared_ptr<Scope> scope;
  // The innermost running for loop: its `loop` object and counters, so `loop.index`, `loop.last`...
  // are read without calling the object (set and restored by ForStmt).
  struct LoopCounters {
    const Object* object = nullptr;
    std::int64_t index0 = 0;
    std::int64_t length = 0;
  } innermost_loop;
  // Loop control and macro return state.
  LoopControl loop_control = LoopControl::kNone;
  bool returning = false;
  Value return_value;
  // Current position (for CallContext::location) and recursion depth.
  Pos pos;
  int depth = 0;

  // An error once the render has used more than kStackLimit bytes of stack (deeply nested
  // expressions inside recursive macros...), so no input can overflow the thread's stack.
  bool stack_exceeded() const {
    return stack_base_ - static_cast<const char*>(__builtin_frame_address(0)) > kStackLimit;
  }
  Error stack_error(Pos at) const { return error(at, "template too deeply nested (stack limit reached)"); }
  // Sub-renders (include without context, import) share the stack budget of their parent.
  void inherit_stack(const Renderer& parent) { stack_base_ = parent.stack_base_; }
  static constexpr std::ptrdiff_t kStackLimit = 1 << 20;

  // Switches the current template for the duration of a macro call or include.
  const Template* swap_template(const Template* t) {
    const Template* old = template_;
    template_ = t;
    return old;
  }

 private:
  std::vector<std::unique_ptr<CallArgs>> args_stack_;
  std::size_t args_used_ = 0;
  const Environment& env_;
  const EnvironmentState* state_;
  const Context* context_;
  const Template* template_;
  const char* stack_base_;
};

// CallArgs borrowed from a Renderer's pool for one call, given back (emptied) when it ends.
class PooledArgs {
 public:
  explicit PooledArgs(Renderer& r) : r_(r), args_(r.acquire_args()) {}
  ~PooledArgs() { r_.release_args(); }
  PooledArgs(const PooledArgs&) = delete;
  PooledArgs& operator=(const PooledArgs&) = delete;
  CallArgs& operator*() { return args_; }
  CallArgs* operator->() { return &args_; }

 private:
  Renderer& r_;
  CallArgs& args_;
};

// ---- Python semantics (eval_ops.cpp)
Result<Value> binary_op(Renderer& r, BinOp op, const Value& a, const Value& b, Pos pos);
Result<bool> compare_op(Renderer& r, CmpOp op, const Value& a, const Value& b, Pos pos);
// Total order used by sort/min/max/dictsort: -1, 0, 1; an error for unorderable types.
Result<int> compare_values(const Value& a, const Value& b, bool case_sensitive);
// Python's type name without " object": "int", "str", "NoneType".
std::string short_type_name(const Value& v);
// `value in container`.
Result<bool> contains(const Value& container, const Value& item);

// ---- Python methods of str/list/dict (methods.cpp). Sets found=false when no such method.
Result<Value> call_builtin_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args, bool& found);
bool has_builtin_method(const Value& obj, std::string_view name);
inline bool has_method_kind(std::uint16_t kinds, const Value& obj) {
  return (kinds >> static_cast<unsigned>(obj.kind())) & 1u;
}

// ---- A macro as a callable value (eval_stmt.cpp).
Value make_macro(std::shared_ptr<const MacroDef> def, std::shared_ptr<const Template> owner,
                 std::shared_ptr<Scope> closure);
// A macro defined with `{% macro %}` refers weakly to the scope it is stored in; a copy that leaves
// that scope (a module's exports) must hold it. Returns other values unchanged.
Value pin_macro(const Value& value);

}  // namespace strata::jinja::detail
