// dbt's `modules` context variable (modules.datetime and modules.re, the parts dbt projects use),
// the `run_started_at` datetime, and the `graph` variable.
#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <mutex>
#include <regex>

#include "common/strings.h"
#include "common/time.h"
#include "transform/compiler_internal.h"
#include "transform/parser.h"

namespace strata::transform::detail {

using jinja::CallArgs;
using jinja::CallContext;
using jinja::Value;

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t int_arg(const CallArgs& args, size_t pos, std::string_view name, int64_t fallback) {
  const Value* v = args.get(pos, name);
  return v && v->is_int() ? v->as_int() : fallback;
}

Value fn(std::string name, jinja::NativeFunction f) { return jinja::make_function(std::move(name), std::move(f)); }

// A Python datetime (naive, or UTC when `utc`) or date, as microseconds since 1970-01-01.
class DateTimeObject : public jinja::Object {
 public:
  DateTimeObject(int64_t micros, bool utc, bool date_only) : micros_(micros), utc_(utc), date_only_(date_only) {}
  std::string type_name() const override { return date_only_ ? "date" : "datetime"; }

  std::optional<Value> get_attr(std::string_view name) const override {
    int64_t days = floor_div(micros_, kMicrosPerDay);
    int64_t in_day = micros_ - days * kMicrosPerDay;
    int64_t y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(days, y, m, d);
    if (name == "year") return Value(y);
    if (name == "month") return Value(static_cast<int64_t>(m));
    if (name == "day") return Value(static_cast<int64_t>(d));
    if (name == "hour") return Value(in_day / (3600 * kMicrosPerSecond));
    if (name == "minute") return Value(in_day / (60 * kMicrosPerSecond) % 60);
    if (name == "second") return Value(in_day / kMicrosPerSecond % 60);
    if (name == "microsecond") return Value(in_day % kMicrosPerSecond);
    auto self = std::make_shared<DateTimeObject>(*this);
    if (name == "strftime")
      return fn("strftime", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
        const Value* f = args.get(0, "format");
        if (!f || !f->is_string()) return ctx.error("strftime() needs a format string");
        return Value(self->strftime(f->as_string()));
      });
    if (name == "isoformat")
      return fn("isoformat", [self](CallArgs&, CallContext&) -> Result<Value> { return Value(self->iso('T')); });
    if (name == "date")
      return fn("date", [self](CallArgs&, CallContext&) -> Result<Value> {
        return Value::object(std::make_shared<DateTimeObject>(
            floor_div(self->micros_, kMicrosPerDay) * kMicrosPerDay, false, true));
      });
    if (name == "timestamp")
      return fn("timestamp", [self](CallArgs&, CallContext&) -> Result<Value> {
        return Value(static_cast<double>(self->micros_) / 1e6);
      });
    if (name == "add" || name == "subtract")
      return fn(std::string(name), [self, sign = name == "add" ? 1 : -1](CallArgs& args, CallContext&) -> Result<Value> {
        int64_t delta = delta_micros(args, 0);
        return Value::object(std::make_shared<DateTimeObject>(self->micros_ + sign * delta, self->utc_, self->date_only_));
      });
    return std::nullopt;
  }

  std::string to_string() const override { return iso(' '); }

  // timedelta(...) keyword arguments starting at position `first`, in microseconds.
  static int64_t delta_micros(const CallArgs& args, size_t first) {
    auto num = [&](size_t pos, std::string_view key) -> double {
      const Value* v = args.get(pos, key);
      if (!v) return 0;
      if (v->is_int()) return static_cast<double>(v->as_int());
      return v->is_float() ? v->as_float() : 0;
    };
    double total = num(first, "days") * 86400 + num(first + 1, "seconds") + num(first + 2, "microseconds") / 1e6 +
                   num(first + 3, "milliseconds") / 1e3 + num(first + 4, "minutes") * 60 +
                   num(first + 5, "hours") * 3600 + num(first + 6, "weeks") * 7 * 86400;
    return static_cast<int64_t>(total * 1e6);
  }

 private:
  std::string iso(char sep) const {
    std::string out = strftime(date_only_ ? "%Y-%m-%d" : std::string("%Y-%m-%d") + sep + "%H:%M:%S");
    if (date_only_) return out;
    int64_t frac = micros_ - floor_div(micros_, kMicrosPerSecond) * kMicrosPerSecond;
    if (frac) out += fmt::format(".{:06d}", frac);
    if (utc_) out += "+00:00";
    return out;
  }

  std::string strftime(const std::string& format) const {
    int64_t secs = floor_div(micros_, kMicrosPerSecond);
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::string f = replace_all(format, "%f", fmt::format("{:06d}", micros_ - secs * kMicrosPerSecond));
    f = replace_all(f, "%z", utc_ ? "+0000" : "");
    f = replace_all(f, "%Z", utc_ ? "UTC" : "");
    char buf[512];
    size_t n = std::strftime(buf, sizeof buf, f.c_str(), &tm);
    return std::string(buf, n);
  }

  int64_t micros_;
  bool utc_;
  bool date_only_;
};

Value datetime_value(int64_t micros, bool utc, bool date_only = false) {
  return Value::object(std::make_shared<DateTimeObject>(micros, utc, date_only));
}

Result<int64_t> civil_micros(const CallArgs& args, CallContext& ctx, bool with_time) {
  int64_t y = int_arg(args, 0, "year", 0), m = int_arg(args, 1, "month", 0), d = int_arg(args, 2, "day", 0);
  if (m < 1 || m > 12 || d < 1 || d > 31) return ctx.error("month must be in 1..12 and day in 1..31");
  int64_t micros = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * kMicrosPerDay;
  if (with_time)
    micros += (int_arg(args, 3, "hour", 0) * 3600 + int_arg(args, 4, "minute", 0) * 60 + int_arg(args, 5, "second", 0)) *
                  kMicrosPerSecond +
              int_arg(args, 6, "microsecond", 0);
  return micros;
}

// modules.datetime.datetime / modules.datetime.date: constructors and class methods.
class DateTimeClass : public jinja::Object {
 public:
  explicit DateTimeClass(bool date_only) : date_only_(date_only) {}
  std::string type_name() const override { return date_only_ ? "date" : "datetime"; }
  Result<Value> call(CallArgs& args, CallContext& ctx) const override {
    STRATA_ASSIGN(int64_t micros, civil_micros(args, ctx, !date_only_));
    return datetime_value(micros, false, date_only_);
  }
  std::optional<Value> get_attr(std::string_view name) const override {
    bool date_only = date_only_;
    if (name == "now" || name == "utcnow" || name == "today")
      return fn(std::string(name), [date_only](CallArgs&, CallContext&) -> Result<Value> {
        int64_t now = now_micros();
        if (date_only) return datetime_value(floor_div(now, kMicrosPerDay) * kMicrosPerDay, false, true);
        return datetime_value(now, false);
      });
    if (name == "fromisoformat" || name == "strptime")
      return fn(std::string(name), [date_only](CallArgs& args, CallContext& ctx) -> Result<Value> {
        const Value* text = args.get(0, "date_string");
        if (!text || !text->is_string()) return ctx.error("needs a date string");
        std::string s = text->as_string();
        if (s.size() == 10) s += "T00:00:00";
        if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
        auto micros = parse_iso8601(s);
        if (!micros) return ctx.error("'" + text->as_string() + "' is not an ISO 8601 date/time");
        return datetime_value(*micros, false, date_only);
      });
    return std::nullopt;
  }

 private:
  bool date_only_;
};

// modules.re on std::regex (ECMAScript syntax, which covers the common Python patterns).
class MatchObject : public jinja::Object {
 public:
  MatchObject(std::vector<std::optional<std::string>> groups, int64_t start, int64_t end)
      : groups_(std::move(groups)), start_(start), end_(end) {}
  std::string type_name() const override { return "re.Match"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    auto self = std::make_shared<MatchObject>(*this);
    if (name == "group")
      return fn("group", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
        int64_t g = int_arg(args, 0, "group", 0);
        if (g < 0 || static_cast<size_t>(g) >= self->groups_.size()) return ctx.error("no such group");
        return self->groups_[g] ? Value(*self->groups_[g]) : Value::none();
      });
    if (name == "groups")
      return fn("groups", [self](CallArgs&, CallContext&) -> Result<Value> {
        jinja::ValueList out;
        for (size_t k = 1; k < self->groups_.size(); ++k)
          out.push_back(self->groups_[k] ? Value(*self->groups_[k]) : Value::none());
        return Value::tuple(std::move(out));
      });
    if (name == "start") return fn("start", [s = start_](CallArgs&, CallContext&) -> Result<Value> { return Value(s); });
    if (name == "end") return fn("end", [e = end_](CallArgs&, CallContext&) -> Result<Value> { return Value(e); });
    return std::nullopt;
  }
  std::string to_string() const override { return "<re.Match object>"; }

 private:
  std::vector<std::optional<std::string>> groups_;
  int64_t start_, end_;
};

constexpr int64_t kIgnoreCase = 2;

Result<std::regex> compile_regex(const std::string& pattern, int64_t flags, CallContext& ctx) {
  if (pattern.find("(?P") != std::string::npos)
    return ctx.error("modules.re: named groups (?P<name>...) are not supported; use a plain group");
  try {
    auto options = std::regex::ECMAScript;
    if (flags & kIgnoreCase) options |= std::regex::icase;
    return std::regex(pattern, options);
  } catch (const std::regex_error& e) {
    return ctx.error("modules.re: invalid pattern '" + pattern + "': " + e.what());
  }
}

Value match_value(const std::smatch& m, size_t offset) {
  std::vector<std::optional<std::string>> groups;
  for (size_t k = 0; k < m.size(); ++k)
    groups.push_back(m[k].matched ? std::optional<std::string>(m[k].str()) : std::nullopt);
  return Value::object(std::make_shared<MatchObject>(std::move(groups), static_cast<int64_t>(offset + m.position(0)),
                                                     static_cast<int64_t>(offset + m.position(0) + m.length(0))));
}

// Python replacement syntax (\1, \g<1>) → ECMAScript ($1).
std::string ecma_replacement(const std::string& repl) {
  std::string out;
  for (size_t i = 0; i < repl.size(); ++i) {
    if (repl[i] == '$') {
      out += "$$";
    } else if (repl[i] == '\\' && i + 1 < repl.size() && std::isdigit(static_cast<unsigned char>(repl[i + 1]))) {
      out += '$';
      out += repl[++i];
    } else if (repl.compare(i, 3, "\\g<") == 0 && repl.find('>', i) != std::string::npos) {
      size_t close = repl.find('>', i);
      out += "$" + repl.substr(i + 3, close - i - 3);
      i = close;
    } else {
      out += repl[i];
    }
  }
  return out;
}

// One re function; `pattern` fixed for compiled patterns (arguments then shift by one).
Value re_function(const std::string& name, std::optional<std::pair<std::string, int64_t>> compiled) {
  return fn(name, [name, compiled](CallArgs& args, CallContext& ctx) -> Result<Value> {
    size_t at = 0;
    std::string pattern;
    int64_t flags = 0;
    if (compiled) {
      std::tie(pattern, flags) = *compiled;
    } else {
      const Value* p = args.get(at++, "pattern");
      if (!p || !p->is_string()) return ctx.error("re." + name + "() needs a pattern string");
      pattern = p->as_string();
    }
    std::string repl;
    if (name == "sub") {
      const Value* r = args.get(at++, "repl");
      if (!r || !r->is_string()) return ctx.error("re.sub() needs a replacement string");
      repl = r->as_string();
    }
    const Value* s = args.get(at++, "string");
    if (!s) return ctx.error("re." + name + "() needs a string");
    std::string text = s->is_string() ? s->as_string() : s->to_string();
    if (!compiled) flags = int_arg(args, name == "sub" ? at + 1 : at, "flags", 0);
    STRATA_ASSIGN(std::regex re, compile_regex(pattern, flags, ctx));
    std::smatch m;
    if (name == "match") {
      if (std::regex_search(text, m, re, std::regex_constants::match_continuous)) return match_value(m, 0);
      return Value::none();
    }
    if (name == "fullmatch") {
      if (std::regex_match(text, m, re)) return match_value(m, 0);
      return Value::none();
    }
    if (name == "search") {
      if (std::regex_search(text, m, re)) return match_value(m, 0);
      return Value::none();
    }
    if (name == "sub") return Value(std::regex_replace(text, re, ecma_replacement(repl)));
    jinja::ValueList out;
    if (name == "findall") {
      for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
        if (it->size() == 1) {
          out.emplace_back(it->str(0));
        } else if (it->size() == 2) {
          out.emplace_back((*it)[1].str());
        } else {
          jinja::ValueList groups;
          for (size_t k = 1; k < it->size(); ++k) groups.emplace_back((*it)[k].str());
          out.push_back(Value::tuple(std::move(groups)));
        }
      }
      return Value(std::move(out));
    }
    // split
    size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
      out.emplace_back(text.substr(last, static_cast<size_t>(it->position(0)) - last));
      last = static_cast<size_t>(it->position(0) + it->length(0));
    }
    out.emplace_back(text.substr(last));
    return Value(std::move(out));
  });
}

class RegexObject : public jinja::Object {
 public:
  RegexObject(std::string pattern, int64_t flags) : pattern_(std::move(pattern)), flags_(flags) {}
  std::string type_name() const override { return "re.Pattern"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "pattern") return Value(pattern_);
    for (const char* f : {"match", "fullmatch", "search", "sub", "findall", "split"})
      if (name == f) return re_function(f, std::make_pair(pattern_, flags_));
    return std::nullopt;
  }

 private:
  std::string pattern_;
  int64_t flags_;
};

jinja::Dict re_module() {
  jinja::Dict re;
  for (const char* f : {"match", "fullmatch", "search", "sub", "findall", "split"}) re.set(f, re_function(f, {}));
  re.set("compile", fn("compile", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
           const Value* p = args.get(0, "pattern");
           if (!p || !p->is_string()) return ctx.error("re.compile() needs a pattern string");
           int64_t flags = int_arg(args, 1, "flags", 0);
           STRATA_TRY(compile_regex(p->as_string(), flags, ctx));
           return Value::object(std::make_shared<RegexObject>(p->as_string(), flags));
         }));
  re.set("I", Value(kIgnoreCase));
  re.set("IGNORECASE", Value(kIgnoreCase));
  re.set("escape", fn("escape", [](CallArgs& args, CallContext&) -> Result<Value> {
           std::string out;
           for (char c : args.get_or(0, "pattern", Value(std::string())).to_string()) {
             if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') out += '\\';
             out += c;
           }
           return Value(out);
         }));
  return re;
}

jinja::Dict datetime_module() {
  jinja::Dict dt;
  dt.set("datetime", Value::object(std::make_shared<DateTimeClass>(false)));
  dt.set("date", Value::object(std::make_shared<DateTimeClass>(true)));
  dt.set("timedelta", fn("timedelta", [](CallArgs& args, CallContext&) -> Result<Value> {
           // A timedelta prints as seconds; pass it to datetime.add()/subtract().
           jinja::Dict d;
           int64_t micros = DateTimeObject::delta_micros(args, 0);
           d.set("days", Value(floor_div(micros, kMicrosPerDay)));
           d.set("total_seconds", Value(static_cast<double>(micros) / 1e6));
           return Value(std::move(d));
         }));
  return dt;
}

// `graph`: nodes, sources (and empty exposures/metrics), built on first access and shared.
class GraphObject : public jinja::Object {
 public:
  GraphObject(const Graph& g, std::function<Value(const Node&)> node_value)
      : graph_(g), node_value_(std::move(node_value)) {}
  std::string type_name() const override { return "Graph"; }
  std::optional<Value> get_attr(std::string_view name) const override { return get_item(Value(std::string(name))); }
  std::optional<Value> get_item(const Value& key) const override {
    if (!key.is_string()) return std::nullopt;
    const std::string& k = key.as_string();
    if (k != "nodes" && k != "sources" && k != "exposures" && k != "metrics" && k != "groups" &&
        k != "semantic_models" && k != "saved_queries")
      return std::nullopt;
    std::call_once(built_, [this] {
      jinja::Dict nodes, sources;
      for (size_t i = 0; i < graph_.size(); ++i) {
        const Node& n = graph_.node(i);
        (n.resource_type == ResourceType::kSource ? sources : nodes).set(n.unique_id, node_value_(n));
      }
      nodes_ = Value(std::move(nodes));
      sources_ = Value(std::move(sources));
    });
    if (k == "nodes") return nodes_;
    if (k == "sources") return sources_;
    return Value(jinja::Dict{});
  }

 private:
  const Graph& graph_;
  std::function<Value(const Node&)> node_value_;
  mutable std::once_flag built_;
  mutable Value nodes_, sources_;
};

}  // namespace

Value modules_value() {
  jinja::Dict modules;
  modules.set("datetime", Value(datetime_module()));
  modules.set("re", Value(re_module()));
  return Value(std::move(modules));
}

void add_python_builtins(jinja::Environment& env) {
  // zip(a, b, ...): tuples of the i-th items, as long as the shortest sequence (Python's zip).
  env.add_function("zip", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    size_t shortest = args.positional.empty() ? 0 : static_cast<size_t>(-1);
    for (const auto& a : args.positional) {
      if (!a.is_sequence()) return ctx.error("zip() takes lists or tuples, got " + a.type_name());
      shortest = std::min(shortest, a.as_list().size());
    }
    jinja::ValueList out;
    for (size_t i = 0; i < shortest; ++i) {
      jinja::ValueList item;
      for (const auto& a : args.positional) item.push_back(a.as_list()[i]);
      out.push_back(Value::tuple(std::move(item)));
    }
    return Value(std::move(out));
  });
  // set(items): dbt's set() gives the distinct items; a list here (Jinja has no set), first-seen order.
  env.add_function("set", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    const Value* items = args.get(0, "value");
    if (!items || !items->is_sequence()) return ctx.error("set() takes a list or a tuple");
    jinja::ValueList out;
    for (const auto& v : items->as_list())
      if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return o == v; })) out.push_back(v);
    return Value(std::move(out));
  });
  env.add_function("local_md5", [](CallArgs& args, CallContext&) -> Result<Value> {
    return Value(md5_hex(arg_string(args, 0, "value")));
  });
}

Value run_started_at_value(const std::string& iso8601) {
  auto micros = parse_iso8601(iso8601);
  return datetime_value(micros ? *micros : now_micros(), true);
}

Value graph_value(const Graph& graph, std::function<Value(const Node&)> node_value) {
  return Value::object(std::make_shared<GraphObject>(graph, std::move(node_value)));
}

}  // namespace strata::transform::detail
