#pragma once
// Where each node lives in the warehouse: database, schema and alias, decided as dbt decides them
// (generate_database_name / generate_schema_name / generate_alias_name; the defaults are dbt's:
// a custom schema becomes `<target_schema>_<custom>`), and the quoted relation name.

#include <functional>
#include <string>

#include "common/result.h"
#include "sql/dialect.h"
#include "transform/graph.h"

namespace strata::transform {

// The target of a run, as the Jinja `target` variable shows it.
struct TargetInfo {
  std::string name = "dev";
  std::string type = "duckdb";
  std::string profile_name;
  std::string database;   // DuckDB: the catalog (file stem); may be empty
  std::string schema = "main";
  int threads = 1;
};

// Calls a user macro (generate_schema_name...) with (custom value or none, node) and returns its
// output trimmed; nullopt when the project does not define the macro.
using NameMacro = std::function<Result<std::optional<std::string>>(const std::string& macro, const Json& custom,
                                                                   const Node& node)>;

// dbt's default generate_schema_name: none → target.schema, else target.schema + "_" + custom.
std::string default_schema_name(const TargetInfo& target, const Json& custom);

// Fills database, schema, alias and relation_name of every node. `user_macro` may be null (the
// project overrides none of the generate_*_name macros); then nodes are resolved on a few threads.
// Errors: those of the user macros (the first in node order).
Status resolve_relations(Graph& graph, const TargetInfo& target, const sql::Dialect& dialect,
                         const NameMacro& user_macro);

}  // namespace strata::transform
