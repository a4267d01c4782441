#include "transform/relations.h"

#include "common/parallel.h"
#include "common/strings.h"

namespace strata::transform {

namespace {

std::string json_text(const Json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

Result<std::string> name_via(const NameMacro& user_macro, const std::string& macro, const Json& custom,
                             const Node& node, const std::function<std::string()>& fallback) {
  if (user_macro) {
    STRATA_ASSIGN(auto out, user_macro(macro, custom, node));
    if (out) return std::string(trim(*out));
  }
  return fallback();
}

}  // namespace

std::string default_schema_name(const TargetInfo& target, const Json& custom) {
  std::string c = json_text(custom);
  if (c.empty()) return target.schema;
  return target.schema + "_" + std::string(trim(c));
}

namespace {

// Fills node n's database, schema, alias and relation_name.
Status resolve_node(Node& n, const TargetInfo& target, const sql::Dialect& dialect, const NameMacro& user_macro) {
  if (n.resource_type == ResourceType::kSource) {
    if (n.database.empty()) n.database = target.database;
    n.relation_name = dialect.qualify(n.database, n.schema, n.identifier);
    return ok_status();
  }
  const Json& cfg = n.config;
  Json custom_db = cfg.value("database", Json(nullptr));
  STRATA_ASSIGN(n.database, name_via(user_macro, "generate_database_name", custom_db, n, [&] {
                  std::string c = json_text(custom_db);
                  return c.empty() ? target.database : c;
                }));
  if (n.resource_type == ResourceType::kSnapshot && cfg.contains("target_schema") &&
      cfg["target_schema"].is_string()) {
    n.schema = cfg["target_schema"].get<std::string>();
    if (cfg.contains("target_database") && cfg["target_database"].is_string())
      n.database = cfg["target_database"].get<std::string>();
  } else {
    Json custom = n.is_test() ? cfg.value("schema", Json("dbt_test__audit")) : cfg.value("schema", Json(nullptr));
    if (custom.is_null() && n.is_test()) custom = "dbt_test__audit";
    STRATA_ASSIGN(n.schema, name_via(user_macro, "generate_schema_name", custom, n,
                                     [&] { return default_schema_name(target, custom); }));
  }
  Json custom_alias = cfg.value("alias", Json(nullptr));
  STRATA_ASSIGN(n.alias, name_via(user_macro, "generate_alias_name", custom_alias, n, [&] {
                  std::string c = json_text(custom_alias);
                  return c.empty() ? n.name : c;
                }));
  n.relation_name = dialect.qualify(n.database, n.schema, n.alias);
  return ok_status();
}

}  // namespace

Status resolve_relations(Graph& graph, const TargetInfo& target, const sql::Dialect& dialect,
                         const NameMacro& user_macro) {
  if (user_macro) {
    // A user macro may look at other nodes through the graph: one node at a time.
    for (size_t i = 0; i < graph.size(); ++i) STRATA_TRY(resolve_node(graph.mutable_node(i), target, dialect, user_macro));
    return ok_status();
  }
  // dbt's default names depend on the node alone: large projects resolve on a few threads.
  return parallel_for_status(graph.size(),
                             [&](size_t i) { return resolve_node(graph.mutable_node(i), target, dialect, {}); });
}

}  // namespace strata::transform
