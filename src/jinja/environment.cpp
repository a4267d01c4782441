#include "jinja/environment.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "jinja/lexer.h"
#include "jinja/parser.h"
#include "jinja/renderer.h"
#include "jinja/template.h"

namespace strata::jinja {

namespace detail {
Value make_namespace(const CallArgs& args);
}

namespace {

constexpr std::int64_t kMaxRange = 1000000;

Result<Value> builtin_range(CallArgs& args, CallContext& ctx) {
  std::int64_t start = 0, stop = 0, step = 1;
  for (const auto& v : args.positional)
    if (!v.is_int() && !v.is_bool())
      return ctx.error("'" + v.type_name() + "' object cannot be interpreted as an integer");
  if (args.positional.size() == 1) {
    stop = args.positional[0].as_int();
  } else if (args.positional.size() == 2 || args.positional.size() == 3) {
    start = args.positional[0].as_int();
    stop = args.positional[1].as_int();
    if (args.positional.size() == 3) step = args.positional[2].as_int();
  } else {
    return ctx.error("range expected at most 3 arguments, got " + std::to_string(args.positional.size()));
  }
  if (step == 0) return ctx.error("range() arg 3 must not be zero");
  ValueList out;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop;) {
    if (static_cast<std::int64_t>(out.size()) >= kMaxRange)
      return ctx.error("range too big, maximum size for range is " + std::to_string(kMaxRange));
    out.emplace_back(i);
    if (__builtin_add_overflow(i, step, &i)) break;
  }
  return Value(std::move(out));
}

Result<Value> builtin_dict(CallArgs& args, CallContext& ctx) {
  Dict d;
  for (const auto& v : args.positional) {
    if (v.is_dict()) {
      for (const auto& [k, val] : v.as_dict().entries()) d.set(k, val);
    } else if (v.is_sequence()) {
      for (const auto& pair : v.as_list()) {
        if (!pair.is_sequence() || pair.as_list().size() != 2)
          return ctx.error("dictionary update sequence element has wrong length");
        d.set(pair.as_list()[0], pair.as_list()[1]);
      }
    } else {
      return ctx.error("'" + v.type_name() + "' is not iterable");
    }
  }
  for (const auto& [k, v] : args.keyword) d.set(Value(k), v);
  return Value(std::move(d));
}

class Cycler final : public Object {
 public:
  explicit Cycler(ValueList items) : items_(std::move(items)) {}
  std::string type_name() const override { return "Cycler"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "current") return items_.empty() ? Value::none() : items_[pos_ % items_.size()];
    return std::nullopt;
  }
  Result<Value> call_method(std::string_view name, CallArgs& args, CallContext& ctx) const override {
    if (name == "next") {
      if (items_.empty()) return Value::none();
      Value v = items_[pos_ % items_.size()];
      pos_ = (pos_ + 1) % items_.size();
      return v;
    }
    if (name == "reset") {
      pos_ = 0;
      return Value::none();
    }
    return Object::call_method(name, args, ctx);
  }

 private:
  ValueList items_;
  mutable std::size_t pos_ = 0;
};

class Joiner final : public Object {
 public:
  explicit Joiner(std::string sep) : sep_(std::move(sep)) {}
  std::string type_name() const override { return "Joiner"; }
  Result<Value> call(CallArgs&, CallContext&) const override {
    if (!used_) {
      used_ = true;
      return Value(std::string());
    }
    return Value(sep_);
  }

 private:
  std::string sep_;
  mutable bool used_ = false;
};

void register_globals(EnvironmentState& state) {
  state.globals["range"] = make_function("range", builtin_range);
  state.globals["dict"] = make_function("dict", builtin_dict);
  state.globals["namespace"] = make_function("namespace", [](CallArgs& args, CallContext&) -> Result<Value> {
    return detail::make_namespace(args);
  });
  state.globals["cycler"] = make_function("cycler", [](CallArgs& args, CallContext&) -> Result<Value> {
    return Value::object(std::make_shared<Cycler>(args.positional));
  });
  state.globals["joiner"] = make_function("joiner", [](CallArgs& args, CallContext&) -> Result<Value> {
    return Value::object(std::make_shared<Joiner>(args.get_or(0, "sep", Value(", ")).to_string()));
  });
  // dbt's extension: a macro's call evaluates to the returned value instead of its text.
  state.globals["return"] = make_function("return", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    auto* r = dynamic_cast<detail::Renderer*>(&ctx);
    if (!r) return ctx.error("return() called outside a render");
    r->returning = true;
    r->return_value = args.positional.empty() ? Value::none() : args.positional[0];
    return Value(std::string());
  });
}

std::string normalize_source(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

// ---- Context

namespace {
template <typename Json>
Result<Context> context_from_json(const Json& json) {
  if (!json.is_object()) return Error(ErrorCode::kConfig, "the context must be a JSON object");
  Context ctx;
  for (const auto& [k, v] : json.items()) ctx.set(k, Value::from_json(v));
  return ctx;
}
}  // namespace

Result<Context> Context::from_json(const nlohmann::json& json) { return context_from_json(json); }
Result<Context> Context::from_json(const nlohmann::ordered_json& json) { return context_from_json(json); }

void Context::set(std::string name, Value value) { vars_[std::move(name)] = std::move(value); }

const Value* Context::find(const HashedName& name) const {
  auto it = vars_.find(name);
  if (it != vars_.end()) return &it->second;
  return parent_ ? parent_->find(name) : nullptr;
}

// ---- Loaders

Result<std::string> MapLoader::load(const std::string& name) const {
  auto it = sources_.find(name);
  if (it == sources_.end()) return Error(ErrorCode::kNotFound, "template '" + name + "' not found");
  return it->second;
}

Result<std::string> FileSystemLoader::load(const std::string& name) const {
  std::string segment;
  std::istringstream parts(name);
  while (std::getline(parts, segment, '/'))
    if (segment == "..") return Error(ErrorCode::kNotFound, "template '" + name + "' not found (\"..\" is not allowed)");
  for (const auto& folder : folders_) {
    std::ifstream in(folder + "/" + name, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  return Error(ErrorCode::kNotFound, "template '" + name + "' not found");
}

// ---- Environment

void Environment::clear() {
  if (!state_) return;
  state_->globals.clear();
  std::lock_guard<std::mutex> lock(state_->cache_mutex);
  state_->cache.clear();
}

Environment::~Environment() {
  if (owner_) clear();
}

Environment& Environment::operator=(Environment&& other) noexcept {
  if (this == &other) return *this;
  if (owner_) clear();
  state_ = std::move(other.state_);
  owner_ = other.owner_;
  other.owner_ = false;
  return *this;
}

Environment::Environment(Options options) : state_(std::make_shared<EnvironmentState>()), owner_(true) {
  state_->options = options;
  register_globals(*state_);
  detail::register_builtin_filters(*state_);
  detail::register_builtin_tests(*state_);
}

const Options& Environment::options() const { return state_->options; }
void Environment::add_global(std::string name, Value value) { state_->globals[std::move(name)] = std::move(value); }
void Environment::add_function(std::string name, NativeFunction fn) {
  Value v = make_function(name, std::move(fn));
  state_->globals[std::move(name)] = std::move(v);
}
void Environment::add_filter(std::string name, FilterFunction fn) { state_->filters[std::move(name)] = std::move(fn); }
void Environment::add_test(std::string name, TestFunction fn) { state_->tests[std::move(name)] = std::move(fn); }
void Environment::add_tag(CustomTag tag) {
  std::string name = tag.name;
  state_->tags[std::move(name)] = std::move(tag);
}
void Environment::set_loader(std::shared_ptr<const Loader> loader) { state_->loader = std::move(loader); }

Result<std::shared_ptr<const Template>> Environment::parse(std::string_view source, std::string name) const {
  std::string text = normalize_source(source, state_->options.keep_trailing_newline);
  std::unordered_set<std::string> raw_tags{"raw"};
  for (const auto& [tag_name, tag] : state_->tags)
    if (tag.kind == CustomTag::Kind::kRawBody) raw_tags.insert(tag_name);
  STRATA_ASSIGN(auto tokens, detail::tokenize(text, state_->options, name, raw_tags));
  STRATA_ASSIGN(auto program, detail::parse_program(std::move(tokens), text, state_, name));
  return std::shared_ptr<const Template>(std::make_shared<Template>(state_, std::move(name), std::move(program)));
}

Result<std::shared_ptr<const Template>> Environment::get_template(const std::string& name) const {
  {
    std::lock_guard<std::mutex> lock(state_->cache_mutex);
    auto it = state_->cache.find(name);
    if (it != state_->cache.end()) return it->second;
  }
  if (!state_->loader) return Error(ErrorCode::kNotFound, "template '" + name + "' not found (no loader configured)");
  STRATA_ASSIGN(std::string source, state_->loader->load(name));
  STRATA_ASSIGN(auto tmpl, parse(source, name));
  std::lock_guard<std::mutex> lock(state_->cache_mutex);
  state_->cache[name] = tmpl;
  return tmpl;
}

Result<std::string> Environment::render(std::string_view source, const Context& context, std::string name) const {
  STRATA_ASSIGN(auto tmpl, parse(source, std::move(name)));
  return tmpl->render(context);
}

const Value* Environment::global(std::string_view name) const {
  auto it = state_->globals.find(name);
  return it == state_->globals.end() ? nullptr : &it->second;
}
const FilterFunction* Environment::filter(std::string_view name) const {
  auto it = state_->filters.find(name);
  return it == state_->filters.end() ? nullptr : &it->second;
}
const TestFunction* Environment::test(std::string_view name) const {
  auto it = state_->tests.find(name);
  return it == state_->tests.end() ? nullptr : &it->second;
}
const CustomTag* Environment::tag(std::string_view name) const {
  auto it = state_->tags.find(name);
  return it == state_->tags.end() ? nullptr : &it->second;
}

}  // namespace strata::jinja
