#pragma once
// Internal to the compiler: host objects of the dbt Jinja context. Not a public API.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "jinja/environment.h"
#include "jinja/template.h"
#include "jinja/value.h"
#include "transform/compiler.h"

namespace strata::warehouse {
struct QueryResult;
}

namespace strata::transform::detail {

// dbt's built-in macros as Jinja sources: the generic tests (builtin_macros.cpp), dbt-core's
// cross-database utils and data types (builtin_utils_macros.cpp), its date macros
// (builtin_date_macros.cpp). No macro name is defined in two of them.
const char* builtin_macros_source();
const char* builtin_utils_macros_source();
const char* builtin_date_macros_source();

// A relation as templates see it: `{{ rel }}` prints the quoted name (an ephemeral model's, type
// "cte", its bare CTE name); attributes database, schema, identifier/name/table, type, is_table,
// is_view, is_cte, is_materialized_view, path. As dbt's BaseRelation it is a mapping whose
// get('metadata') is {"type": "<Adapter>Relation"} (dbt_utils' _is_relation checks that).
class RelationObject : public jinja::Object {
 public:
  // `empty`: the relation renders as a subquery of none of its rows (see CompilerOptions::empty).
  RelationObject(const sql::Dialect& dialect, std::string database, std::string schema, std::string identifier,
                 std::string type = "table", bool empty = false)
      : dialect_(dialect), database_(std::move(database)), schema_(std::move(schema)),
        identifier_(std::move(identifier)), type_(std::move(type)), empty_(empty) {}
  std::string type_name() const override { return "Relation"; }
  std::optional<jinja::Value> get_attr(std::string_view name) const override;
  std::string to_string() const override;
  bool is_mapping() const override { return true; }
  // rel['schema'], as the mapping dbt's relations are.
  std::optional<jinja::Value> get_item(const jinja::Value& key) const override {
    return key.is_string() ? get_attr(key.as_string()) : std::nullopt;
  }
  // Reads only the rows matching `where` (a microbatch's event-time filter).
  void set_filter(std::string where) { filter_ = std::move(where); }
  // Renders as `(query)` instead of the relation (a unit test's fixture).
  void set_replacement(std::string query) { replacement_ = std::move(query); }

  const sql::Dialect& dialect() const { return dialect_; }
  const std::string& database() const { return database_; }
  const std::string& schema() const { return schema_; }
  const std::string& identifier() const { return identifier_; }

 private:
  const sql::Dialect& dialect_;
  std::string database_, schema_, identifier_, type_;
  bool empty_ = false;
  std::string filter_, replacement_;
};

constexpr size_t kNoNode = static_cast<size_t>(-1);

// State of one render, reached through CallContext::user_data().
struct RenderState {
  size_t node = static_cast<size_t>(-1);
  RenderOptions options;
  bool parse_mode = false;
  ParseCapture capture;
  std::vector<size_t> ephemerals;  // ephemeral nodes referenced, in order
  std::map<std::string, jinja::Value> statements;
};

// The render state behind a call (the Context's user_data is always a RenderState).
inline RenderState& state_of(jinja::CallContext& ctx) { return *static_cast<RenderState*>(ctx.user_data()); }

// Argument `pos` / keyword `name` as text ("" when absent).
inline std::string arg_string(const jinja::CallArgs& args, size_t pos, std::string_view name) {
  const jinja::Value* v = args.get(pos, name);
  return v && v->is_string() ? v->as_string() : (v ? v->to_string() : std::string());
}

// A template value as JSON (ordered).
inline Result<Json> value_json(const jinja::Value& v) {
  auto j = v.to_json();
  if (!j.ok()) return std::move(j).error();
  return Json::parse(j->dump());
}

// The project's macros by namespace, as dbt's MacroNamespace holds them: each installed package's,
// the root project's (under its name) and dbt's built-ins (under "dbt"). Filled once by
// load_macros before any render; read-only afterwards (safe to share between threads).
struct MacroNamespaces {
  std::string root;                                                // the root project's name
  std::map<std::string, jinja::Dict> packages;                     // namespace → its macros
  std::map<std::string, std::vector<std::string>> search_orders;   // the root's `dispatch:` config
  // Non-root package → a Context holding that package's own macros (dbt's "local" namespace of its
  // nodes), whose parent is the shared base context.
  std::map<std::string, std::shared_ptr<const jinja::Context>> locals;

  // Macro `name` of namespace `package`; nullptr when none.
  const jinja::Value* find(const std::string& package, const std::string& name) const;
  // Macro `name` looked up by name alone, as dbt's macros_by_name: the root project's, then the
  // installed packages' (in name order), then dbt's.
  const jinja::Value* find_global(const std::string& name) const;
  // The namespaces adapter.dispatch searches for `macro_namespace` ("" when not given), as dbt's:
  // the root's `dispatch:` search_order for it; else [root, namespace] when the namespace is an
  // installed package or "dbt"; else [""] (a lookup by name alone).
  std::vector<std::string> dispatch_order(const std::string& macro_namespace) const;
};

// Loads dbt's built-in macros and the project's macro files into `env` and `ns`: built-ins and the
// root project's macros as globals (the root's override built-ins of the same name), each
// package's under its name (`dbt_utils.star`), dbt's under `dbt`, the root's under its name;
// `ns.locals` built on `base`. `root_macros` gets the names the root project defines. Errors:
// Jinja syntax errors in macro files (kConfig, located).
Status load_macros(jinja::Environment& env, const Graph& graph, const std::shared_ptr<const jinja::Context>& base,
                   MacroNamespaces& ns, std::unordered_set<std::string>& root_macros);

// dbt's prefix of an ephemeral model's CTE name.
inline constexpr const char* kEphemeralPrefix = "__dbt__cte__";

// A column as adapter.get_columns_in_relation and api.Column.create give it (dbt's Column): name,
// column, dtype, data_type, quoted, char_size, numeric_precision, numeric_scale; is_string(),
// is_number(), is_numeric(), is_integer(), is_float(), string_size() (context_columns.cpp).
// `native_type` is the warehouse's type name, e.g. "DECIMAL(18,2)" or "character varying(20)".
jinja::Value column_value(const sql::Dialect& dialect, const std::string& name, const std::string& native_type);
// The `api` context object: api.Relation.create(database, schema, identifier, type),
// api.Relation.add_ephemeral_prefix(name) and api.Column.create(name, dtype).
jinja::Value api_object(const sql::Dialect& dialect);

// The `config`, `exceptions` and `adapter` context objects (context_objects.cpp). The adapter's
// dispatch searches `namespaces`, which may be filled after this call (before any render).
jinja::Value config_object(const Graph& graph);
jinja::Value exceptions_object(Logger logger);
jinja::Value adapter_object(const sql::Dialect& dialect, std::string type,
                            std::shared_ptr<const MacroNamespaces> namespaces);

// A `ref(...)`, `source(...)` or `config(...)` call with literal arguments (fast_compile.cpp).
struct PlainCall {
  enum class Kind { kNone, kRef, kSource, kConfig } kind = Kind::kNone;
  RefCall ref;
  SourceCall source;
};
// Parses the inside of `{{ ... }}` as one such call; nullopt for anything else.
std::optional<PlainCall> parse_plain_call(std::string_view expr);

// A template split into text and calls: text, call, text, call, ..., text (the last part's call
// is kNone). config() calls are dropped (they print nothing).
struct PlainPart {
  std::string text;
  PlainCall call;
};
// nullopt unless the template is only SQL text plus {{ ref/source/config }} expressions with
// literal arguments (no {% %} tags, no CR). Applies Jinja's whitespace control and its removal of
// one trailing newline, so joining the parts gives what the Jinja engine renders.
std::optional<std::vector<PlainPart>> plain_template(std::string_view raw);

// The SQL of a built-in generic test (unique, not_null, accepted_values, relationships) exactly as
// the built-in macros render it, with `model` the tested relation text; `relation` resolves a
// "ref('x')"/"source('a','b')" argument to its relation text. nullopt → use the Jinja path.
std::optional<std::string> builtin_test_sql(
    const TestMetadata& meta, const std::string& model,
    const std::function<std::optional<std::string>(std::string_view)>& relation);

// `modules` (datetime, re), `run_started_at` as a UTC datetime object, and the lazily built
// `graph` variable (node_value gives each node's dict) — context_modules.cpp.
jinja::Value modules_value();
// dbt's Python helpers in the context: zip, set, local_md5.
void add_python_builtins(jinja::Environment& env);
jinja::Value run_started_at_value(const std::string& iso8601);
jinja::Value graph_value(const Graph& graph, std::function<jinja::Value(const Node&)> node_value);

// dbt's agate-like table (rows, columns, column_names; rows and columns by position or by name).
jinja::Value table_value(const std::vector<std::string>& names, const std::vector<std::vector<jinja::Value>>& rows);

// A query's result as run_query() and statement() give it: `table` as above, `data` the rows as
// tuples (load_result(...)['data']). Cells are typed as agate types them; without `fetch`, no rows.
struct AgateResult {
  jinja::Value table;
  jinja::Value data;
};
AgateResult agate_result(const warehouse::QueryResult& result, bool fetch);

}  // namespace strata::transform::detail
