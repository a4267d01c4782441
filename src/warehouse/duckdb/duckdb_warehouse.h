#pragma once
// The DuckDB adapter (C API only). open_duckdb() (declared in warehouse/warehouse.h) returns a
// DuckDbDatabase; its connect() hands out DuckDbWarehouse sessions, one duckdb_connection each.
// Thread-safety: DuckDbDatabase is thread-safe; a session is used by one thread at a time except
// interrupt(). Sessions and writers must be destroyed before the database that made them.

#include <atomic>
#include <memory>
#include <string>

#include "warehouse/duckdb/duckdb_handles.h"
#include "warehouse/duckdb/duckdb_load.h"
#include "warehouse/duckdb/duckdb_types.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {

class DuckDbDatabase final : public Database {
 public:
  // Takes ownership of an open database and of the bulk load function registered in it.
  DuckDbDatabase(duckdb_detail::DatabaseHandle db, std::string path,
                 std::unique_ptr<duckdb_detail::LoadFunction> load);
  const sql::Dialect& dialect() const override { return sql::duckdb_dialect(); }
  Result<std::unique_ptr<Warehouse>> connect() override;
  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<duckdb_detail::LoadFunction> load_;  // declared first: outlives db_, which calls it
  duckdb_detail::DatabaseHandle db_;
  std::string path_;
};

class DuckDbWarehouse final : public Warehouse {
 public:
  // load: the database's bulk load function (outlives the session).
  DuckDbWarehouse(duckdb_detail::ConnectionHandle conn, duckdb_detail::LoadFunction& load);

  const sql::Dialect& dialect() const override { return sql::duckdb_dialect(); }
  Status execute(std::string_view sql) override;
  Result<QueryResult> query(std::string_view sql) override;
  Status query_stream(std::string_view sql,
                      const std::function<Status(const sql::ColumnBatch&)>& on_batch) override;
  Status begin() override;
  Status commit() override;
  Status rollback() override;
  // schema may also name a subset of the table's columns (matched by name) when every column it
  // leaves out has a DEFAULT: those are filled with it, without a value per row.
  Result<std::unique_ptr<BulkWriter>> writer(const Relation& relation, const sql::Schema& schema) override;
  // One INSERT … SELECT from the strata_load table function (see duckdb_load.h).
  Status load(const Relation& relation, const sql::Schema& schema, const BatchSource& next) override;
  Result<std::vector<RelationInfo>> relations(std::string_view schema) override;
  Result<std::vector<ColumnInfo>> columns(const Relation& relation) override;
  Result<bool> table_exists(const Relation& relation) override;
  void interrupt() override;

 private:
  // Called once with the result schema and batch == nullptr, then once per fetched chunk with a
  // freshly built batch that the callee may move from.
  using ChunkSink = std::function<Status(const sql::Schema&, sql::ColumnBatch*)>;
  // Runs sql; every statement but the last is executed, the last one streamed chunk by chunk.
  Status run_streaming(std::string_view sql, const ChunkSink& sink);
  Status stream_prepared(duckdb_detail::PreparedHandle& prepared, const ChunkSink& sink);
  // When the last statement's result has types Strata cannot hold (STRUCT, MAP, ...), a SELECT
  // given alone is re-prepared with those columns cast to VARCHAR; otherwise a clear error.
  Status make_readable(std::string_view sql, bool single_statement, duckdb_detail::PreparedHandle& prepared);

  duckdb_detail::ConnectionHandle conn_;
  duckdb_detail::LoadFunction& load_;
};

}  // namespace strata::warehouse
