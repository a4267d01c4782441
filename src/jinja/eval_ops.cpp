// Python operator semantics: arithmetic, concatenation, repetition, comparisons, `in`.
#include <cmath>
#include <limits>

#include "jinja/format.h"
#include "jinja/renderer.h"

namespace strata::jinja::detail {
namespace {

const char* op_symbol(BinOp op) {
  switch (op) {
    case BinOp::kAdd: return "+";
    case BinOp::kSub: return "-";
    case BinOp::kMul: return "*";
    case BinOp::kDiv: return "/";
    case BinOp::kFloorDiv: return "//";
    case BinOp::kMod: return "%";
    case BinOp::kPow: return "** or pow()";
    default: return "?";
  }
}

bool is_num(const Value& v) { return v.is_int() || v.is_float() || v.is_bool(); }

Result<Value> repeat(const Value& seq, std::int64_t times, Renderer& r, Pos pos) {
  if (times <= 0) return seq.is_string() ? Value(std::string()) : (seq.is_tuple() ? Value::tuple({}) : Value(ValueList{}));
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<std::uint64_t>(times) > (64u << 20) / s.size())
      return r.error(pos, "string repetition too large");
    std::string out;
    out.reserve(s.size() * static_cast<std::size_t>(times));
    for (std::int64_t i = 0; i < times; ++i) out += s;
    return Value(std::move(out));
  }
  const ValueList& items = seq.as_list();
  if (!items.empty() && static_cast<std::uint64_t>(times) > (8u << 20) / items.size())
    return r.error(pos, "list repetition too large");
  ValueList out;
  for (std::int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value(std::move(out));
}

double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

}  // namespace

std::string short_type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kDict: return "dict";
    case Kind::kCallable: return "function";
    case Kind::kObject: return v.as_object()->type_name();
  }
  return "object";
}

Result<Value> binary_op(Renderer& r, BinOp op, const Value& a, const Value& b, Pos pos) {
  if (op == BinOp::kConcat) {
    STRATA_TRY(r.check_defined(a, pos));
    STRATA_TRY(r.check_defined(b, pos));
    std::string s = a.to_string();
    b.append_to(s);
    return Value(std::move(s));
  }
  if (a.is_undefined()) return r.undefined_error(a, pos);
  if (b.is_undefined()) return r.undefined_error(b, pos);
  if (is_num(a) && is_num(b)) {
    bool floats = a.is_float() || b.is_float();
    if (!floats) {
      std::int64_t x = a.as_int(), y = b.as_int(), z = 0;
      switch (op) {
        case BinOp::kAdd:
          if (__builtin_add_overflow(x, y, &z)) return r.error(pos, "integer overflow");
          return Value(z);
        case BinOp::kSub:
          if (__builtin_sub_overflow(x, y, &z)) return r.error(pos, "integer overflow");
          return Value(z);
        case BinOp::kMul:
          if (__builtin_mul_overflow(x, y, &z)) return r.error(pos, "integer overflow");
          return Value(z);
        case BinOp::kDiv:
          if (y == 0) return r.error(pos, "division by zero");
          return Value(static_cast<double>(x) / static_cast<double>(y));
        case BinOp::kFloorDiv: {
          if (y == 0) return r.error(pos, "integer division or modulo by zero");
          if (x == std::numeric_limits<std::int64_t>::min() && y == -1) return r.error(pos, "integer overflow");
          std::int64_t q = x / y;
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return Value(q);
        }
        case BinOp::kMod: {
          if (y == 0) return r.error(pos, "integer division or modulo by zero");
          if (y == -1) return Value(std::int64_t{0});
          std::int64_t m = x % y;
          if (m != 0 && ((m < 0) != (y < 0))) m += y;
          return Value(m);
        }
        case BinOp::kPow: {
          if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
          std::int64_t result = 1, base = x;
          std::int64_t e = y;
          while (e > 0) {
            if (e & 1)
              if (__builtin_mul_overflow(result, base, &result)) return r.error(pos, "integer overflow");
            e >>= 1;
            if (e > 0 && __builtin_mul_overflow(base, base, &base)) return r.error(pos, "integer overflow");
          }
          return Value(result);
        }
        default: break;
      }
    } else {
      double x = a.as_float(), y = b.as_float();
      switch (op) {
        case BinOp::kAdd: return Value(x + y);
        case BinOp::kSub: return Value(x - y);
        case BinOp::kMul: return Value(x * y);
        case BinOp::kDiv:
          if (y == 0) return r.error(pos, "float division by zero");
          return Value(x / y);
        case BinOp::kFloorDiv:
          if (y == 0) return r.error(pos, "float floor division by zero");
          return Value(std::floor(x / y));
        case BinOp::kMod:
          if (y == 0) return r.error(pos, "float modulo");
          return Value(py_fmod(x, y));
        case BinOp::kPow:
          if (x == 0 && y < 0) return r.error(pos, "0.0 cannot be raised to a negative power");
          return Value(std::pow(x, y));
        default: break;
      }
    }
  }
  if (op == BinOp::kAdd) {
    if (a.is_string() && b.is_string()) {
      std::string s;
      s.reserve(a.as_string().size() + b.as_string().size());
      s += a.as_string();
      s += b.as_string();
      return Value(std::move(s));
    }
    if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
      ValueList items = a.as_list();
      items.insert(items.end(), b.as_list().begin(), b.as_list().end());
      return a.is_tuple() ? Value::tuple(std::move(items)) : Value(std::move(items));
    }
    if (a.is_list() && !b.is_list())
      return r.error(pos, "can only concatenate list (not \"" + short_type_name(b) + "\") to list");
    if (a.is_string() && !b.is_string())
      return r.error(pos, "can only concatenate str (not \"" + short_type_name(b) + "\") to str");
  }
  if (op == BinOp::kMul) {
    if ((a.is_string() || a.is_sequence()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int(), r, pos);
    if ((b.is_string() || b.is_sequence()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int(), r, pos);
  }
  if (op == BinOp::kMod && a.is_string()) {
    auto s = python_percent_format(a.as_string(), b);
    if (!s.ok()) return r.locate(std::move(s).error(), pos);
    return Value(std::move(*s));
  }
  return r.error(pos, std::string("unsupported operand type(s) for ") + op_symbol(op) + ": '" + short_type_name(a) +
                          "' and '" + short_type_name(b) + "'");
}

Result<int> compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is_undefined() || b.is_undefined()) {
    const Value& u = a.is_undefined() ? a : b;
    return Error(ErrorCode::kFailed, u.undefined_hint().empty() ? "undefined value" : u.undefined_hint());
  }
  if (is_num(a) && is_num(b)) {
    if (a.is_float() || b.is_float()) {
      double x = a.as_float(), y = b.as_float();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    std::int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = 0;
    if (case_sensitive) {
      c = a.as_string().compare(b.as_string());
    } else {
      std::string x = a.as_string(), y = b.as_string();
      for (auto& ch : x) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      for (auto& ch : y) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c = x.compare(y);
    }
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const ValueList& x = a.as_list();
    const ValueList& y = b.as_list();
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (x[i].equals(y[i])) continue;
      return compare_values(x[i], y[i], case_sensitive);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  return Error(ErrorCode::kFailed, "'<' not supported between instances of '" + short_type_name(a) + "' and '" +
                                       short_type_name(b) + "'");
}

Result<bool> contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kString:
      if (!item.is_string())
        return Error(ErrorCode::kFailed, "'in <string>' requires string as left operand, not " + short_type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::kList:
    case Kind::kTuple:
      for (const auto& v : container.as_list())
        if (v.equals(item)) return true;
      return false;
    case Kind::kDict:
      if (!item.hashable()) return Error(ErrorCode::kFailed, "unhashable type: '" + short_type_name(item) + "'");
      return container.as_dict().find(item) != nullptr;
    case Kind::kUndefined: return false;
    case Kind::kObject: {
      auto items = container.as_object()->iterate();
      if (items) {
        for (const auto& v : *items)
          if (v.equals(item)) return true;
        return false;
      }
      return container.as_object()->get_item(item).has_value();
    }
    default:
      return Error(ErrorCode::kFailed, "argument of type '" + short_type_name(container) + "' is not iterable");
  }
}

Result<bool> compare_op(Renderer& r, CmpOp op, const Value& a, const Value& b, Pos pos) {
  switch (op) {
    case CmpOp::kEq: return a.equals(b);
    case CmpOp::kNe: return !a.equals(b);
    case CmpOp::kIn:
    case CmpOp::kNotIn: {
      STRATA_TRY(r.check_defined(b, pos));
      auto c = contains(b, a);
      if (!c.ok()) return r.locate(std::move(c).error(), pos);
      return op == CmpOp::kIn ? *c : !*c;
    }
    default: break;
  }
  if (a.is_undefined()) return r.undefined_error(a, pos);
  if (b.is_undefined()) return r.undefined_error(b, pos);
  auto c = compare_values(a, b, true);
  if (!c.ok()) {
    const char* sym = op == CmpOp::kLt ? "<" : op == CmpOp::kLe ? "<=" : op == CmpOp::kGt ? ">" : ">=";
    return r.error(pos, std::string("'") + sym + "' not supported between instances of '" + short_type_name(a) +
                            "' and '" + short_type_name(b) + "'");
  }
  switch (op) {
    case CmpOp::kLt: return *c < 0;
    case CmpOp::kLe: return *c <= 0;
    case CmpOp::kGt: return *c > 0;
    default: return *c >= 0;
  }
}

}  // namespace strata::jinja::detail
