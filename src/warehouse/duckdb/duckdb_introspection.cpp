// DuckDbWarehouse::relations and ::columns, through information_schema and a prepared
// `SELECT * ... LIMIT 0` for the exact types; ::table_exists through a table description.
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace strata::warehouse {

using namespace duckdb_detail;

namespace {

// "'x'" or, when x is empty, the given SQL expression (e.g. current_schema()).
std::string literal_or(const sql::Dialect& d, const std::string& value, const char* fallback) {
  return value.empty() ? std::string(fallback) : d.quote_string(value);
}

}  // namespace

Result<std::vector<RelationInfo>> DuckDbWarehouse::relations(std::string_view schema) {
  const sql::Dialect& d = dialect();
  std::string sql =
      "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables "
      "WHERE table_catalog = current_database() AND table_schema = " +
      literal_or(d, std::string(schema), "current_schema()") + " ORDER BY table_name";
  STRATA_ASSIGN(QueryResult result, query(sql));
  std::vector<RelationInfo> out;
  for (size_t r = 0; r < result.num_rows(); ++r) {
    RelationInfo info;
    info.relation = {result.cell_text(r, 0), result.cell_text(r, 1), result.cell_text(r, 2)};
    info.kind = result.cell_text(r, 3) == "VIEW" ? RelationKind::kView : RelationKind::kTable;
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<ColumnInfo>> DuckDbWarehouse::columns(const Relation& relation) {
  const sql::Dialect& d = dialect();
  std::string sql =
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_catalog = " +
      literal_or(d, relation.database, "current_database()") +
      " AND table_schema = " + literal_or(d, relation.schema, "current_schema()") +
      " AND table_name = " + d.quote_string(relation.name) + " ORDER BY ordinal_position";
  STRATA_ASSIGN(QueryResult listed, query(sql));
  std::vector<ColumnInfo> out;
  if (listed.num_rows() == 0) return out;

  std::string probe = "SELECT * FROM " + qualified_name(d, relation) + " LIMIT 0";
  PreparedHandle prepared;
  if (duckdb_prepare(conn_.get(), probe.c_str(), prepared.out()) != DuckDBSuccess) {
    return Error(ErrorCode::kFailed, duckdb_prepare_error(prepared.get()));
  }
  idx_t n = duckdb_prepared_statement_column_count(prepared.get());
  for (size_t r = 0; r < listed.num_rows(); ++r) {
    ColumnInfo info;
    info.name = listed.cell_text(r, 0);
    info.native_type = listed.cell_text(r, 1);
    info.nullable = listed.cell_text(r, 2) != "NO";
    if (r < n) {
      LogicalTypeHandle t(duckdb_prepared_statement_column_logical_type(prepared.get(), r));
      info.type = describe_duckdb_type(t.get()).logical;
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<bool> DuckDbWarehouse::table_exists(const Relation& relation) {
  auto or_default = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  TableDescriptionHandle description;
  if (duckdb_table_description_create_ext(conn_.get(), or_default(relation.database), or_default(relation.schema),
                                          relation.name.c_str(), description.out()) == DuckDBSuccess) {
    return true;
  }
  const char* error = description ? duckdb_table_description_error(description.get()) : nullptr;
  const std::string message = error ? error : "";
  // DuckDB 1.4's answers for a missing table and for a view of that name.
  if (message.rfind("No table with that schema+name", 0) == 0 || message.ends_with("is not an table") ||
      message.ends_with("is not a table")) {
    return false;
  }
  return Error(ErrorCode::kFailed, "cannot look up table " + qualified_name(dialect(), relation) + ": " + message);
}

}  // namespace strata::warehouse
