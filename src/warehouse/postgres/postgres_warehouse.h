#pragma once
// The PostgreSQL adapter (libpq through strata::pg). open_postgres() (declared in
// warehouse/warehouse.h) returns a PostgresDatabase; its connect() opens one server connection per
// session.
//
// Reads go through binary COPY and the ingest decoder: a query is described first (result columns'
// types), then run as `COPY (query) TO STDOUT (FORMAT binary)` and decoded straight into column
// batches, so a large result streams in bounded memory. Types with no logical type of their own
// (inet, ranges, geometric …) arrive as text, as in ingest. A statement COPY cannot wrap (SHOW,
// EXPLAIN …) runs as one prepared statement with binary results.
// Writes go through `COPY … FROM STDIN (FORMAT binary)` (pg/copy_binary_encode.h).
//
// Thread-safety: PostgresDatabase is thread-safe; a session is used by one thread at a time except
// interrupt().

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "pg/copy_binary.h"
#include "pg/pg_types.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {

class PostgresDatabase final : public Database {
 public:
  // conninfo: libpq key=value or URL (holds the password: never printed). options.masker, when
  // set, must outlive the database.
  PostgresDatabase(std::string conninfo, pg::ConnectOptions options);
  const sql::Dialect& dialect() const override { return sql::postgres_dialect(); }
  // Errors: kConnection when the server cannot be reached or refuses the login.
  Result<std::unique_ptr<Warehouse>> connect() override;
  // Keeps an open connection for the next connect() to hand out (open_postgres' check).
  void keep(pg::Connection conn);

 private:
  std::string conninfo_;
  pg::ConnectOptions options_;
  std::mutex mutex_;
  std::optional<pg::Connection> kept_;  // guarded by mutex_
};

class PostgresWarehouse final : public Warehouse {
 public:
  explicit PostgresWarehouse(pg::Connection conn);

  const sql::Dialect& dialect() const override { return sql::postgres_dialect(); }
  Status execute(std::string_view sql) override;
  // Statements before the last one run first (simple protocol); the last one's rows are returned.
  Result<QueryResult> query(std::string_view sql) override;
  Status query_stream(std::string_view sql,
                      const std::function<Status(const sql::ColumnBatch&)>& on_batch) override;
  Status begin() override;
  Status commit() override;
  Status rollback() override;
  // schema's columns are matched to the table's by name when every name is one of the table's
  // (the others get their DEFAULT), else by position. Errors: kNotFound for a missing table,
  // kFailed for a column whose type the batch's cannot be written into.
  Result<std::unique_ptr<BulkWriter>> writer(const Relation& relation, const sql::Schema& schema) override;
  Result<std::vector<RelationInfo>> relations(std::string_view schema) override;
  Result<std::vector<ColumnInfo>> columns(const Relation& relation) override;
  Result<bool> table_exists(const Relation& relation) override;
  void interrupt() override;
  Result<std::string> try_lock(std::string_view name) override;

 private:
  // A query's plan: the decoder's columns and the statement that produces them.
  struct ReadPlan {
    std::vector<pg::CopyColumn> columns;
    std::string copy_sql;  // COPY … TO STDOUT; empty: run the prepared statement instead
    bool needs_text_cast = false;
  };
  Result<ReadPlan> plan_read(std::string_view sql);
  Status run_read(std::string_view sql, const pg::BatchSink& sink, sql::Schema* schema);
  // Loads the pg_type rows of `oids` and of their element and base types into types_.
  Status load_types(std::vector<uint32_t> oids);
  // Follows domains to their base type.
  uint32_t resolve_domain(uint32_t oid) const;
  struct TableColumn {
    std::string name;
    uint32_t type_oid = 0;
    int32_t typmod = -1;
    int ndims = 0;
    bool not_null = false;
    std::string native_type;
  };
  Result<std::vector<TableColumn>> table_columns(const Relation& relation);

  pg::Connection conn_;
  pg::Canceller canceller_;
  pg::PgTypeMap types_;
};

}  // namespace strata::warehouse
