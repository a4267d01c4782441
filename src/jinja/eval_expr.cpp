// Expression evaluation and the Renderer's lookups.
#include <cmath>
#include <limits>

#include "jinja/format.h"
#include "jinja/renderer.h"

namespace strata::jinja::detail {
namespace {

// `"abc".upper` without a call: the method bound to its object.
class BoundMethod final : public Callable {
 public:
  BoundMethod(Value obj, std::string name) : obj_(std::move(obj)), name_(std::move(name)) {}
  Result<Value> call(CallArgs& args, CallContext& context) const override {
    auto* r = dynamic_cast<Renderer*>(&context);
    if (!r) return Error(ErrorCode::kFailed, "method " + name_ + " called outside a render");
    bool found = true;
    return call_builtin_method(*r, obj_, name_, args, found);
  }
  const std::string& name() const override { return name_; }

 private:
  Value obj_;
  std::string name_;
};

Value attr_undefined(const Value& obj, std::string_view name) {
  if (obj.is_none()) return Value::undefined("'None' has no attribute '" + std::string(name) + "'");
  return Value::undefined("'" + obj.type_name() + "' has no attribute '" + std::string(name) + "'");
}

// Splits a UTF-8 string into code points.
ValueList utf8_chars(const std::string& s) {
  ValueList out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i + 1;
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_ascii(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

Renderer::Renderer(const Environment& env, const Context& context, const Template& tmpl)
    : scope(std::make_shared<Scope>()), env_(env), state_(env.state().get()), context_(&context), template_(&tmpl) {
  stack_base_ = static_cast<const char*>(__builtin_frame_address(0));
}

const Value* Renderer::find(const HashedName& name) const {
  for (Scope* s = scope.get(); s; s = s->parent.get())
    if (Value* v = s->find(name)) return v;
  if (const Value* v = context_->find(name)) return v;
  auto it = state_->globals.find(name);
  if (it != state_->globals.end()) return &it->second;
  return nullptr;
}

Value Renderer::lookup(std::string_view name) const {
  if (const Value* v = find(name)) return *v;
  return Value::undefined("'" + std::string(name) + "' is undefined");
}

Result<Value> Renderer::call(const Value& callee, CallArgs args) { return call_value(callee, args, pos); }

SourceLocation Renderer::location() const { return SourceLocation{template_->name(), pos.line, pos.column}; }

Error Renderer::error(Pos at, std::string message) const {
  return Error(ErrorCode::kFailed, std::move(message), SourceLocation{template_->name(), at.line, at.column});
}

Error Renderer::locate(Error e, Pos at) const {
  if (e.where().empty()) e.at(SourceLocation{template_->name(), at.line, at.column});
  return e;
}

Error Renderer::undefined_error(const Value& v, Pos at) const {
  const std::string& hint = v.undefined_hint();
  return error(at, hint.empty() ? "undefined value" : hint);
}

Exec Renderer::check_defined(const Value& v, Pos at) const {
  if (v.is_undefined() && strict()) return undefined_error(v, at);
  return done();
}

Result<Value> Renderer::call_value(const Value& callee, CallArgs& args, Pos at) {
  if (stack_exceeded()) return stack_error(at);
  Pos saved = pos;
  pos = at;
  Result<Value> result = Value();
  switch (callee.kind()) {
    case Kind::kCallable: result = callee.callable_ref().call(args, *this); break;
    case Kind::kObject: result = callee.object_ref().call(args, *this); break;
    case Kind::kUndefined: result = undefined_error(callee, at); break;
    default: result = error(at, "'" + callee.type_name() + "' is not callable");
  }
  pos = saved;
  if (!result.ok()) return locate(std::move(result).error(), at);
  return result;
}

Exec Renderer::eval_args(const Args& args, CallArgs& out) {
  out.positional.reserve(args.positional.size());
  Value scratch;
  for (const auto& e : args.positional) {
    const Value* v = e->try_ref(*this, scratch);
    if (!v) {
      STRATA_ASSIGN(v, e->eval_ref(*this, scratch));
    }
    if (v == &scratch) out.positional.push_back(std::move(scratch));
    else out.positional.push_back(*v);
  }
  if (args.star) {
    STRATA_ASSIGN(Value v, args.star->eval(*this));
    STRATA_ASSIGN(ValueList items, iterate(v, args.star->pos));
    for (auto& item : items) out.positional.push_back(std::move(item));
  }
  for (const auto& [k, e] : args.keyword) {
    STRATA_ASSIGN(Value v, e->eval(*this));
    out.keyword.emplace_back(k, std::move(v));
  }
  if (args.double_star) {
    STRATA_ASSIGN(Value v, args.double_star->eval(*this));
    if (!v.is_dict()) return error(args.double_star->pos, "argument after ** must be a mapping, not " + short_type_name(v));
    for (const auto& [k, val] : v.as_dict().entries()) {
      if (!k.is_string()) return error(args.double_star->pos, "keywords must be strings");
      out.keyword.emplace_back(k.as_string(), val);
    }
  }
  return done();
}

Result<ValueList> Renderer::iterate(const Value& v, Pos at) const {
  switch (v.kind()) {
    case Kind::kList:
    case Kind::kTuple: return v.as_list();
    case Kind::kDict: {
      ValueList keys;
      keys.reserve(v.as_dict().size());
      for (const auto& [k, val] : v.as_dict().entries()) keys.push_back(k);
      return keys;
    }
    case Kind::kString: return utf8_chars(v.as_string());
    case Kind::kUndefined:
      if (strict()) return undefined_error(v, at);
      return ValueList{};
    case Kind::kObject: {
      auto items = v.as_object()->iterate();
      if (!items) return error(at, "'" + v.type_name() + "' is not iterable");
      return std::move(*items);
    }
    default: return error(at, "'" + short_type_name(v) + "' object is not iterable");
  }
}

Value Renderer::get_attr(const Value& obj, std::string_view name) const {
  switch (obj.kind()) {
    case Kind::kDict: {  // as Python's getattr: the dict's methods first, then its items
      if (has_builtin_method(obj, name)) break;
      if (const Value* v = obj.as_dict().find(name)) return *v;
      break;
    }
    case Kind::kObject: {
      auto v = obj.object_ref().get_attr(name);
      if (v) return std::move(*v);
      return attr_undefined(obj, name);
    }
    default: break;
  }
  if (has_builtin_method(obj, name)) return Value::callable(std::make_shared<BoundMethod>(obj, std::string(name)));
  return attr_undefined(obj, name);
}

Value Renderer::get_item(const Value& obj, const Value& key) const {
  switch (obj.kind()) {
    case Kind::kDict: {
      if (key.hashable())
        if (const Value* v = obj.as_dict().find(key)) return *v;
      break;
    }
    case Kind::kList:
    case Kind::kTuple:
    case Kind::kString: {
      if (!(key.is_int() || key.is_bool())) break;
      std::int64_t i = key.as_int();
      if (obj.is_string()) {
        const std::string& s = obj.as_string();
        if (is_ascii(s)) {
          std::int64_t n = static_cast<std::int64_t>(s.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return Value(std::string(1, s[static_cast<std::size_t>(i)]));
        } else {
          ValueList chars = utf8_chars(s);
          std::int64_t n = static_cast<std::int64_t>(chars.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return chars[static_cast<std::size_t>(i)];
        }
        break;
      }
      const ValueList& items = obj.as_list();
      std::int64_t n = static_cast<std::int64_t>(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[static_cast<std::size_t>(i)];
      break;
    }
    case Kind::kObject: {
      auto v = obj.as_object()->get_item(key);
      if (v) return std::move(*v);
      if (key.is_string()) return get_attr(obj, key.as_string());
      break;
    }
    default: break;
  }
  if (key.is_string()) return get_attr(obj, key.as_string());
  return Value::undefined("'" + obj.type_name() + "' has no attribute " + key.repr());
}

// ---- expressions

Result<const Value*> Expr::eval_ref(Renderer& r, Value& scratch) const {
  STRATA_ASSIGN(scratch, eval(r));
  return &scratch;
}

Result<Value> Literal::eval(Renderer&) const { return value; }

int Expr::try_truthy(Renderer& r) const {
  Value scratch;
  const Value* v = try_ref(r, scratch);
  if (!v || (v->is_undefined() && r.strict())) return -1;
  return v->truthy() ? 1 : 0;
}

Result<Value> Name::eval(Renderer& r) const {
  if (const Value* v = r.find(key())) return *v;
  return undefined_value;
}

Result<const Value*> Name::eval_ref(Renderer& r, Value&) const {
  if (const Value* v = r.find(key())) return v;
  return &undefined_value;
}

const Value* Name::try_ref(Renderer& r, Value&) const {
  if (slot_hint >= 0) {
    // The innermost scope holds each name once; a match there is what find() would return.
    auto& vars = r.scope->vars;
    auto slot = static_cast<std::size_t>(slot_hint);
    if (slot < vars.size() && vars[slot].hash == hash && same_chars(vars[slot].name, name)) return &vars[slot].value;
  }
  if (const Value* v = r.find(key())) return v;
  return &undefined_value;
}

Result<Value> ListExpr::eval(Renderer& r) const {
  ValueList values;
  values.reserve(items.size());
  for (const auto& e : items) {
    STRATA_ASSIGN(Value v, e->eval(r));
    values.push_back(std::move(v));
  }
  return tuple ? Value::tuple(std::move(values)) : Value(std::move(values));
}

Result<Value> DictExpr::eval(Renderer& r) const {
  Dict d;
  for (const auto& [ke, ve] : items) {
    STRATA_ASSIGN(Value k, ke->eval(r));
    if (!k.hashable()) return r.error(ke->pos, "unhashable type: '" + short_type_name(k) + "'");
    STRATA_ASSIGN(Value v, ve->eval(r));
    d.set(std::move(k), std::move(v));
  }
  return Value(std::move(d));
}

int Unary::try_truthy(Renderer& r) const {
  if (op != UnaryOp::kNot) return Expr::try_truthy(r);
  int t = operand->try_truthy(r);
  return t < 0 ? t : 1 - t;
}

Result<Value> Unary::eval(Renderer& r) const {
  if (r.stack_exceeded()) return r.stack_error(pos);
  if (op == UnaryOp::kNot) {
    Value scratch;
    STRATA_ASSIGN(const Value* ref, operand->eval_ref(r, scratch));
    STRATA_TRY(r.check_defined(*ref, pos));
    return Value(!ref->truthy());
  }
  STRATA_ASSIGN(Value v, operand->eval(r));
  if (v.is_undefined()) return r.undefined_error(v, pos);
  if (v.is_float()) return Value(op == UnaryOp::kNeg ? -v.as_float() : v.as_float());
  if (v.is_int() || v.is_bool()) {
    std::int64_t i = v.as_int();
    if (op == UnaryOp::kPos) return Value(i);
    if (i == std::numeric_limits<std::int64_t>::min()) return r.error(pos, "integer overflow");
    return Value(-i);
  }
  return r.error(pos, std::string("bad operand type for unary ") + (op == UnaryOp::kNeg ? "-" : "+") + ": '" +
                          short_type_name(v) + "'");
}

Result<Value> Binary::eval(Renderer& r) const {
  if (r.stack_exceeded()) return r.stack_error(pos);
  STRATA_ASSIGN(Value a, left->eval(r));
  if (op == BinOp::kAnd || op == BinOp::kOr) {
    STRATA_TRY(r.check_defined(a, pos));
    bool t = a.truthy();
    if ((op == BinOp::kAnd) ? !t : t) return a;
    return right->eval(r);
  }
  STRATA_ASSIGN(Value b, right->eval(r));
  return binary_op(r, op, a, b, pos);
}

Result<Value> Compare::eval(Renderer& r) const {
  STRATA_ASSIGN(Value a, first->eval(r));
  for (const auto& [op, e] : rest) {
    STRATA_ASSIGN(Value b, e->eval(r));
    STRATA_ASSIGN(bool ok, compare_op(r, op, a, b, e->pos));
    if (!ok) return Value(false);
    a = std::move(b);
  }
  return Value(true);
}

Result<Value> CondExpr::eval(Renderer& r) const {
  STRATA_ASSIGN(Value t, test->eval(r));
  STRATA_TRY(r.check_defined(t, pos));
  if (t.truthy()) return yes->eval(r);
  if (no) return no->eval(r);
  return Value::undefined("the inline if-expression on line " + std::to_string(pos.line) +
                          " evaluated to false and no else section was defined.");
}

Result<Value> GetAttr::eval(Renderer& r) const {
  Value scratch;
  STRATA_ASSIGN(const Value* v, eval_ref(r, scratch));
  if (v == &scratch) return scratch;
  return *v;
}

Result<const Value*> GetAttr::eval_ref(Renderer& r, Value& scratch) const {
  if (r.stack_exceeded()) return r.stack_error(pos);
  Value holder;  // keeps the object alive when it is a temporary
  STRATA_ASSIGN(const Value* obj, object->eval_ref(r, holder));
  if (obj->is_undefined()) return r.undefined_error(*obj, pos);
  if (obj->is_dict() && !has_method_kind(method_kinds, *obj)) {
    if (const Value* v = obj->as_dict().find(key())) {
      if (obj != &holder) return v;
      scratch = *v;
      return &scratch;
    }
    return &dict_missing;
  }
  scratch = r.get_attr(*obj, name);
  return &scratch;
}

const Value* GetAttr::try_ref(Renderer& r, Value& scratch) const {
  Value holder;
  const Value* obj = object->try_ref(r, holder);
  if (!obj) return nullptr;
  if (obj->is_dict()) {
    if (has_method_kind(method_kinds, *obj)) return nullptr;  // `d.items`: the method (full path)
    if (const Value* v = obj->as_dict().find(key())) {
      if (obj != &holder) return v;
      scratch = *v;
      return &scratch;
    }
    return &dict_missing;
  }
  if (obj->is_object()) {
    const auto& loop = r.innermost_loop;
    if (loop_attr != LoopAttr::kNone && &obj->object_ref() == loop.object) {
      switch (loop_attr) {
        case LoopAttr::kIndex: scratch = Value(loop.index0 + 1); break;
        case LoopAttr::kIndex0: scratch = Value(loop.index0); break;
        case LoopAttr::kRevindex: scratch = Value(loop.length - loop.index0); break;
        case LoopAttr::kRevindex0: scratch = Value(loop.length - loop.index0 - 1); break;
        case LoopAttr::kFirst: scratch = Value(loop.index0 == 0); break;
        case LoopAttr::kLast: scratch = Value(loop.index0 == loop.length - 1); break;
        case LoopAttr::kLength: scratch = Value(loop.length); break;
        case LoopAttr::kNone: break;
      }
      return &scratch;
    }
    auto v = obj->object_ref().get_attr(name);
    if (!v) return nullptr;
    scratch = std::move(*v);
    return &scratch;
  }
  return nullptr;
}

Result<Value> SliceExpr::eval(Renderer& r) const { return r.error(pos, "slice outside of a subscript"); }

namespace {

Result<std::optional<std::int64_t>> slice_bound(Renderer& r, const ExprPtr& e) {
  if (!e) return std::optional<std::int64_t>();
  STRATA_ASSIGN(Value v, e->eval(r));
  if (v.is_none() || v.is_undefined()) return std::optional<std::int64_t>();
  if (!v.is_int() && !v.is_bool())
    return r.error(e->pos, "slice indices must be integers or None or have an __index__ method");
  return std::optional<std::int64_t>(v.as_int());
}

}  // namespace

Result<Value> GetItem::eval(Renderer& r) const {
  if (r.stack_exceeded()) return r.stack_error(pos);
  STRATA_ASSIGN(Value obj, object->eval(r));
  if (obj.is_undefined()) return r.undefined_error(obj, pos);
  const auto* slice = dynamic_cast<const SliceExpr*>(key.get());
  if (!slice) {
    STRATA_ASSIGN(Value k, key->eval(r));
    return r.get_item(obj, k);
  }
  STRATA_ASSIGN(auto start, slice_bound(r, slice->start));
  STRATA_ASSIGN(auto stop, slice_bound(r, slice->stop));
  STRATA_ASSIGN(auto step_opt, slice_bound(r, slice->step));
  std::int64_t step = step_opt.value_or(1);
  if (step == 0) return r.error(pos, "slice step cannot be zero");
  ValueList items;
  bool is_str = obj.is_string();
  if (is_str) items = utf8_chars(obj.as_string());
  else if (obj.is_sequence()) items = obj.as_list();
  else return r.undefined_error(Value::undefined("'" + obj.type_name() + "' object is not subscriptable"), pos);
  std::int64_t n = static_cast<std::int64_t>(items.size());
  auto clamp = [&](std::optional<std::int64_t> b, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
    if (!b) return fallback;
    std::int64_t v = *b;
    if (v < 0) v += n;
    return std::max(lo, std::min(v, hi));
  };
  std::int64_t s, e;
  if (step > 0) {
    s = clamp(start, 0, 0, n);
    e = clamp(stop, n, 0, n);
  } else {
    s = clamp(start, n - 1, -1, n - 1);
    e = clamp(stop, -1, -1, n - 1);
  }
  ValueList out;
  for (std::int64_t i = s; step > 0 ? i < e : i > e;) {
    out.push_back(items[static_cast<std::size_t>(i)]);
    if (__builtin_add_overflow(i, step, &i)) break;
  }
  if (is_str) {
    std::string joined;
    for (const auto& c : out) joined += c.as_string();
    return Value(std::move(joined));
  }
  return obj.is_tuple() ? Value::tuple(std::move(out)) : Value(std::move(out));
}

Result<Value> Call::eval(Renderer& r) const {
  PooledArgs args(r);
  if (const GetAttr* attr = method) {
    STRATA_ASSIGN(Value obj, attr->object->eval(r));
    if (obj.is_undefined()) return r.undefined_error(obj, attr->object->pos);
    bool is_method = has_method_kind(attr->method_kinds, obj);  // methods win over dict keys
    const Value* member = obj.is_dict() && !is_method ? obj.as_dict().find(attr->key()) : nullptr;
    if (obj.is_object() || is_method) {
      STRATA_TRY(r.eval_args(this->args, *args));
      Pos saved = r.pos;
      r.pos = pos;
      bool found = true;
      auto result = obj.is_object() ? obj.object_ref().call_method(attr->name, *args, r)
                                    : call_builtin_method(r, obj, attr->name, *args, found);
      r.pos = saved;
      if (!result.ok()) return r.locate(std::move(result).error(), pos);
      return result;
    }
    Value fn = member ? *member : r.get_attr(obj, attr->name);
    STRATA_TRY(r.eval_args(this->args, *args));
    return r.call_value(fn, *args, pos);
  }
  // A variable's value stays in place while the arguments are evaluated and the call runs
  // (expressions never assign variables), so the callee is used by reference.
  Value scratch;
  const Value* fn = callee->try_ref(r, scratch);
  if (!fn) {
    STRATA_ASSIGN(fn, callee->eval_ref(r, scratch));
  }
  if (fn != &scratch && !callee->pure()) {
    scratch = *fn;
    fn = &scratch;
  }
  STRATA_TRY(r.eval_args(this->args, *args));
  return r.call_value(*fn, *args, pos);
}

Result<Value> FilterExpr::eval(Renderer& r) const {
  if (r.stack_exceeded()) return r.stack_error(pos);
  Value scratch;
  if (inline_default) {
    Value result_scratch;
    if (const Value* v = try_ref(r, result_scratch)) return *v;
  }
  if (!args_pure) {  // the arguments may run code that changes the container the input lives in
    STRATA_ASSIGN(scratch, input->eval(r));
    return apply(r, scratch);
  }
  const Value* v = input->try_ref(r, scratch);
  if (!v) {
    STRATA_ASSIGN(v, input->eval_ref(r, scratch));
  }
  return apply(r, *v);
}

const Value* FilterExpr::try_ref(Renderer& r, Value& scratch) const {
  if (!inline_default) return nullptr;
  // `x | default(y)`: both evaluated (as Jinja2 does), neither can fail or run code; no call.
  static const Value kEmpty{std::string()};
  Value input_scratch;
  const Value* v = input->try_ref(r, input_scratch);
  if (!v) return nullptr;
  const Value* fallback = args.positional.empty() ? &kEmpty : args.positional[0]->try_ref(r, scratch);
  if (!fallback) return nullptr;
  if (!v->is_undefined()) {
    if (v != &input_scratch) return v;
    scratch = std::move(input_scratch);
  } else if (fallback != &scratch) {
    return fallback;
  }
  return &scratch;
}

Result<Value> FilterExpr::apply(Renderer& r, const Value& value) const {
  const FilterFunction* f = fn;
  if (!f) {
    auto it = r.state().filters.find(name);
    if (it == r.state().filters.end()) return r.error(pos, "No filter named '" + name + "'.");
    f = &it->second;
  }
  if (value.is_undefined() && !keeps_undefined && r.strict()) return r.undefined_error(value, pos);
  PooledArgs args(r);
  STRATA_TRY(r.eval_args(this->args, *args));
  Pos saved = r.pos;
  r.pos = pos;
  auto result = (*f)(value, *args, r);
  r.pos = saved;
  if (!result.ok()) return r.locate(std::move(result).error(), pos);
  return result;
}

Result<Value> TestExpr::eval(Renderer& r) const {
  if (r.stack_exceeded()) return r.stack_error(pos);
  Value scratch;
  const Value* v = &scratch;
  if (args_pure) {
    STRATA_ASSIGN(v, input->eval_ref(r, scratch));
  } else {
    STRATA_ASSIGN(scratch, input->eval(r));
  }
  const TestFunction* t = fn;
  if (!t) {
    auto it = r.state().tests.find(name);
    if (it == r.state().tests.end()) return r.error(pos, "No test named '" + name + "'.");
    t = &it->second;
  }
  PooledArgs args(r);
  STRATA_TRY(r.eval_args(this->args, *args));
  Pos saved = r.pos;
  r.pos = pos;
  auto result = (*t)(*v, *args, r);
  r.pos = saved;
  if (!result.ok()) return r.locate(std::move(result).error(), pos);
  return Value(negated ? !*result : *result);
}

}  // namespace strata::jinja::detail
