// The warehouse-specific pieces of the materializations' SQL (see adapter_sql.h).
#include "transform/adapter_sql.h"

#include "common/strings.h"

namespace strata::transform::detail {

namespace {

const char* kind_word(warehouse::RelationKind kind) {
  return kind == warehouse::RelationKind::kView ? "view" : "table";
}

// `create [or replace] <kind> <relation><clauses> as (\n<query>\n)`: the query in parentheses on
// lines of its own, so a trailing `--` comment in it ends before the closing parenthesis.
std::string create_as(const std::string& verb, warehouse::RelationKind kind, const std::string& relation,
                      const std::string& clauses, const std::string& query) {
  return verb + " " + kind_word(kind) + " " + relation + clauses + " as (\n" + query + "\n)";
}

// Warehouses with `create or replace` (DuckDB, BigQuery): a relation of the other kind is dropped
// first, the rest is one statement. A table's configs become clauses after its name
// (table_clauses()).
class CreateOrReplaceSql : public AdapterSql {
 public:
  DdlPlan replace_relation(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                           warehouse::RelationKind kind, const std::string& query,
                           const TableConfig& table) const override {
    DdlPlan plan;
    if (existing && *existing != kind)
      plan.statements.push_back(std::string("drop ") + kind_word(*existing) + " if exists " + relation);
    const std::string clauses = kind == warehouse::RelationKind::kTable ? table_clauses(table) : std::string();
    plan.statements.push_back(create_as("create or replace", kind, relation, clauses, query));
    return plan;
  }
  DdlPlan replace_with_table(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                             const std::string& columns, const TableConfig& table) const override {
    DdlPlan plan;
    if (existing == warehouse::RelationKind::kView) plan.statements.push_back("drop view if exists " + relation);
    plan.statements.push_back("create or replace table " + relation + " (\n" + columns + "\n)" +
                              table_clauses(table));
    return plan;
  }

 protected:
  // What follows a new table's name (or its column list): empty, or clauses each on a line of its
  // own ("\npartition by …").
  virtual std::string table_clauses(const TableConfig& table) const = 0;
};

// `insert into <relation> (<columns>) select <columns> from (<query>)`, the names quoted by `dialect`.
std::string insert_with_columns(const sql::Dialect& dialect, const std::string& relation, const std::string& query,
                                const std::vector<std::string>& columns) {
  std::string names;
  for (const auto& c : columns) names += (names.empty() ? "" : ", ") + dialect.quote_identifier(c);
  return "insert into " + relation + " (" + names + ")\nselect " + names + " from (\n" + query +
         "\n) as dbt_insert_source";
}

// DuckDB, as dbt-duckdb, ignores the other warehouses' table configs.
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

 protected:
  std::string table_clauses(const TableConfig&) const override { return ""; }
};

// PostgreSQL, as dbt-postgres: the old relation dropped with `cascade` and the new one created in
// one transaction, `create unlogged table` when the model is unlogged, and its indexes created in
// the same transaction (an index that fails leaves the relation as it was).
class PostgresSql final : public AdapterSql {
 public:
  DdlPlan replace_relation(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                           warehouse::RelationKind kind, const std::string& query,
                           const TableConfig& table) const override {
    const bool is_table = kind == warehouse::RelationKind::kTable;
    const std::string verb = is_table && table.unlogged ? "create unlogged" : "create";
    DdlPlan plan = drop_existing(relation, existing);
    plan.statements.push_back(create_as(verb, kind, relation, "", query));
    if (is_table) add_indexes(plan, relation, table);
    return plan;
  }
  DdlPlan replace_with_table(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                             const std::string& columns, const TableConfig& table) const override {
    DdlPlan plan = drop_existing(relation, existing);
    plan.statements.push_back(std::string(table.unlogged ? "create unlogged table " : "create table ") + relation +
                              " (\n" + columns + "\n)");
    add_indexes(plan, relation, table);
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

 private:
  // A plan that starts by dropping what `relation` is now; atomic when there is something to drop.
  static DdlPlan drop_existing(const std::string& relation, std::optional<warehouse::RelationKind> existing) {
    DdlPlan plan;
    plan.atomic = existing.has_value();
    if (existing)
      plan.statements.push_back(std::string("drop ") + kind_word(*existing) + " if exists " + relation + " cascade");
    return plan;
  }
  // dbt-postgres' `create [unique] index if not exists "<name>" on <relation> [using <type>] (<columns>)`
  // for each index, in the plan's transaction.
  static void add_indexes(DdlPlan& plan, const std::string& relation, const TableConfig& table) {
    for (const auto& index : table.indexes)
      plan.statements.push_back(std::string(index.unique ? "create unique index" : "create index") +
                                " if not exists " + sql::postgres_dialect().quote_identifier(index_name(relation, index)) +
                                " on " + relation + (index.type.empty() ? "" : " using " + index.type) + " (" +
                                join(index.columns, ", ") + ")");
    if (!table.indexes.empty()) plan.atomic = true;
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

 protected:
  // dbt-bigquery's `partition by …`, `cluster by a, b` and `options(name=value, …)`.
  std::string table_clauses(const TableConfig& table) const override {
    std::string out;
    if (!table.partition_by.empty()) out += "\npartition by " + table.partition_by;
    if (!table.cluster_by.empty()) out += "\ncluster by " + join(table.cluster_by, ", ");
    std::string options;
    for (const auto& [name, value] : table.options) options += (options.empty() ? "" : ", ") + name + "=" + value;
    if (!options.empty()) out += "\noptions(" + options + ")";
    return out;
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
