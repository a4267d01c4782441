#pragma once
// The dbt Jinja context on the jinja engine, and compilation of nodes to SQL: ref, source,
// config, var, env_var, this, target, model, is_incremental(), execute, log, print, exceptions,
// fromjson/tojson/fromyaml/toyaml, run_started_at, invocation_id, adapter (quote, type,
// get_relation, get_columns_in_relation, dispatch), statement/load_result, run_query; project
// macros (overriding built-ins such as generate_schema_name and test macros); ephemeral models
// inlined as CTEs.
//
// Thread-safety: after create(), compile()/render() may run concurrently on many threads, each
// with its own RenderOptions (and warehouse session). The Graph must outlive the Compiler and
// must not change while renders run.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/log.h"
#include "common/result.h"
#include "transform/graph.h"
#include "transform/relations.h"

namespace strata::warehouse {
class Warehouse;
}

namespace strata::transform {

struct CompilerOptions {
  TargetInfo target;
  Json cli_vars = Json::object();   // --vars
  EnvLookup env;
  std::string invocation_id;
  std::string run_started_at;       // ISO 8601
  Logger logger;
  Json flags = Json::object();      // dbt's `flags` (FULL_REFRESH, WHICH...), by upper-case name
  // --empty: ref() and source() render as a subquery reading no rows (`where false limit 0`), as
  // dbt's, so models build with their columns and no data.
  bool empty = false;
};

// A microbatch model's batch: [start, end) as UTC timestamp literals ("2024-01-31 00:00:00"), and
// its id as dbt's (the start as 20240131, or 2024013105 for hourly batches).
struct EventTimeWindow {
  std::string start, end, id;
};

// One render: which node, whether SQL may run (execute), whether the model is incremental now,
// and the warehouse session for run_query/adapter calls (null → those fail when executed).
struct RenderOptions {
  bool execute = true;
  bool is_incremental = false;
  warehouse::Warehouse* warehouse = nullptr;
  // More variables for this render, by name (on-run-end's `results`, `schemas`...); may be null.
  const Json* variables = nullptr;
  // A microbatch model's batch (may be null): ref() and source() of a node with an `event_time`
  // config then read only its rows of the batch, as dbt's event-time filters.
  const EventTimeWindow* batch = nullptr;
  // A unit test's inputs (may be null): ref() and source() of these nodes (by unique id) render
  // as the given query instead of their relation.
  const std::map<std::string, std::string>* fixtures = nullptr;
  // A unit test's `overrides` (may be null): its `vars` and `env_vars` win over var() and
  // env_var()'s own values.
  const Json* overrides = nullptr;
};

// What a parse-mode render found (dbt parses by rendering with execute=False).
struct ParseCapture {
  std::vector<RefCall> refs;
  std::vector<SourceCall> sources;
  Json config = Json::object();
};

class Compiler {
 public:
  // Loads every project macro file into a Jinja environment. Errors: Jinja syntax errors in
  // macro files (kConfig, located).
  static Result<std::unique_ptr<Compiler>> create(const Graph& graph, CompilerOptions options);
  ~Compiler();

  // Renders the nodes the static scan could not read exactly with execute=False and records the
  // refs, sources and configs found; then re-links the graph. Errors: Jinja errors (located).
  Status parse_render(Graph& graph);

  // A NameMacro calling the project's generate_*_name macros; empty when the project defines none
  // of them (resolve_relations then uses dbt's defaults on a few threads).
  NameMacro name_macro();

  // Whether the project's macro files define a macro named `name`.
  bool has_macro(const std::string& name) const;
  // How a template calls the macro `name` ("macro" or "package.macro", as `dbt run-operation`
  // takes it): the root project's, else an installed package's (by package name order), else
  // dbt's built-in; nullopt when there is none.
  std::optional<std::string> macro_call(const std::string& name) const;

  // The compiled SQL of node i: rendered with ref/source resolved, ephemeral parents injected as
  // CTEs. For generic tests, the test query. Errors: Jinja errors (kConfig, located at the node).
  Result<std::string> compile(size_t i, const RenderOptions& options);

  // Renders any text (a hook, `compile --inline`) in the context of node i (npos: no node).
  Result<std::string> render(const std::string& text, size_t i, const RenderOptions& options,
                             const std::string& name = "<inline>");

  // The test query wrapped as dbt does: one row with failures, should_warn, should_error.
  Result<std::string> test_summary_sql(size_t i, const std::string& compiled) const;

  const Graph& graph() const;

  // Simple models (text + literal ref/source/config) and built-in generic tests compile without
  // the Jinja engine, to the same SQL (on by default). false → always render through Jinja (used
  // by tests comparing both). Call before compiling starts.
  void set_fast_paths(bool enabled);

 private:
  struct Impl;
  explicit Compiler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Injects `with __dbt__cte__x as (...)` CTEs in front of a query (merging with a leading WITH).
std::string inject_ctes(const std::string& sql, const std::vector<std::pair<std::string, std::string>>& ctes);

}  // namespace strata::transform
