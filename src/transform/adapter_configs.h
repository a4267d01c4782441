#pragma once
// The adapter-specific configs of the tables that `table` and `incremental` models build, read and
// checked as dbt's adapter plugins read them, before any DDL runs (a bad value builds nothing):
//
// - PostgreSQL (dbt-postgres): `unlogged: true` makes `create unlogged table`; `indexes: [{columns:
//   [...], unique: bool, type: btree|hash|gist|spgist|gin|brin|<an access method the server has>}]`
//   are created on the new table in the transaction that builds it (also a seed's and a snapshot's).
// - BigQuery (dbt-bigquery): `partition_by: {field, data_type: date|timestamp|datetime|int64,
//   granularity: hour|day|month|year, range: {start, end, interval}}`, `cluster_by` (a column or a
//   list of up to four), `partition_expiration_days`, `require_partition_filter` and `labels`
//   become the `partition by`, `cluster by` and `options(...)` clauses of `create or replace table`.
// - Every other warehouse (DuckDB) ignores these keys, as dbt-duckdb does; so does each warehouse
//   the other's keys. Internal to transform.

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "transform/node.h"
#include "warehouse/warehouse.h"

namespace strata::transform::detail {

// One entry of dbt-postgres' `indexes` config.
struct TableIndex {
  std::vector<std::string> columns;  // as written (dbt joins them unquoted: expressions work too)
  bool unique = false;
  std::string type;  // the access method, lower case; empty: the server's default (btree)
};

// What a model's table DDL takes from its adapter-specific configs; empty (the default) adds nothing.
struct TableConfig {
  bool unlogged = false;            // PostgreSQL
  std::vector<TableIndex> indexes;  // PostgreSQL
  std::string partition_by;         // BigQuery: the expression after `partition by`; empty for none
  std::vector<std::string> cluster_by;                       // BigQuery: the columns after `cluster by`
  std::vector<std::pair<std::string, std::string>> options;  // BigQuery: `name=value` of options(...), rendered

  bool empty() const {
    return !unlogged && indexes.empty() && partition_by.empty() && cluster_by.empty() && options.empty();
  }
};

// Reads node n's adapter-specific table configs for the warehouse `wh` (an empty TableConfig for a
// warehouse without any). On PostgreSQL an index type other than the built-in access methods is
// looked up in `pg_am`. Errors: kConfig located at n.where, naming the config, what is wrong and
// what would fix it; the warehouse's error when pg_am cannot be read.
Result<TableConfig> table_config(const Node& n, warehouse::Warehouse& wh);

// The part of n's table configs that seeds and snapshots take, as dbt-postgres' materializations of
// them do: the indexes, created with the table when it is built anew. Errors: as table_config().
Result<TableConfig> index_config(const Node& n, warehouse::Warehouse& wh);

// The same checks without a warehouse, for `dialect`: an index type that is not built into
// PostgreSQL is accepted as written (table_config() checks it against the server).
Result<TableConfig> table_config_of(const Node& n, const sql::Dialect& dialect);

// The name of `index` on `relation` (quoted and qualified): the md5 of the relation, columns,
// uniqueness and type, as dbt-postgres names indexes (it adds a timestamp; this name is the same on
// every build, and differs between relations and between index definitions).
std::string index_name(const std::string& relation, const TableIndex& index);

}  // namespace strata::transform::detail
