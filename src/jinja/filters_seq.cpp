// Jinja2's sequence filters (sort, groupby, map, select, ...) and the helpers they share.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/strings.h"
#include "jinja/filter_support.h"
#include "jinja/format.h"
#include "jinja/renderer.h"

namespace strata::jinja::detail {
namespace {

Renderer& R(CallContext& ctx) { return static_cast<Renderer&>(ctx); }

std::string_view strip_ws(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Removes single underscores between digits; nullopt if underscores are misplaced.
std::optional<std::string> remove_underscores(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isxdigit(static_cast<unsigned char>(s[i + 1])))
        return std::nullopt;
      continue;
    }
    out += s[i];
  }
  return out;
}

Value ignore_case(const Value& v) {
  if (!v.is_string()) return v;
  std::string s = v.as_string();
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Value(std::move(s));
}

// The sort/compare key of an item: attribute path(s) and case folding.
struct KeyMaker {
  Renderer& r;
  Value attribute;  // none/undefined = the item itself; "a,b" = several
  bool case_sensitive;
  Value fallback;
  bool multi = false;  // keys as lists, like Jinja's make_multi_attrgetter (sort)

  Value operator()(const Value& item) const {
    if (multi || (attribute.is_string() && attribute.as_string().find(',') != std::string::npos)) {
      if (!attribute.is_string()) return Value(ValueList{one(item, attribute)});
      ValueList parts;
      for (const auto& a : split(attribute.as_string(), ',')) parts.push_back(one(item, Value(a)));
      return Value(std::move(parts));
    }
    return one(item, attribute);
  }
  Value one(const Value& item, const Value& attr) const {
    Value v = (attr.is_none() || attr.is_undefined()) ? item : attribute_path(r, item, attr);
    if (v.is_undefined() && !fallback.is_undefined()) v = fallback;
    return case_sensitive ? v : ignore_case(v);
  }
};

Status sort_by_key(ValueList& items, const KeyMaker& key, bool reverse) {
  std::vector<std::pair<Value, std::size_t>> keyed;
  keyed.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) keyed.emplace_back(key(items[i]), i);
  Status failure;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (!failure.ok()) return false;
    auto c = compare_values(a.first, b.first, true);
    if (!c.ok()) {
      failure = std::move(c).error();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  if (!failure.ok()) return failure;
  ValueList sorted;
  sorted.reserve(items.size());
  for (const auto& [k, i] : keyed) sorted.push_back(items[i]);
  items = std::move(sorted);
  return ok_status();
}

class GroupTuple final : public Object {
 public:
  GroupTuple(Value grouper, ValueList list) : grouper_(std::move(grouper)), list_(Value(std::move(list))) {}
  std::string type_name() const override { return "tuple"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "grouper") return grouper_;
    if (name == "list") return list_;
    return std::nullopt;
  }
  std::optional<Value> get_item(const Value& key) const override {
    if (key.is_int() && key.as_int() == 0) return grouper_;
    if (key.is_int() && key.as_int() == 1) return list_;
    return std::nullopt;
  }
  std::optional<ValueList> iterate() const override { return ValueList{grouper_, list_}; }
  std::string to_string() const override { return "(" + grouper_.repr() + ", " + list_.repr() + ")"; }

 private:
  Value grouper_;
  Value list_;
};

Result<ValueList> items_of(CallContext& ctx, const Value& v) { return R(ctx).iterate(v, R(ctx).pos); }

// select/reject and selectattr/rejectattr.
FilterFunction selector(bool with_attr, bool keep_when) {
  return [with_attr, keep_when](const Value& v, CallArgs& args, CallContext& ctx) -> Result<Value> {
    Renderer& r = R(ctx);
    if (!v.truthy()) return Value(ValueList{});
    STRATA_ASSIGN(ValueList items, items_of(ctx, v));
    std::size_t next = 0;
    Value attr;
    if (with_attr) {
      if (args.positional.empty()) return ctx.error("Missing parameter for attribute name");
      attr = args.positional[next++];
    }
    const TestFunction* test = nullptr;
    CallArgs test_args;
    if (next < args.positional.size()) {
      std::string name = args.positional[next++].to_string();
      auto it = r.state().tests.find(name);
      if (it == r.state().tests.end()) return ctx.error("No test named '" + name + "'.");
      test = &it->second;
      test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next), args.positional.end());
      test_args.keyword = args.keyword;
    }
    ValueList out;
    for (const auto& item : items) {
      Value subject = with_attr ? attribute_path(r, item, attr) : item;
      bool ok;
      if (test) {
        CallArgs a = test_args;
        STRATA_ASSIGN(ok, (*test)(subject, a, ctx));
      } else {
        ok = subject.truthy();
      }
      if (ok == keep_when) out.push_back(item);
    }
    return Value(std::move(out));
  };
}

Result<Value> do_map(const Value& v, CallArgs& args, CallContext& ctx) {
  Renderer& r = R(ctx);
  if (!v.truthy()) return Value(ValueList{});
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  ValueList out;
  if (args.positional.empty()) {
    const Value* attr = args.keyword_arg("attribute");
    if (!attr) return ctx.error("map requires a filter argument");
    const Value* fallback = args.keyword_arg("default");
    for (const auto& item : items) {
      Value x = attribute_path(r, item, *attr);
      if (x.is_undefined() && fallback) x = *fallback;
      out.push_back(std::move(x));
    }
    return Value(std::move(out));
  }
  std::string name = args.positional[0].to_string();
  auto it = r.state().filters.find(name);
  if (it == r.state().filters.end()) return ctx.error("No filter named '" + name + "'.");
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const auto& item : items) {
    CallArgs a = rest;
    STRATA_ASSIGN(Value x, it->second(item, a, ctx));
    out.push_back(std::move(x));
  }
  return Value(std::move(out));
}

Result<Value> min_max(const Value& v, CallArgs& args, CallContext& ctx, bool want_max) {
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  KeyMaker key{R(ctx), args.get_or(1, "attribute", Value::none()), args.get_or(0, "case_sensitive", Value(false)).truthy(),
               Value()};
  std::size_t best = 0;
  Value best_key = key(items[0]);
  for (std::size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    auto c = compare_values(k, best_key, true);
    if (!c.ok()) return ctx.error(c.error().message());
    if (want_max ? *c > 0 : *c < 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

Result<Value> do_sort(const Value& v, CallArgs& args, CallContext& ctx) {
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  bool reverse = args.get_or(0, "reverse", Value(false)).truthy();
  KeyMaker key{R(ctx), args.get_or(2, "attribute", Value::none()), args.get_or(1, "case_sensitive", Value(false)).truthy(),
               Value(), true};
  Status st = sort_by_key(items, key, reverse);
  if (!st.ok()) return ctx.error(st.error().message());
  return Value(std::move(items));
}

Result<Value> do_dictsort(const Value& v, CallArgs& args, CallContext& ctx) {
  if (!v.is_dict()) return ctx.error("dictsort expects a mapping");
  bool case_sensitive = args.get_or(0, "case_sensitive", Value(false)).truthy();
  std::string by = args.get_or(1, "by", Value("key")).to_string();
  bool reverse = args.get_or(2, "reverse", Value(false)).truthy();
  if (by != "key" && by != "value") return ctx.error("You can only sort by either 'key' or 'value'");
  ValueList items;
  for (const auto& [k, val] : v.as_dict().entries()) items.push_back(Value::tuple({k, val}));
  KeyMaker key{R(ctx), Value(by == "key" ? 0 : 1), case_sensitive, Value()};
  Status st = sort_by_key(items, key, reverse);
  if (!st.ok()) return ctx.error(st.error().message());
  return Value(std::move(items));
}

Result<Value> do_groupby(const Value& v, CallArgs& args, CallContext& ctx) {
  Renderer& r = R(ctx);
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  Value attr = args.get_or(0, "attribute", Value::none());
  Value fallback = args.get_or(1, "default", Value());
  bool case_sensitive = args.get_or(2, "case_sensitive", Value(false)).truthy();
  KeyMaker key{r, attr, case_sensitive, fallback};
  Status st = sort_by_key(items, key, false);
  if (!st.ok()) return ctx.error(st.error().message());
  KeyMaker original{r, attr, true, fallback};
  ValueList groups;
  std::size_t i = 0;
  while (i < items.size()) {
    Value k = key(items[i]);
    ValueList members;
    std::size_t j = i;
    while (j < items.size() && key(items[j]).equals(k)) members.push_back(items[j++]);
    Value grouper = original(members[0]);
    groups.push_back(Value::object(std::make_shared<GroupTuple>(std::move(grouper), std::move(members))));
    i = j;
  }
  return Value(std::move(groups));
}

Result<Value> do_unique(const Value& v, CallArgs& args, CallContext& ctx) {
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  KeyMaker key{R(ctx), args.get_or(1, "attribute", Value::none()), args.get_or(0, "case_sensitive", Value(false)).truthy(),
               Value()};
  ValueList out, seen;
  for (const auto& item : items) {
    Value k = key(item);
    bool dup = false;
    for (const auto& s : seen) dup = dup || s.equals(k);
    if (dup) continue;
    seen.push_back(std::move(k));
    out.push_back(item);
  }
  return Value(std::move(out));
}

Result<Value> do_sum(const Value& v, CallArgs& args, CallContext& ctx) {
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  Value attr = args.get_or(0, "attribute", Value::none());
  Value total = args.get_or(1, "start", Value(0));
  for (const auto& item : items) {
    Value x = attr.is_none() ? item : attribute_path(R(ctx), item, attr);
    STRATA_ASSIGN(total, binary_op(R(ctx), BinOp::kAdd, total, x, R(ctx).pos));
  }
  return total;
}

Result<Value> do_join(const Value& v, CallArgs& args, CallContext& ctx) {
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  std::string sep = args.get_or(0, "d", Value("")).to_string();
  Value attr = args.get_or(1, "attribute", Value::none());
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    (attr.is_none() ? items[i] : attribute_path(R(ctx), items[i], attr)).append_to(out);
  }
  return Value(std::move(out));
}

Result<Value> do_batch(const Value& v, CallArgs& args, CallContext& ctx) {
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  std::int64_t n = args.get_or(0, "linecount", Value(1)).as_int();
  if (n <= 0 || n > 1000000) return ctx.error("batch size must be between 1 and 1000000");
  Value fill = args.get_or(1, "fill_with", Value::none());
  ValueList out, tmp;
  for (const auto& item : items) {
    if (static_cast<std::int64_t>(tmp.size()) == n) {
      out.push_back(Value(std::move(tmp)));
      tmp = ValueList();
    }
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (!fill.is_none())
      while (static_cast<std::int64_t>(tmp.size()) < n) tmp.push_back(fill);
    out.push_back(Value(std::move(tmp)));
  }
  return Value(std::move(out));
}

Result<Value> do_slice(const Value& v, CallArgs& args, CallContext& ctx) {
  STRATA_ASSIGN(ValueList seq, items_of(ctx, v));
  std::int64_t slices = args.get_or(0, "slices", Value(1)).as_int();
  if (slices <= 0 || slices > 100000) return ctx.error("slices must be a positive number");
  Value fill = args.get_or(1, "fill_with", Value::none());
  std::int64_t length = static_cast<std::int64_t>(seq.size());
  std::int64_t per = length / slices, extra = length % slices, offset = 0;
  ValueList out;
  for (std::int64_t k = 0; k < slices; ++k) {
    std::int64_t start = offset + k * per;
    if (k < extra) ++offset;
    std::int64_t end = offset + (k + 1) * per;
    ValueList tmp(seq.begin() + start, seq.begin() + end);
    if (!fill.is_none() && k >= extra) tmp.push_back(fill);
    out.push_back(Value(std::move(tmp)));
  }
  return Value(std::move(out));
}

Result<Value> do_length(const Value& v, CallArgs&, CallContext& ctx) {
  switch (v.kind()) {
    case Kind::kString: return Value(static_cast<std::int64_t>(utf8_length(v.as_string())));
    case Kind::kList:
    case Kind::kTuple: return Value(static_cast<std::int64_t>(v.as_list().size()));
    case Kind::kDict: return Value(static_cast<std::int64_t>(v.as_dict().size()));
    case Kind::kUndefined: return Value(0);
    case Kind::kObject: {
      auto items = v.as_object()->iterate();
      if (items) return Value(static_cast<std::int64_t>(items->size()));
      break;
    }
    default: break;
  }
  return ctx.error("object of type '" + short_type_name(v) + "' has no len()");
}

Result<Value> do_first_last(const Value& v, CallContext& ctx, bool first) {
  STRATA_ASSIGN(ValueList items, items_of(ctx, v));
  if (items.empty()) return Value::undefined(first ? "No first item, sequence was empty." : "No last item, sequence was empty.");
  return first ? items.front() : items.back();
}

void json_string(std::string& out, const std::string& s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t len = 1;
    if (c >= 0x80) {
      len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (i + len > s.size()) len = 1;
      cp = len == 1 ? c : (c & (0x3F >> (len - 1)));
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += len;
    char buf[16];
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (cp >= 0x7f && cp < 0x10000)) {
      if (cp == 0x7f) { out += static_cast<char>(cp); continue; }
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    } else if (cp >= 0x10000) {
      std::uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      out += buf;
    } else {
      out += static_cast<char>(cp);
    }
  }
  out += '"';
}

Status json_dump(std::string& out, const Value& v, int indent, int level) {
  if (level > 200) return Error(ErrorCode::kFailed, "maximum recursion depth exceeded while encoding a JSON object");
  auto newline = [&](int lvl) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * lvl), ' ');
  };
  const char* item_sep = indent < 0 ? ", " : ",";
  switch (v.kind()) {
    case Kind::kNone: out += "null"; return ok_status();
    case Kind::kBool: out += v.as_bool() ? "true" : "false"; return ok_status();
    case Kind::kInt: out += std::to_string(v.as_int()); return ok_status();
    case Kind::kFloat: {
      double d = v.as_float();
      out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : format_float(d);
      return ok_status();
    }
    case Kind::kString: json_string(out, v.as_string()); return ok_status();
    case Kind::kList:
    case Kind::kTuple: {
      const ValueList& items = v.as_list();
      if (items.empty()) { out += "[]"; return ok_status(); }
      out += '[';
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        newline(level + 1);
        STRATA_TRY(json_dump(out, items[i], indent, level + 1));
      }
      newline(level);
      out += ']';
      return ok_status();
    }
    case Kind::kDict: {
      std::vector<Dict::Entry> entries = v.as_dict().entries();
      if (entries.empty()) { out += "{}"; return ok_status(); }
      Status failure;
      std::stable_sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
        auto c = compare_values(a.first, b.first, true);
        if (!c.ok()) { failure = std::move(c).error(); return false; }
        return *c < 0;
      });
      STRATA_TRY(failure);
      out += '{';
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i) out += item_sep;
        newline(level + 1);
        const Value& k = entries[i].first;
        if (k.is_string()) json_string(out, k.as_string());
        else if (k.is_bool()) out += k.as_bool() ? "\"true\"" : "\"false\"";
        else if (k.is_none()) out += "\"null\"";
        else if (k.is_int() || k.is_float()) out += "\"" + k.to_string() + "\"";
        else return Error(ErrorCode::kFailed, "keys must be str, int, float, bool or None, not " + short_type_name(k));
        out += ": ";
        STRATA_TRY(json_dump(out, entries[i].second, indent, level + 1));
      }
      newline(level);
      out += '}';
      return ok_status();
    }
    default:
      return Error(ErrorCode::kFailed, "Object of type " + short_type_name(v) + " is not JSON serializable");
  }
}

}  // namespace

std::optional<std::int64_t> parse_python_int(std::string_view text, int base) {
  std::string_view s = strip_ws(text);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.size() > 2 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    int prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefixed && (base == prefixed || base == 0)) {
      base = prefixed;
      s.remove_prefix(2);
      if (!s.empty() && s[0] == '_') s.remove_prefix(1);
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36 || s.empty()) return std::nullopt;
  auto clean = remove_underscores(s);
  if (!clean || clean->empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : *clean) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                                         : 99;
    if (d >= base) return std::nullopt;
    if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v)) return std::nullopt;
  }
  return neg ? -v : v;
}

std::optional<double> parse_python_float(std::string_view text) {
  std::string_view s = strip_ws(text);
  if (s.empty()) return std::nullopt;
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view body = lower;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") return neg ? -HUGE_VAL : HUGE_VAL;
  if (body == "nan") return std::nan("");
  if (lower.find('x') != std::string::npos) return std::nullopt;
  auto clean = remove_underscores(lower);
  if (!clean || clean->empty()) return std::nullopt;
  for (char c : *clean)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-')) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(clean->c_str(), &end);
  if (end != clean->c_str() + clean->size()) return std::nullopt;
  return d;
}

Result<std::string> python_json_dumps(const Value& v, int indent) {
  std::string out;
  STRATA_TRY(json_dump(out, v, indent, 0));
  return out;
}

Value attribute_path(Renderer& r, const Value& item, const Value& attribute) {
  if (attribute.is_int()) return r.get_item(item, attribute);
  std::string path = attribute.to_string();
  Value current = item;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (current.is_undefined()) return current;
    current = digits ? r.get_item(current, Value(static_cast<std::int64_t>(std::atoll(part.c_str())))) : r.get_item(current, Value(part));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

void register_sequence_filters(EnvironmentState& state) {
  auto& f = state.filters;
  f["batch"] = do_batch;
  f["dictsort"] = do_dictsort;
  f["first"] = [](const Value& v, CallArgs&, CallContext& ctx) { return do_first_last(v, ctx, true); };
  f["last"] = [](const Value& v, CallArgs&, CallContext& ctx) { return do_first_last(v, ctx, false); };
  f["groupby"] = do_groupby;
  f["join"] = do_join;
  f["length"] = do_length;
  f["count"] = do_length;
  f["list"] = [](const Value& v, CallArgs&, CallContext& ctx) -> Result<Value> {
    STRATA_ASSIGN(ValueList items, items_of(ctx, v));
    return Value(std::move(items));
  };
  f["map"] = do_map;
  f["max"] = [](const Value& v, CallArgs& args, CallContext& ctx) { return min_max(v, args, ctx, true); };
  f["min"] = [](const Value& v, CallArgs& args, CallContext& ctx) { return min_max(v, args, ctx, false); };
  f["select"] = selector(false, true);
  f["reject"] = selector(false, false);
  f["selectattr"] = selector(true, true);
  f["rejectattr"] = selector(true, false);
  f["reverse"] = [](const Value& v, CallArgs&, CallContext& ctx) -> Result<Value> {
    STRATA_ASSIGN(ValueList items, items_of(ctx, v));
    std::reverse(items.begin(), items.end());
    if (v.is_string()) {
      std::string s;
      for (const auto& c : items) s += c.as_string();
      return Value(std::move(s));
    }
    return Value(std::move(items));
  };
  f["slice"] = do_slice;
  f["sort"] = do_sort;
  f["sum"] = do_sum;
  f["unique"] = do_unique;
  f["items"] = [](const Value& v, CallArgs&, CallContext& ctx) -> Result<Value> {
    if (v.is_undefined()) return Value(ValueList{});
    if (!v.is_dict()) return ctx.error("Can only get item pairs from a mapping.");
    ValueList out;
    for (const auto& [k, val] : v.as_dict().entries()) out.push_back(Value::tuple({k, val}));
    return Value(std::move(out));
  };
}

}  // namespace strata::jinja::detail
