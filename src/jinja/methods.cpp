// Python methods of str, list/tuple and dict, callable from templates (`s.split(',')`, `l.append(x)`).
#include <algorithm>
#include <cctype>

#include "jinja/format.h"
#include "jinja/renderer.h"
#include "jinja/unicode_case.h"

namespace strata::jinja::detail {
namespace {

Error method_error(std::string message) { return Error(ErrorCode::kFailed, std::move(message)); }

bool is_py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }


// Byte offset -> code point index.
std::int64_t cp_index(const std::string& s, std::size_t byte_offset) {
  return static_cast<std::int64_t>(utf8_length(std::string_view(s).substr(0, byte_offset)));
}

Result<std::string> string_arg(const CallArgs& args, std::size_t pos, std::string_view name, const char* method) {
  const Value* v = args.get(pos, name);
  if (!v) return method_error(std::string(method) + "() takes at least " + std::to_string(pos + 1) + " argument");
  if (!v->is_string())
    return method_error(std::string(method) + "() argument must be str, not " + short_type_name(*v));
  return v->as_string();
}

std::string strip(const std::string& s, const Value* chars, bool left, bool right) {
  auto strip_char = [&](char c) {
    if (!chars || chars->is_none()) return is_py_space(c);
    return chars->is_string() && chars->as_string().find(c) != std::string::npos;
  };
  std::size_t b = 0, e = s.size();
  if (left)
    while (b < e && strip_char(s[b])) ++b;
  if (right)
    while (e > b && strip_char(s[e - 1])) --e;
  return s.substr(b, e - b);
}

Result<ValueList> split(const std::string& s, const Value* sep, std::int64_t maxsplit, bool from_right) {
  ValueList out;
  if (!sep || sep->is_none()) {
    // Runs of whitespace; no empty strings.
    std::vector<std::pair<std::size_t, std::size_t>> words;
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && is_py_space(s[i])) ++i;
      if (i >= s.size()) break;
      std::size_t j = i;
      while (j < s.size() && !is_py_space(s[j])) ++j;
      words.emplace_back(i, j);
      i = j;
    }
    if (maxsplit < 0 || static_cast<std::size_t>(maxsplit) + 1 >= words.size()) {
      for (auto [b, e] : words) out.emplace_back(s.substr(b, e - b));
      return out;
    }
    std::size_t keep = static_cast<std::size_t>(maxsplit);
    if (!from_right) {
      for (std::size_t k = 0; k < keep; ++k) out.emplace_back(s.substr(words[k].first, words[k].second - words[k].first));
      out.emplace_back(strip(s.substr(words[keep].first), nullptr, false, true));
    } else {
      std::size_t first = words.size() - keep;
      out.emplace_back(strip(s.substr(0, words[first - 1].second), nullptr, true, false));
      for (std::size_t k = first; k < words.size(); ++k)
        out.emplace_back(s.substr(words[k].first, words[k].second - words[k].first));
    }
    return out;
  }
  if (!sep->is_string()) return method_error("must be str or None, not " + short_type_name(*sep));
  const std::string& d = sep->as_string();
  if (d.empty()) return method_error("empty separator");
  std::vector<std::string> parts;
  if (!from_right) {
    std::size_t start = 0;
    while (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) {
      std::size_t p = s.find(d, start);
      if (p == std::string::npos) break;
      parts.push_back(s.substr(start, p - start));
      start = p + d.size();
    }
    parts.push_back(s.substr(start));
  } else {
    std::size_t end = s.size();
    std::vector<std::string> rev;
    while (maxsplit < 0 || static_cast<std::int64_t>(rev.size()) < maxsplit) {
      if (end < d.size()) break;
      std::size_t p = s.rfind(d, end - d.size());
      if (p == std::string::npos) break;
      rev.push_back(s.substr(p + d.size(), end - p - d.size()));
      end = p;
    }
    rev.push_back(s.substr(0, end));
    parts.assign(rev.rbegin(), rev.rend());
  }
  for (auto& p : parts) out.emplace_back(std::move(p));
  return out;
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, std::int64_t count) {
  std::string out;
  std::int64_t done = 0;
  if (from.empty()) {
    std::size_t i = 0;
    while (i <= s.size()) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i == s.size()) break;
      std::size_t j = i + 1;
      while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
      out.append(s, i, j - i);
      i = j;
    }
    return out;
  }
  std::size_t start = 0;
  while (count < 0 || done < count) {
    std::size_t p = s.find(from, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += to;
    start = p + from.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  return out;
}



bool all_of_chars(const std::string& s, int (*pred)(int)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!pred(static_cast<unsigned char>(c))) return false;
  return true;
}


std::string pad_center(const std::string& s, std::int64_t width, const std::string& fill) {
  std::int64_t len = static_cast<std::int64_t>(utf8_length(s));
  if (width <= len) return s;
  std::int64_t marg = width - len;
  std::int64_t left = marg / 2 + (marg & width & 1);
  std::string out;
  for (std::int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (std::int64_t i = 0; i < marg - left; ++i) out += fill;
  return out;
}

std::int64_t int_arg(const CallArgs& args, std::size_t pos, std::string_view name, std::int64_t fallback) {
  const Value* v = args.get(pos, name);
  if (!v || v->is_none() || !(v->is_int() || v->is_bool())) return fallback;
  return v->as_int();
}

bool matches_affix(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const std::string& a) {
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_string()) return one(affix.as_string());
  if (affix.is_tuple())
    for (const auto& a : affix.as_list())
      if (a.is_string() && one(a.as_string())) return true;
  return false;
}

Result<Value> str_method(Renderer& r, const std::string& s, std::string_view name, CallArgs& args, bool& found) {
  if (name == "format") {
    auto out = python_str_format(s, args);
    if (!out.ok()) return std::move(out).error();
    return Value(std::move(*out));
  }
  if (name == "split" || name == "rsplit") {
    STRATA_ASSIGN(ValueList parts, split(s, args.get(0, "sep"), int_arg(args, 1, "maxsplit", -1), name == "rsplit"));
    return Value(std::move(parts));
  }
  if (name == "strip") return Value(strip(s, args.get(0, "chars"), true, true));
  if (name == "lstrip") return Value(strip(s, args.get(0, "chars"), true, false));
  if (name == "rstrip") return Value(strip(s, args.get(0, "chars"), false, true));
  if (name == "lower" || name == "casefold") return Value(unicode_lower(s));
  if (name == "upper") return Value(unicode_upper(s));
  if (name == "title") return Value(python_title(s));
  if (name == "capitalize") return Value(python_capitalize(s));
  if (name == "swapcase") return Value(unicode_swapcase(s));
  if (name == "replace") {
    STRATA_ASSIGN(std::string from, string_arg(args, 0, "old", "replace"));
    STRATA_ASSIGN(std::string to, string_arg(args, 1, "new", "replace"));
    return Value(py_replace(s, from, to, int_arg(args, 2, "count", -1)));
  }
  if (name == "startswith" || name == "endswith") {
    const Value* a = args.get(0, "");
    if (!a) return method_error(std::string(name) + "() takes at least 1 argument (0 given)");
    return Value(matches_affix(s, *a, name == "startswith"));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
    STRATA_ASSIGN(std::string sub, string_arg(args, 0, "sub", std::string(name).c_str()));
    std::size_t p = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex") return method_error("substring not found");
      return Value(std::int64_t{-1});
    }
    return Value(cp_index(s, p));
  }
  if (name == "count") {
    STRATA_ASSIGN(std::string sub, string_arg(args, 0, "sub", "count"));
    if (sub.empty()) return Value(static_cast<std::int64_t>(utf8_length(s) + 1));
    std::int64_t n = 0;
    for (std::size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return Value(n);
  }
  if (name == "join") {
    const Value* items = args.get(0, "iterable");
    if (!items) return method_error("join() takes exactly one argument (0 given)");
    STRATA_ASSIGN(ValueList list, r.iterate(*items, r.pos));
    std::string out;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string())
        return method_error("sequence item " + std::to_string(i) + ": expected str instance, " +
                            short_type_name(list[i]) + " found");
      if (i) out += s;
      out += list[i].as_string();
    }
    return Value(std::move(out));
  }
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") return Value(all_of_chars(s, ::isdigit));
  if (name == "isalpha") return Value(all_of_chars(s, ::isalpha));
  if (name == "isalnum") return Value(all_of_chars(s, ::isalnum));
  if (name == "isspace") return Value(all_of_chars(s, ::isspace));
  if (name == "islower") return Value(unicode_is_lower(s));
  if (name == "isupper") return Value(unicode_is_upper(s));
  if (name == "zfill") {
    std::int64_t width = int_arg(args, 0, "width", 0);
    std::int64_t len = static_cast<std::int64_t>(utf8_length(s));
    if (width <= len) return Value(s);
    if (width > 1000000) return method_error("width too large");
    std::size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    return Value(s.substr(0, sign) + std::string(static_cast<std::size_t>(width - len), '0') + s.substr(sign));
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    std::int64_t width = int_arg(args, 0, "width", 0);
    std::string fill = args.get_or(1, "fillchar", Value(" ")).to_string();
    if (utf8_length(fill) != 1) return method_error("The fill character must be exactly one character long");
    if (width > 1000000) return method_error("width too large");
    std::int64_t len = static_cast<std::int64_t>(utf8_length(s));
    if (name == "center") return Value(pad_center(s, width, fill));
    std::string padding;
    for (std::int64_t i = len; i < width; ++i) padding += fill;
    return Value(name == "ljust" ? s + padding : padding + s);
  }
  if (name == "splitlines") {
    ValueList lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\r') {
        lines.emplace_back(s.substr(start, i - start));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        start = i + 1;
      }
    }
    if (start < s.size()) lines.emplace_back(s.substr(start));
    return Value(std::move(lines));
  }
  if (name == "partition" || name == "rpartition") {
    STRATA_ASSIGN(std::string sep, string_arg(args, 0, "sep", "partition"));
    if (sep.empty()) return method_error("empty separator");
    std::size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (p == std::string::npos)
      return name == "partition" ? Value::tuple({Value(s), Value(""), Value("")})
                                 : Value::tuple({Value(""), Value(""), Value(s)});
    return Value::tuple({Value(s.substr(0, p)), Value(sep), Value(s.substr(p + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    STRATA_ASSIGN(std::string a, string_arg(args, 0, "", std::string(name).c_str()));
    if (matches_affix(s, Value(a), name == "removeprefix"))
      return Value(name == "removeprefix" ? s.substr(a.size()) : s.substr(0, s.size() - a.size()));
    return Value(s);
  }
  found = false;
  return Value();
}

Result<Value> list_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args, bool& found) {
  ValueList& items = obj.as_list();
  const bool mutable_list = obj.is_list();
  auto arg0 = [&]() -> Result<Value> {
    if (args.positional.empty()) return method_error(std::string(name) + "() takes exactly one argument (0 given)");
    return args.positional[0];
  };
  if (name == "index") {
    STRATA_ASSIGN(Value x, arg0());
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].equals(x)) return Value(static_cast<std::int64_t>(i));
    return method_error(x.repr() + " is not in list");
  }
  if (name == "count") {
    STRATA_ASSIGN(Value x, arg0());
    std::int64_t n = 0;
    for (const auto& v : items) n += v.equals(x) ? 1 : 0;
    return Value(n);
  }
  if (!mutable_list) {
    found = false;
    return Value();
  }
  if (name == "append") {
    STRATA_ASSIGN(Value x, arg0());
    if (items.size() >= (8u << 20)) return method_error("list too large");
    items.push_back(std::move(x));
    return Value::none();
  }
  if (name == "extend") {
    STRATA_ASSIGN(Value x, arg0());
    STRATA_ASSIGN(ValueList more, r.iterate(x, r.pos));
    if (items.size() + more.size() >= (8u << 20)) return method_error("list too large");
    items.insert(items.end(), more.begin(), more.end());
    return Value::none();
  }
  if (name == "insert") {
    if (args.positional.size() != 2) return method_error("insert expected 2 arguments");
    std::int64_t n = static_cast<std::int64_t>(items.size());
    std::int64_t i = args.positional[0].is_int() ? args.positional[0].as_int() : 0;
    if (i < 0) i = std::max<std::int64_t>(0, i + n);
    i = std::min(i, n);
    items.insert(items.begin() + i, args.positional[1]);
    return Value::none();
  }
  if (name == "pop") {
    if (items.empty()) return method_error("pop from empty list");
    std::int64_t n = static_cast<std::int64_t>(items.size());
    std::int64_t i = args.positional.empty() ? n - 1 : args.positional[0].as_int();
    if (i < 0) i += n;
    if (i < 0 || i >= n) return method_error("pop index out of range");
    Value v = items[static_cast<std::size_t>(i)];
    items.erase(items.begin() + i);
    return v;
  }
  if (name == "remove") {
    STRATA_ASSIGN(Value x, arg0());
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].equals(x)) {
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
        return Value::none();
      }
    return method_error("list.remove(x): x not in list");
  }
  if (name == "reverse") {
    std::reverse(items.begin(), items.end());
    return Value::none();
  }
  if (name == "clear") {
    items.clear();
    return Value::none();
  }
  if (name == "copy") return Value(ValueList(items));
  if (name == "sort") {
    bool reverse = args.get_or(0, "reverse", Value(false)).truthy();
    Status failure;
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      if (!failure.ok()) return false;
      auto c = compare_values(a, b, true);
      if (!c.ok()) {
        failure = std::move(c).error();
        return false;
      }
      return reverse ? *c > 0 : *c < 0;
    });
    if (!failure.ok()) return std::move(failure).error();
    return Value::none();
  }
  found = false;
  return Value();
}

Result<Value> dict_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args, bool& found) {
  Dict& d = obj.as_dict();
  if (name == "get") {
    const Value* key = args.get(0, "key");
    if (!key) return method_error("get expected at least 1 argument, got 0");
    if (!key->hashable()) return method_error("unhashable type: '" + short_type_name(*key) + "'");
    if (const Value* v = d.find(*key)) return *v;
    return args.get_or(1, "default", Value::none());
  }
  if (name == "items") {
    ValueList out;
    out.reserve(d.size());
    for (const auto& [k, v] : d.entries()) out.push_back(Value::tuple({k, v}));
    return Value(std::move(out));
  }
  if (name == "keys" || name == "values") {
    ValueList out;
    out.reserve(d.size());
    for (const auto& [k, v] : d.entries()) out.push_back(name == "keys" ? k : v);
    return Value(std::move(out));
  }
  if (name == "update") {
    for (const auto& v : args.positional) {
      if (v.is_dict()) {
        Dict copy = v.as_dict();
        for (const auto& [k, val] : copy.entries()) d.set(k, val);
      } else {
        STRATA_ASSIGN(ValueList pairs, r.iterate(v, r.pos));
        for (const auto& p : pairs) {
          if (!p.is_sequence() || p.as_list().size() != 2)
            return method_error("dictionary update sequence element has wrong length");
          d.set(p.as_list()[0], p.as_list()[1]);
        }
      }
    }
    for (const auto& [k, v] : args.keyword) d.set(Value(k), v);
    return Value::none();
  }
  if (name == "pop") {
    const Value* key = args.get(0, "");
    if (!key) return method_error("pop expected at least 1 argument, got 0");
    if (const Value* v = d.find(*key)) {
      Value out = *v;
      d.erase(*key);
      return out;
    }
    if (args.positional.size() > 1) return args.positional[1];
    return method_error(key->repr());
  }
  if (name == "setdefault") {
    const Value* key = args.get(0, "");
    if (!key) return method_error("setdefault expected at least 1 argument, got 0");
    if (!key->hashable()) return method_error("unhashable type: '" + short_type_name(*key) + "'");
    if (const Value* v = d.find(*key)) return *v;
    Value fallback = args.get_or(1, "default", Value::none());
    d.set(*key, fallback);
    return fallback;
  }
  if (name == "copy") return Value(Dict(d));
  if (name == "clear") {
    d = Dict();
    return Value::none();
  }
  found = false;
  return Value();
}

constexpr std::string_view kStrMethods[] = {
    "format", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "casefold", "upper", "title", "capitalize",
    "swapcase", "replace", "startswith", "endswith", "find", "rfind", "index", "rindex", "count", "join", "isdigit",
    "isnumeric", "isdecimal", "isalpha", "isalnum", "isspace", "islower", "isupper", "zfill", "center", "ljust",
    "rjust", "splitlines", "partition", "rpartition", "removeprefix", "removesuffix"};
constexpr std::string_view kListMethods[] = {"index", "count", "append", "extend", "insert", "pop", "remove",
                                             "reverse", "clear", "copy", "sort"};
constexpr std::string_view kDictMethods[] = {"get", "items", "keys", "values", "update", "pop", "setdefault", "copy",
                                             "clear"};

template <std::size_t N>
bool in(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

}  // namespace

std::uint16_t builtin_method_kinds(std::string_view name) {
  std::uint16_t kinds = 0;
  auto bit = [](Kind k) { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(k)); };
  if (in(kStrMethods, name)) kinds |= bit(Kind::kString);
  if (in(kListMethods, name)) kinds |= bit(Kind::kList);
  if (name == "index" || name == "count") kinds |= bit(Kind::kTuple);
  if (in(kDictMethods, name)) kinds |= bit(Kind::kDict);
  return kinds;
}

bool has_builtin_method(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case Kind::kString: return in(kStrMethods, name);
    case Kind::kList: return in(kListMethods, name);
    case Kind::kTuple: return name == "index" || name == "count";
    case Kind::kDict: return in(kDictMethods, name);
    default: return false;
  }
}

Result<Value> call_builtin_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args, bool& found) {
  found = true;
  Result<Value> result = Value();
  switch (obj.kind()) {
    case Kind::kString: result = str_method(r, obj.as_string(), name, args, found); break;
    case Kind::kList:
    case Kind::kTuple: result = list_method(r, obj, name, args, found); break;
    case Kind::kDict: result = dict_method(r, obj, name, args, found); break;
    default: found = false;
  }
  if (!found) return method_error("'" + obj.type_name() + "' has no attribute '" + std::string(name) + "'");
  return result;
}

}  // namespace strata::jinja::detail
