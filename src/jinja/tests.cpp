// Jinja2's built-in tests: `value is defined`, `n is divisibleby 3`, ...
#include <cctype>
#include <cmath>

#include "jinja/renderer.h"
#include "jinja/unicode_case.h"

namespace strata::jinja::detail {
namespace {

using Fn = TestFunction;

Result<Value> arg(CallArgs& args, const char* test) {
  if (args.positional.empty() && args.keyword.empty())
    return Error(ErrorCode::kFailed, std::string(test) + "() missing 1 required positional argument");
  return args.positional.empty() ? args.keyword[0].second : args.positional[0];
}

Fn compare_test(CmpOp op, const char* name) {
  return [op, name](const Value& v, CallArgs& args, CallContext& ctx) -> Result<bool> {
    STRATA_ASSIGN(Value other, arg(args, name));
    auto& r = static_cast<Renderer&>(ctx);
    return compare_op(r, op, v, other, r.pos);
  };
}

bool cased(const Value& v, bool lower) {
  std::string s = v.to_string();
  return lower ? unicode_is_lower(s) : unicode_is_upper(s);
}

}  // namespace

void register_builtin_tests(EnvironmentState& state) {
  auto& t = state.tests;
  t["defined"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return !v.is_undefined(); };
  t["undefined"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_undefined(); };
  t["none"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_none(); };
  t["boolean"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_bool(); };
  t["true"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_bool() && v.as_bool(); };
  t["false"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_bool() && !v.as_bool(); };
  t["number"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_number(); };
  t["integer"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_int(); };
  t["float"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_float(); };
  t["string"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_string(); };
  t["mapping"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> {
    return v.is_dict() || (v.is_object() && v.as_object()->is_mapping());
  };
  t["iterable"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> {
    if (v.is_object()) return v.as_object()->iterate().has_value();
    return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
  };
  t["sequence"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> {
    return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
  };
  t["callable"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_callable(); };
  t["escaped"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return v.is_safe(); };
  t["lower"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return cased(v, true); };
  t["upper"] = [](const Value& v, CallArgs&, CallContext&) -> Result<bool> { return cased(v, false); };
  auto parity = [](bool even) {
    return [even](const Value& v, CallArgs&, CallContext& ctx) -> Result<bool> {
      if (v.is_float()) {
        double m = std::fmod(v.as_float(), 2.0);
        return even ? m == 0 : m != 0;
      }
      if (!v.is_int() && !v.is_bool())
        return ctx.error("unsupported operand type(s) for %: '" + short_type_name(v) + "' and 'int'");
      return even == (v.as_int() % 2 == 0);
    };
  };
  t["even"] = parity(true);
  t["odd"] = parity(false);
  t["divisibleby"] = [](const Value& v, CallArgs& args, CallContext& ctx) -> Result<bool> {
    STRATA_ASSIGN(Value n, arg(args, "divisibleby"));
    if (!v.is_number() || !n.is_number())
      return ctx.error("unsupported operand type(s) for %: '" + short_type_name(v) + "' and '" + short_type_name(n) + "'");
    if (v.is_float() || n.is_float()) {
      if (n.as_float() == 0) return ctx.error("float modulo");
      return std::fmod(v.as_float(), n.as_float()) == 0;
    }
    if (n.as_int() == 0) return ctx.error("integer division or modulo by zero");
    if (n.as_int() == -1) return true;
    return v.as_int() % n.as_int() == 0;
  };
  t["in"] = [](const Value& v, CallArgs& args, CallContext& ctx) -> Result<bool> {
    STRATA_ASSIGN(Value seq, arg(args, "in"));
    auto& r = static_cast<Renderer&>(ctx);
    return compare_op(r, CmpOp::kIn, v, seq, r.pos);
  };
  t["sameas"] = [](const Value& v, CallArgs& args, CallContext&) -> Result<bool> {
    STRATA_ASSIGN(Value other, arg(args, "sameas"));
    if (v.kind() != other.kind()) return false;
    switch (v.kind()) {
      case Kind::kNone:
      case Kind::kUndefined: return true;
      case Kind::kBool:
      case Kind::kInt: return v.as_int() == other.as_int();
      default: return v.equals(other);
    }
  };
  t["filter"] = [](const Value& v, CallArgs&, CallContext& ctx) -> Result<bool> {
    return v.is_string() && ctx.environment().filter(v.as_string()) != nullptr;
  };
  t["test"] = [](const Value& v, CallArgs&, CallContext& ctx) -> Result<bool> {
    return v.is_string() && ctx.environment().test(v.as_string()) != nullptr;
  };
  struct Named {
    const char* names[3];
    CmpOp op;
  };
  const Named comparisons[] = {{{"eq", "equalto", "=="}, CmpOp::kEq}, {{"ne", "!=", nullptr}, CmpOp::kNe},
                               {{"lt", "lessthan", "<"}, CmpOp::kLt}, {{"le", "<=", nullptr}, CmpOp::kLe},
                               {{"gt", "greaterthan", ">"}, CmpOp::kGt}, {{"ge", ">=", nullptr}, CmpOp::kGe}};
  for (const auto& c : comparisons)
    for (const char* n : c.names)
      if (n) t[n] = compare_test(c.op, n);
}

}  // namespace strata::jinja::detail
