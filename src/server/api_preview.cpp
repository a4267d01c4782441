// Data preview: the relations of a warehouse schema and the first rows of one, read-only. Names
// must exist in the warehouse's catalog and are quoted through its dialect.
#include "server/api.h"

namespace strata::server {
namespace {

constexpr size_t kMaxName = 255;

Result<std::unique_ptr<warehouse::Warehouse>> connect(Api& api) {
  if (!api.ctx.warehouse)
    return Error(ErrorCode::kConnection, "this server has no warehouse to preview", {},
                 "configure a DuckDB target in profiles.yml");
  STRATA_ASSIGN(warehouse::Database * db, api.ctx.warehouse());
  return db->connect();
}

Status check_name(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() > kMaxName || name.find('\0') != std::string::npos)
    return Error(ErrorCode::kUsage, "invalid " + what + " name", {}, "use a name from GET /api/v1/relations/{schema}");
  return ok_status();
}

Result<std::vector<warehouse::RelationInfo>> relations_of(warehouse::Warehouse& wh, const std::string& schema) {
  STRATA_TRY(check_name("schema", schema));
  STRATA_ASSIGN(auto list, wh.relations(schema));
  if (list.empty())
    return Error(ErrorCode::kNotFound, "the warehouse has no schema '" + schema + "' (or it is empty)", {},
                 "GET /api/v1/dbt/graph shows the schemas of the project's models");
  return list;
}

}  // namespace

void add_preview_routes(Routes& routes, Api& api) {
  routes.get(R"(/api/v1/relations/([^/]+))", [&api](const httplib::Request& req) -> ApiResult {
    const std::string schema = capture(req, 1);
    STRATA_ASSIGN(auto wh, connect(api));
    STRATA_ASSIGN(auto list, relations_of(*wh, schema));
    Json out = Json::array();
    for (const auto& r : list)
      out.push_back({{"name", r.relation.name}, {"kind", r.kind == warehouse::RelationKind::kView ? "view" : "table"}});
    return Reply{{{"schema", schema}, {"relations", out}}};
  });
  routes.get(R"(/api/v1/relations/([^/]+)/([^/]+)/preview)", [&api](const httplib::Request& req) -> ApiResult {
    const std::string schema = capture(req, 1), name = capture(req, 2);
    STRATA_ASSIGN(int limit, int_param(req, "limit", 100, 1, 100));
    STRATA_TRY(check_name("relation", name));
    STRATA_ASSIGN(auto wh, connect(api));
    STRATA_ASSIGN(auto list, relations_of(*wh, schema));
    const warehouse::RelationInfo* found = nullptr;
    for (const auto& r : list)
      if (r.relation.name == name) found = &r;
    if (!found)
      return Error(ErrorCode::kNotFound, "schema '" + schema + "' has no relation '" + name + "'", {},
                   "GET /api/v1/relations/" + schema + " lists them");
    const sql::Dialect& dialect = wh->dialect();
    const std::string sql = "SELECT * FROM " + dialect.qualify(found->relation.database, schema, name) + " LIMIT " +
                            std::to_string(limit);
    STRATA_ASSIGN(auto result, wh->query(sql));
    Json columns = Json::array();
    for (size_t c = 0; c < result.schema.size(); ++c)
      columns.push_back({{"name", result.schema[c].name}, {"type", result.schema[c].type.to_string()}});
    Json rows = Json::array();
    for (size_t r = 0; r < result.num_rows(); ++r) {
      Json row = Json::array();
      for (size_t c = 0; c < result.schema.size(); ++c)
        row.push_back(result.is_null(r, c) ? Json(nullptr) : Json(api.mask(result.cell_text(r, c))));
      rows.push_back(std::move(row));
    }
    return Reply{{{"schema", schema}, {"relation", name}, {"columns", columns}, {"rows", rows},
                  {"row_count", result.num_rows()}, {"limit", limit}}};
  });
}

}  // namespace strata::server
