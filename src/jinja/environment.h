#pragma once
// jinja::Environment — options, globals, filters, tests, a loader and host-registered block tags;
// parses sources into Templates. jinja::Context — the variables of one render. jinja::CallContext —
// what a C++ function/filter/test sees while a template calls it.
//
// Thread-safety: configure an Environment (add_* / set_loader) before sharing it; afterwards
// parse(), get_template() and rendering are safe from many threads at once. Copies of an
// Environment share the same state (it is a handle); Templates keep that state alive.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "jinja/value.h"

namespace strata::jinja {

class Environment;
class Template;
struct EnvironmentState;

// How undefined values behave when used (printed, iterated, compared, called...).
enum class UndefinedMode {
  kLenient,  // Jinja2's default Undefined: prints "", iterates empty, falsy.
  kStrict,   // StrictUndefined: any use except `is defined`/`default` is an error.
};

struct Options {
  bool trim_blocks = false;            // drop the first newline after a block tag
  bool lstrip_blocks = false;          // strip spaces/tabs before a block tag at line start
  bool keep_trailing_newline = false;  // keep a single trailing newline of the source
  UndefinedMode undefined = UndefinedMode::kLenient;
  int max_depth = 256;                 // nesting limit for parsing and for macro/include recursion
};

// The variables of one render: a map plus an optional shared parent (so a large set of variables,
// e.g. every dbt macro, is shared between renders instead of copied). Lookup: own map, then parent.
// Thread-safety: read-only while a render uses it.
class Context {
 public:
  Context() = default;
  explicit Context(std::shared_ptr<const Context> parent) : parent_(std::move(parent)) {}
  // A context from a JSON object; an error when `json` is not an object.
  static Result<Context> from_json(const nlohmann::json& json);
  // Same, keeping the JSON objects' key order in dicts.
  static Result<Context> from_json(const nlohmann::ordered_json& json);

  void set(std::string name, Value value);
  // The variable, or nullptr.
  const Value* find(std::string_view name) const { return find(HashedName(name)); }
  const Value* find(const HashedName& name) const;
  // Opaque pointer the host may set to reach per-render state from its C++ functions
  // (CallContext::user_data). Not owned.
  void* user_data = nullptr;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    std::size_t operator()(const HashedName& n) const { return n.hash; }
  };
  std::unordered_map<std::string, Value, Hash, std::equal_to<>> vars_;
  std::shared_ptr<const Context> parent_;
};

// What a C++ function, filter or test receives during a render. Valid only during that call.
class CallContext {
 public:
  virtual ~CallContext() = default;
  // Resolves a name as the template would at this point: locals, the render's Context, then the
  // environment's globals. Undefined when unknown.
  virtual Value lookup(std::string_view name) const = 0;
  // Calls a callable Value (a macro or function) with arguments, as `{{ fn(...) }}` would.
  virtual Result<Value> call(const Value& callee, CallArgs args) = 0;
  virtual const Environment& environment() const = 0;
  // Where in which template the current call is.
  virtual SourceLocation location() const = 0;
  // Context::user_data of the render.
  virtual void* user_data() const = 0;
  // An error located at the current call (use for messages in Jinja2's words).
  Error error(std::string message) const { return Error(ErrorCode::kFailed, std::move(message), location()); }
};

// `value | name(args)`.
using FilterFunction = std::function<Result<Value>(const Value& input, CallArgs& args, CallContext& context)>;
// `value is name(args)`.
using TestFunction = std::function<Result<bool>(const Value& input, CallArgs& args, CallContext& context)>;

// Finds template sources by name for include/import/from-import and Environment::get_template.
// Implementations must be thread-safe.
class Loader {
 public:
  virtual ~Loader() = default;
  // The source of template `name`; an Error with ErrorCode::kNotFound when there is none.
  virtual Result<std::string> load(const std::string& name) const = 0;
};

// Templates held in memory, by name.
class MapLoader : public Loader {
 public:
  explicit MapLoader(std::unordered_map<std::string, std::string> sources) : sources_(std::move(sources)) {}
  Result<std::string> load(const std::string& name) const override;

 private:
  std::unordered_map<std::string, std::string> sources_;
};

// Templates read from files under one or more folders (searched in order). Names containing ".."
// segments are refused.
class FileSystemLoader : public Loader {
 public:
  explicit FileSystemLoader(std::vector<std::string> folders) : folders_(std::move(folders)) {}
  Result<std::string> load(const std::string& name) const override;

 private:
  std::vector<std::string> folders_;
};

// The header of a host-registered block tag: `{% tag name(params), arg, key=value %}`.
// Arguments must be constants (literals, lists, dicts); a bare name is given as its string.
struct TagHeader {
  std::string tag;                    // "materialization"
  std::string name;                   // "incremental"
  std::vector<std::string> params;    // names inside parentheses (macro-like tags)
  ValueList args;                     // positional arguments after the name: `default`
  std::vector<std::pair<std::string, Value>> kwargs;  // `adapter='duckdb'`
  SourceLocation where;
};

// One use of a host-registered tag in a template, in source order.
struct CustomBlock {
  TagHeader header;
  std::string raw_body;                          // the exact source text between the tags
  std::shared_ptr<const Template> body;          // kBody: the body parsed as a template
  std::string macro_name;                        // kMacro: the macro it defines
};

// A block tag registered by the host, closed by `end<name>`.
struct CustomTag {
  enum class Kind {
    // Defines a macro like `{% macro %}`: `{% test not_null(model, column_name) %}` defines
    // `test_not_null(model, column_name)`. The macro's name is macro_name(header) when set,
    // else macro_prefix + header.name.
    kMacro,
    // The body is parsed as a template and kept (CustomBlock::body) for the host to render later
    // (dbt's snapshot). Rendering the enclosing template outputs on_render's result, or nothing.
    kBody,
    // The body is kept as raw text, not parsed (dbt's docs).
    kRawBody,
  };
  std::string name;
  Kind kind = Kind::kMacro;
  std::string macro_prefix;
  std::function<Result<std::string>(const TagHeader&)> macro_name;
  std::function<Result<std::string>(const CustomBlock&, CallContext&)> on_render;
};

// An environment made with Options owns its state: destroying it drops the globals and the cached
// templates, which would otherwise keep the state alive through the templates and macros that point
// back at it. Templates that outlive their environment still render, without those. Movable, not
// copyable; a handle made from existing state owns nothing.
class Environment {
 public:
  explicit Environment(Options options = {});
  // A handle on existing state (used by the engine to hand CallContext::environment()).
  explicit Environment(std::shared_ptr<EnvironmentState> state) : state_(std::move(state)) {}
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  Environment(Environment&& other) noexcept : state_(std::move(other.state_)), owner_(other.owner_) {
    other.owner_ = false;
  }
  Environment& operator=(Environment&& other) noexcept;

  const Options& options() const;
  // Registers a global variable/function/filter/test; replaces an existing one of the same name.
  void add_global(std::string name, Value value);
  // Drops every global and cached template now (see the class comment). Not while a render runs.
  void clear();
  void add_function(std::string name, NativeFunction fn);
  void add_filter(std::string name, FilterFunction fn);
  void add_test(std::string name, TestFunction fn);
  void add_tag(CustomTag tag);
  void set_loader(std::shared_ptr<const Loader> loader);

  // Parses a source. Errors (TemplateSyntaxError in Jinja2's words) carry name, line and column.
  Result<std::shared_ptr<const Template>> parse(std::string_view source, std::string name = "<template>") const;
  // Loads (through the loader) and parses a template, cached by name. Thread-safe.
  Result<std::shared_ptr<const Template>> get_template(const std::string& name) const;
  // Convenience: parse + render.
  Result<std::string> render(std::string_view source, const Context& context, std::string name = "<template>") const;

  // Lookups used by the engine; nullptr when unknown.
  const Value* global(std::string_view name) const;
  const FilterFunction* filter(std::string_view name) const;
  const TestFunction* test(std::string_view name) const;
  const CustomTag* tag(std::string_view name) const;

  const std::shared_ptr<EnvironmentState>& state() const { return state_; }

 private:
  std::shared_ptr<EnvironmentState> state_;
  bool owner_ = false;
};

}  // namespace strata::jinja
