#pragma once
// What the materializations run that differs between warehouses, chosen once by the warehouse's
// dialect (as dbt chooses an adapter's macros): how a relation becomes a new table or view, how
// rows are inserted by column name, and the types seeds infer. The rest of their SQL (insert,
// delete, merge, update … from) is written once for every warehouse. Internal to transform.
//
// DuckDB replaces a relation in place (`create or replace`). PostgreSQL, as dbt-postgres, drops
// the old relation with `cascade` (views built on it go too; a build rebuilds them) and creates
// the new one in the same transaction, so readers see the old relation or the new one. BigQuery,
// as dbt-bigquery, replaces in place too (`create or replace`; it has no transactional DDL) and
// names the columns of its inserts.
//
// A table takes the model's adapter-specific configs (adapter_configs.h): PostgreSQL's `unlogged`
// and `indexes` (created in the transaction that creates the table), BigQuery's `partition by`,
// `cluster by` and `options(...)` clauses. DuckDB ignores them.

#include <optional>
#include <string>
#include <vector>

#include "sql/dialect.h"
#include "transform/adapter_configs.h"
#include "warehouse/warehouse.h"

namespace strata::transform::detail {

// The kinds of values a seed column holds, as dbt's agate inference tells them apart.
enum class SeedType { kText, kInteger, kFloat, kBoolean, kDate, kTimestamp };

// DDL to run in order; in one transaction when `atomic`.
struct DdlPlan {
  std::vector<std::string> statements;
  bool atomic = false;
};

class AdapterSql {
 public:
  virtual ~AdapterSql() = default;
  // The statements that make `relation` (quoted and qualified) a `kind` holding `query`'s rows.
  // `existing` is what the name is now (nullopt: nothing); a scratch table that may or may not
  // exist is passed as an existing table. A table gets `table`'s configs (a view ignores them).
  virtual DdlPlan replace_relation(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                                   warehouse::RelationKind kind, const std::string& query,
                                   const TableConfig& table) const = 0;
  // The statements that make `relation` a new, empty table of `columns` (the column definitions and
  // constraints inside `create table r ( … )`), replacing what the name is now (`existing`), with
  // `table`'s configs.
  virtual DdlPlan replace_with_table(const std::string& relation, std::optional<warehouse::RelationKind> existing,
                                     const std::string& columns, const TableConfig& table) const = 0;
  // `insert into <relation> …` writing `query`'s columns into the relation's columns of the same
  // names (the others get their default). `columns` are the query's column names, which a
  // warehouse without `insert … by name` needs; DuckDB ignores them.
  virtual std::string insert_by_name(const std::string& relation, const std::string& query,
                                     const std::vector<std::string>& columns) const = 0;
  // Whether insert_by_name() needs the query's column names.
  virtual bool insert_needs_columns() const = 0;
  // The column type of a seed column, as the adapter's dbt plugin names it.
  virtual std::string seed_type(SeedType type) const = 0;
};

// The SQL of `dialect`'s warehouse.
const AdapterSql& adapter_sql(const sql::Dialect& dialect);

}  // namespace strata::transform::detail
