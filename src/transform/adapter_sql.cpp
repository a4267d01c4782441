// The warehouse-specific pieces of the materializations' SQL (see adapter_sql.h).
#include "transform/adapter_sql.h"

namespace strata::transform::detail {

namespace {

const char* kind_word(warehouse::RelationKind kind) {
  return kind == warehouse::RelationKind::kView ? "view" : "table";
}

// `create [or replace] <kind> <relation> as (\n<query>\n)`: the query in parentheses on lines of
// its own, so a trailing `--` comment in it ends before the closing parenthesis.
std::string create_as(const std::string& verb, warehouse::RelationKind kind, const std::string& relation,
                      const std::string& query) {
  return verb + " " + kind_word(kind) + " " + relation + " as (\n" + query + "\n)";
}

// Warehouses with `create or replace` (DuckDB, BigQuery): a relation of the other kind is dropped
// first, the rest is one statement.
class CreateOrReplaceSql : public AdapterSql {
 public:
  DdlPlan replace_relation(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                           warehouse::RelationKind kind, const std::string& query) const override {
    DdlPlan plan;
    if (existing && *existing != kind)
      plan.statements.push_back(std::string("drop ") + kind_word(*existing) + " if exists " + relation);
    plan.statements.push_back(create_as("create or replace", kind, relation, query));
    return plan;
  }
  DdlPlan replace_with_table(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                             const std::string& columns) const override {
    DdlPlan plan;
    if (existing == warehouse::RelationKind::kView) plan.statements.push_back("drop view if exists " + relation);
    plan.statements.push_back("create or replace table " + relation + " (\n" + columns + "\n)");
    return plan;
  }
};

// `insert into <relation> (<columns>) select <columns> from (<query>)`, the names quoted by `dialect`.
std::string insert_with_columns(const sql::Dialect& dialect, const std::string& relation, const std::string& query,
                                const std::vector<std::string>& columns) {
  std::string names;
  for (const auto& c : columns) names += (names.empty() ? "" : ", ") + dialect.quote_identifier(c);
  return "insert into " + relation + " (" + names + ")\nselect " + names + " from (\n" + query +
         "\n) as dbt_insert_source";
}

class DuckDbSql final : public CreateOrReplaceSql {
 public:
  std::string insert_by_name(const std::string& relation, const std::string& query,
                             const std::vector<std::string>&) const override {
    return "insert into " + relation + " by name (\n" + query + "\n)";
  }
  bool insert_needs_columns() const override { return false; }
  std::string seed_type(SeedType type) const override {
    switch (type) {
      case SeedType::kInteger: return "integer";
      case SeedType::kFloat: return "double";
      case SeedType::kBoolean: return "boolean";
      case SeedType::kDate: return "date";
      case SeedType::kTimestamp: return "timestamp";
      case SeedType::kText: break;
    }
    return "varchar";
  }
};

class PostgresSql final : public AdapterSql {
 public:
  DdlPlan replace_relation(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                           warehouse::RelationKind kind, const std::string& query) const override {
    DdlPlan plan;
    plan.atomic = existing.has_value();
    if (existing) plan.statements.push_back(std::string("drop ") + kind_word(*existing) + " if exists " + relation + " cascade");
    plan.statements.push_back(create_as("create", kind, relation, query));
    return plan;
  }
  DdlPlan replace_with_table(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                             const std::string& columns) const override {
    DdlPlan plan;
    plan.atomic = existing.has_value();
    if (existing) plan.statements.push_back(std::string("drop ") + kind_word(*existing) + " if exists " + relation + " cascade");
    plan.statements.push_back("create table " + relation + " (\n" + columns + "\n)");
    return plan;
  }
  std::string insert_by_name(const std::string& relation, const std::string& query,
                             const std::vector<std::string>& columns) const override {
    return insert_with_columns(sql::postgres_dialect(), relation, query, columns);
  }
  bool insert_needs_columns() const override { return true; }
  // dbt-postgres' names (its adapter's convert_*_type).
  std::string seed_type(SeedType type) const override {
    switch (type) {
      case SeedType::kInteger: return "integer";
      case SeedType::kFloat: return "float8";
      case SeedType::kBoolean: return "boolean";
      case SeedType::kDate: return "date";
      case SeedType::kTimestamp: return "timestamp without time zone";
      case SeedType::kText: break;
    }
    return "text";
  }
};

// BigQuery, as dbt-bigquery: `create or replace` (no DDL transactions: a relation of the other
// kind is dropped first), inserts name their columns, seeds use GoogleSQL's type names.
class BigQuerySql final : public CreateOrReplaceSql {
 public:
  std::string insert_by_name(const std::string& relation, const std::string& query,
                             const std::vector<std::string>& columns) const override {
    return insert_with_columns(sql::bigquery_dialect(), relation, query, columns);
  }
  bool insert_needs_columns() const override { return true; }
  // dbt-bigquery's names (its adapter's convert_*_type).
  std::string seed_type(SeedType type) const override {
    switch (type) {
      case SeedType::kInteger: return "int64";
      case SeedType::kFloat: return "float64";
      case SeedType::kBoolean: return "bool";
      case SeedType::kDate: return "date";
      case SeedType::kTimestamp: return "datetime";
      case SeedType::kText: break;
    }
    return "string";
  }
};

}  // namespace

const AdapterSql& adapter_sql(const sql::Dialect& dialect) {
  static const DuckDbSql duckdb;
  static const PostgresSql postgres;
  static const BigQuerySql bigquery;
  if (dialect.id() == sql::DialectId::kPostgres) return postgres;
  if (dialect.id() == sql::DialectId::kBigQuery) return bigquery;
  return duckdb;
}

}  // namespace strata::transform::detail
