// Jinja2's built-in filters.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/strings.h"
#include "jinja/filter_support.h"
#include "jinja/format.h"
#include "jinja/renderer.h"
#include "jinja/unicode_case.h"

namespace strata::jinja::detail {
namespace {

using Fn = FilterFunction;

Renderer& R(CallContext& ctx) { return static_cast<Renderer&>(ctx); }

Result<Value> string_method(CallContext& ctx, const Value& v, std::string_view name, CallArgs args) {
  Value s = v.is_string() ? v : Value(v.to_string());
  bool found = true;
  return call_builtin_method(R(ctx), s, name, args, found);
}

// A filter that forwards to a str method with the filter's arguments.
Fn str_method_filter(std::string method) {
  return [method](const Value& v, CallArgs& args, CallContext& ctx) { return string_method(ctx, v, method, args); };
}

bool is_word_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_quote(const std::string& s, bool for_qs) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || c == '.' || c == '-' || c == '~' || (!for_qs && c == '/')) {
      out += c;
    } else if (for_qs && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string strip_tags(const std::string& s) {
  std::string no_tags;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 4, "<!--") == 0) {
      std::size_t e = s.find("-->", i + 4);
      if (e != std::string::npos) {
        i = e + 3;
        continue;
      }
    }
    if (s[i] == '<') {
      std::size_t e = s.find('>', i + 1);
      if (e != std::string::npos) {
        i = e + 1;
        continue;
      }
    }
    no_tags += s[i++];
  }
  std::string collapsed;
  bool pending = false;
  for (char c : no_tags) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending = !collapsed.empty();
    } else {
      if (pending) collapsed += ' ';
      pending = false;
      collapsed += c;
    }
  }
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#34;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) collapsed = replace_all(collapsed, from, to);
  return collapsed;
}

Result<Value> do_round(const Value& v, CallArgs& args, CallContext& ctx) {
  std::int64_t precision = args.get_or(0, "precision", Value(0)).as_int();
  std::string method = args.get_or(1, "method", Value("common")).to_string();
  if (method != "common" && method != "ceil" && method != "floor")
    return ctx.error("method must be 'common', 'ceil' or 'floor'");
  if (!v.is_number()) return ctx.error("type " + short_type_name(v) + " doesn't define __round__ method");
  if (method == "common" && !v.is_float()) return Value(v.as_int());
  double x = v.as_float();
  if (precision > 300 || precision < -300) return Value(x);
  if (method == "common") {
    if (!std::isfinite(x)) return Value(x);
    if (precision >= 0) {
      char buf[512];
      std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
      return Value(std::strtod(buf, nullptr));
    }
    double scale = std::pow(10.0, static_cast<double>(-precision));
    return Value(std::nearbyint(x / scale) * scale);
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double y = method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale);
  return Value(y / scale);
}

Result<Value> do_int(const Value& v, CallArgs& args, CallContext&) {
  Value fallback = args.get_or(0, "default", Value(0));
  std::int64_t base = args.get_or(1, "base", Value(10)).as_int();
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float()) {
    if (!std::isfinite(v.as_float()) || std::fabs(v.as_float()) > 9.2e18) return fallback;
    return Value(static_cast<std::int64_t>(v.as_float()));
  }
  if (!v.is_string()) return fallback;
  auto parsed = parse_python_int(v.as_string(), static_cast<int>(base));
  if (parsed) return Value(*parsed);
  auto f = parse_python_float(v.as_string());
  if (f && std::isfinite(*f) && std::fabs(*f) < 9.2e18) return Value(static_cast<std::int64_t>(*f));
  return fallback;
}

Result<Value> do_float(const Value& v, CallArgs& args, CallContext&) {
  Value fallback = args.get_or(0, "default", Value(0.0));
  if (v.is_number()) return Value(v.as_float());
  if (!v.is_string()) return fallback;
  auto f = parse_python_float(v.as_string());
  if (f) return Value(*f);
  return fallback;
}

Result<Value> do_indent(const Value& v, CallArgs& args, CallContext& ctx) {
  if (!v.is_string() && !v.is_undefined())
    return ctx.error("unsupported operand type(s) for +=: '" + short_type_name(v) + "' and 'str'");
  Value width = args.get_or(0, "width", Value(4));
  bool first = args.get_or(1, "first", Value(false)).truthy();
  bool blank = args.get_or(2, "blank", Value(false)).truthy();
  std::string indention =
      width.is_string() ? width.as_string() : std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(width.as_int(), 0, 10000)), ' ');
  std::string s = v.to_string() + "\n";
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  std::string rv;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i == 0) {
      rv = lines[0];
      continue;
    }
    rv += "\n";
    if (blank || !lines[i].empty()) rv += indention;
    rv += lines[i];
  }
  if (first) rv = indention + rv;
  return Value(std::move(rv));
}

Result<Value> do_truncate(const Value& v, CallArgs& args, CallContext& ctx) {
  if (!v.is_string() && !v.is_undefined()) {
    if (!v.is_sequence() && !v.is_dict()) return ctx.error("object of type '" + short_type_name(v) + "' has no len()");
    std::int64_t n = static_cast<std::int64_t>(v.is_dict() ? v.as_dict().size() : v.as_list().size());
    Value leeway = args.get_or(3, "leeway", Value::none());
    if (n <= args.get_or(0, "length", Value(255)).as_int() + (leeway.is_none() ? 5 : leeway.as_int())) return v;
    return ctx.error("can only concatenate " + short_type_name(v) + " (not \"str\") to " + short_type_name(v));
  }
  std::string s = v.to_string();
  std::int64_t length = args.get_or(0, "length", Value(255)).as_int();
  bool killwords = args.get_or(1, "killwords", Value(false)).truthy();
  std::string end = args.get_or(2, "end", Value("...")).to_string();
  Value leeway_v = args.get_or(3, "leeway", Value::none());
  std::int64_t leeway = leeway_v.is_none() ? 5 : leeway_v.as_int();
  std::int64_t end_len = static_cast<std::int64_t>(utf8_length(end));
  if (length < end_len) return ctx.error("expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
  if (leeway < 0) return ctx.error("expected leeway >= 0, got " + std::to_string(leeway));
  ValueList chars;
  STRATA_ASSIGN(chars, R(ctx).iterate(Value(s), R(ctx).pos));
  std::int64_t n = static_cast<std::int64_t>(chars.size());
  if (n <= length + leeway) return Value(s);
  std::string head;
  for (std::int64_t i = 0; i < length - end_len; ++i) head += chars[static_cast<std::size_t>(i)].as_string();
  if (killwords) return Value(head + end);
  std::size_t space = head.rfind(' ');
  if (space != std::string::npos) head.resize(space);
  return Value(head + end);
}

Result<Value> do_urlencode(const Value& v, CallArgs&, CallContext& ctx) {
  if (v.is_string() || !(v.is_dict() || v.is_sequence())) return Value(url_quote(v.to_string(), false));
  ValueList pairs;
  if (v.is_dict()) {
    for (const auto& [k, val] : v.as_dict().entries()) pairs.push_back(Value::tuple({k, val}));
  } else {
    pairs = v.as_list();
  }
  std::string out;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    STRATA_ASSIGN(ValueList kv, R(ctx).iterate(pairs[i], R(ctx).pos));
    if (kv.size() != 2) return ctx.error("expected pairs for urlencode");
    if (i) out += "&";
    out += url_quote(kv[0].to_string(), true) + "=" + url_quote(kv[1].to_string(), true);
  }
  return Value(std::move(out));
}

Result<Value> do_wordcount(const Value& v, CallArgs&, CallContext&) {
  std::string s = v.to_string();
  std::int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool w = is_word_char(c);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

Result<Value> do_center(const Value& v, CallArgs& args, CallContext& ctx) {
  CallArgs forwarded;
  forwarded.positional.push_back(args.get_or(0, "width", Value(80)));
  return string_method(ctx, v, "center", forwarded);
}

Result<Value> do_replace(const Value& v, CallArgs& args, CallContext& ctx) {
  CallArgs forwarded;
  forwarded.positional.push_back(Value(args.get_or(0, "old", Value("")).to_string()));
  forwarded.positional.push_back(Value(args.get_or(1, "new", Value("")).to_string()));
  Value count = args.get_or(2, "count", Value::none());
  if (!count.is_none()) forwarded.positional.push_back(count);
  return string_method(ctx, v, "replace", forwarded);
}

Result<Value> do_format(const Value& v, CallArgs& args, CallContext& ctx) {
  if (!args.positional.empty() && !args.keyword.empty())
    return ctx.error("can't handle positional and keyword arguments at the same time");
  Value params;
  if (!args.keyword.empty()) {
    Dict d;
    for (const auto& [k, val] : args.keyword) d.set(Value(k), val);
    params = Value(std::move(d));
  } else {
    params = Value::tuple(args.positional);
  }
  STRATA_ASSIGN(std::string out, python_percent_format(v.to_string(), params));
  return Value(std::move(out));
}

Result<Value> do_tojson(const Value& v, CallArgs& args, CallContext& ctx) {
  Value indent = args.get_or(0, "indent", Value::none());
  auto json = python_json_dumps(v, indent.is_none() ? -1 : static_cast<int>(std::clamp<std::int64_t>(indent.as_int(), 0, 64)));
  if (!json.ok()) return ctx.error(json.error().message());
  std::string out;
  for (char c : *json) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      case '\'': out += "\\u0027"; break;
      default: out += c;
    }
  }
  return Value::safe_string(std::move(out));
}

}  // namespace

Result<Value> filter_default(const Value& v, CallArgs& args, CallContext&) {
  if (v.is_undefined() || (!v.truthy() && [&] {
        const Value* b = args.get(1, "boolean");
        return b && b->truthy();
      }())) {
    const Value* fallback = args.get(0, "default_value");
    return fallback ? *fallback : Value(std::string());
  }
  return v;
}

bool is_builtin_default_filter(const FilterFunction& f) {
  auto* target = f.target<Result<Value> (*)(const Value&, CallArgs&, CallContext&)>();
  return target && *target == &filter_default;
}

void register_builtin_filters(EnvironmentState& state) {
  auto& f = state.filters;
  f["abs"] = [](const Value& v, CallArgs&, CallContext& ctx) -> Result<Value> {
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_int() || v.is_bool()) {
      if (v.as_int() == INT64_MIN) return ctx.error("integer overflow");
      return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    return ctx.error("bad operand type for abs(): '" + short_type_name(v) + "'");
  };
  f["attr"] = [](const Value& v, CallArgs& args, CallContext& ctx) -> Result<Value> {
    std::string name = args.get_or(0, "name", Value("")).to_string();
    if (v.is_dict()) {
      if (has_builtin_method(v, name)) return R(ctx).get_attr(Value(Dict()), name);
      return Value::undefined("'dict object' has no attribute '" + name + "'");
    }
    return R(ctx).get_attr(v, name);
  };
  f["default"] = &filter_default;
  f["d"] = &filter_default;
  f["capitalize"] = str_method_filter("capitalize");
  f["lower"] = str_method_filter("lower");
  f["upper"] = str_method_filter("upper");
  f["trim"] = str_method_filter("strip");
  f["title"] = [](const Value& v, CallArgs&, CallContext&) -> Result<Value> { return Value(jinja_title(v.to_string())); };
  f["center"] = do_center;
  f["replace"] = do_replace;
  f["escape"] = [](const Value& v, CallArgs&, CallContext&) -> Result<Value> {
    if (v.is_safe()) return v;
    return Value::safe_string(html_escape(v.is_none() ? std::string("None") : v.to_string()));
  };
  f["e"] = f["escape"];
  f["forceescape"] = [](const Value& v, CallArgs&, CallContext&) -> Result<Value> {
    return Value::safe_string(html_escape(v.to_string()));
  };
  f["safe"] = [](const Value& v, CallArgs&, CallContext&) -> Result<Value> { return Value::safe_string(v.to_string()); };
  f["string"] = [](const Value& v, CallArgs&, CallContext&) -> Result<Value> {
    if (v.is_string()) return v;
    return Value(v.to_string());
  };
  f["striptags"] = [](const Value& v, CallArgs&, CallContext&) -> Result<Value> { return Value(strip_tags(v.to_string())); };
  f["round"] = do_round;
  f["int"] = do_int;
  f["float"] = do_float;
  f["indent"] = do_indent;
  f["truncate"] = do_truncate;
  f["urlencode"] = do_urlencode;
  f["wordcount"] = do_wordcount;
  f["format"] = do_format;
  f["tojson"] = do_tojson;
  register_sequence_filters(state);
}

}  // namespace strata::jinja::detail
