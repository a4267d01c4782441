#pragma once
// The Warehouse interface (DESIGN.md, key types): everything above it (ingest, transform,
// orchestrate) is written once for every warehouse. Adapters: duckdb/ (embedded), postgres/,
// bigquery/ (REST; see bigquery/bigquery_warehouse.h). Errors are returned as Result/Status, never thrown.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/secrets.h"
#include "sql/column_batch.h"
#include "sql/dialect.h"
#include "sql/logical_type.h"

namespace strata::warehouse {

// A relation's name. database may be empty (the session's current catalog); schema may be empty
// (the current schema). Names are raw, unquoted; quoting is done through sql::Dialect.
struct Relation {
  std::string database, schema, name;
};

enum class RelationKind { kTable, kView };

// One relation found by Warehouse::relations().
struct RelationInfo {
  Relation relation;
  RelationKind kind = RelationKind::kTable;
};

// One column found by Warehouse::columns(): its logical type, and the warehouse's own type name
// (e.g. "DECIMAL(18,2)", "VARCHAR", "INTEGER[]").
struct ColumnInfo {
  std::string name;
  sql::LogicalType type;
  std::string native_type;
  bool nullable = true;
};

// Query output: schema plus the batches in row order. Owns its data; thread-compatible.
struct QueryResult {
  sql::Schema schema;
  std::vector<sql::ColumnBatch> batches;

  size_t num_rows() const;
  // A cell as text, for tests, previews and dbt's agate tables: NULL -> "" (check is_null),
  // integers and decimals exact ("-12.50"), doubles shortest round-trip, booleans "true"/"false",
  // DATE "2024-01-31", TIME "13:45:00.123456", TIMESTAMP "2024-01-31 13:45:00[.ffffff]",
  // TIMESTAMPTZ the same (UTC) with "+00", infinities "infinity"/"-infinity", INTERVAL
  // "1 year 2 months 3 days 04:05:06", UUID canonical lower-case, BLOB "\\x.." hex, FLOAT/DOUBLE
  // "inf"/"-inf"/"nan", LIST "[a, b, NULL]". Precondition: row < num_rows(), col < schema.size().
  std::string cell_text(size_t row, size_t col) const;
  bool is_null(size_t row, size_t col) const;
  // The batch and row within it that hold global row `row`. Precondition: row < num_rows().
  std::pair<const sql::ColumnBatch*, size_t> locate(size_t row) const;
};

// One value of a column as text, with the formats of QueryResult::cell_text ("" for NULL).
std::string value_text(const sql::Column& column, size_t row);

// Appends batches to one relation. Not thread-safe. finish() flushes; destruction without
// finish() discards nothing already flushed but must not throw. Each batch's columns must match
// the schema given to Warehouse::writer() (same count and logical types) or append() fails.
// Rows become part of the session's current transaction (if begin() was called) once flushed.
class BulkWriter {
 public:
  virtual ~BulkWriter() = default;
  virtual Status append(const sql::ColumnBatch& batch) = 0;
  virtual Status finish() = 0;
};

// Feeds Warehouse::load(): the next batch, or nullopt when there are no more. An error stops
// the load, which returns it.
using BatchSource = std::function<Result<std::optional<sql::ColumnBatch>>()>;

// One session (connection). Not thread-safe, except interrupt() which any thread may call.
// A writer or stream obtained from a session must not outlive it.
class Warehouse {
 public:
  virtual ~Warehouse() = default;

  virtual const sql::Dialect& dialect() const = 0;
  // Runs any number of statements; their results are discarded.
  virtual Status execute(std::string_view sql) = 0;
  // Runs one query and materialises all its rows (use query_stream for large results).
  virtual Result<QueryResult> query(std::string_view sql) = 0;
  // Runs one query and hands each batch to on_batch as it is fetched; a non-ok Status from
  // on_batch stops the query and is returned. The batch is only valid during the call.
  virtual Status query_stream(std::string_view sql,
                              const std::function<Status(const sql::ColumnBatch&)>& on_batch) = 0;

  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual Status rollback() = 0;

  // A bulk writer into an existing table; its columns are matched by position to schema.
  virtual Result<std::unique_ptr<BulkWriter>> writer(const Relation& relation, const sql::Schema& schema) = 0;
  // Writes every batch `next` yields into an existing table (columns as for writer()) and returns
  // once `next` ran out, in the session's current transaction if one was begun. `next` is called
  // from one thread at a time, not necessarily the caller's. This default goes through writer();
  // DuckDB pulls the batches into one INSERT instead (no appender buffer: less CPU per row).
  // Errors: the warehouse's, or the first one `next` returned (rows of a failed load may have
  // been written: roll the transaction back).
  virtual Status load(const Relation& relation, const sql::Schema& schema, const BatchSource& next);
  // Tables and views in a schema (of the current database when Relation.database is empty).
  virtual Result<std::vector<RelationInfo>> relations(std::string_view schema) = 0;
  // Columns of a relation in ordinal order; an empty vector when it does not exist.
  virtual Result<std::vector<ColumnInfo>> columns(const Relation& relation) = 0;
  // Whether a table (not a view) of this name exists. DuckDB looks the one name up: listing
  // relations or failing to find one makes it build its whole catalog (~9 ms the first time in a
  // process).
  virtual Result<bool> table_exists(const Relation& relation) = 0;

  // Takes the lock named `name`, which every session of the warehouse's database shares, until this
  // session ends; never waits. Returns "" when taken, else who holds it (for a message). This
  // default takes it at once: DuckDB's writers exclude each other already (one process owns the
  // file), and BigQuery has no such lock. PostgreSQL: a session advisory lock.
  virtual Result<std::string> try_lock(std::string_view name);

  // Asks the running query (if any) to stop; it then fails with ErrorCode::kCancelled.
  // Thread-safe; may be called from any thread while another runs a query.
  virtual void interrupt() = 0;
};

// A warehouse target: thread-safe; hands out sessions (DuckDB: one database, many connections).
// Sessions must be destroyed before their Database.
class Database {
 public:
  virtual ~Database() = default;
  virtual const sql::Dialect& dialect() const = 0;
  virtual Result<std::unique_ptr<Warehouse>> connect() = 0;
};

// DuckDB options. threads 0 = DuckDB's default; memory_limit "" = default (e.g. "2GB");
// settings are extra DuckDB config options (name -> value) applied at open.
struct DuckDbOptions {
  int threads = 0;
  std::string memory_limit;
  std::map<std::string, std::string> settings;
  bool read_only = false;
};

// Opens (creating it and its folder if missing, unless read_only) a DuckDB file, or an in-memory database for
// ":memory:" or "". Extensions are never downloaded (autoinstall/autoload disabled). A file it
// creates uses DuckDB 1.3's storage format (DuckDB >= 1.3 reads it) unless settings name another
// `storage_compatibility_version`; an existing file keeps its format.
// Errors: kConnection when the file or its folder cannot be opened or created (locked, bad path,
// no permission), kConfig for a bad setting.
Result<std::unique_ptr<Database>> open_duckdb(const std::string& path_or_memory, const DuckDbOptions& options = {});

// The linked DuckDB library's version, e.g. "v1.4.4".
std::string duckdb_library_version();

// Opens a PostgreSQL warehouse: libpq key=value conninfo or a postgresql:// URL (it holds the
// password, which is never printed). Connects once to check the server is there (the first session
// reuses that connection). masker (not owned, may be null, must outlive the database) receives the
// password. Errors: kConfig for a
// conninfo that does not parse, kConnection when the server cannot be reached or refuses the login.
Result<std::unique_ptr<Database>> open_postgres(const std::string& conninfo, SecretMasker* masker = nullptr);

// DDL helpers, written once through a dialect. Names are quoted, so any characters are safe.
// "CREATE TABLE <rel> (<col> <type> [NOT NULL], ...)"; if_not_exists adds IF NOT EXISTS. DuckDB
// stores the variable-width columns named in zstd_columns with ZSTD (`USING COMPRESSION zstd`;
// other dialects ignore it): for long strings its default analysis (DICT_FSST) costs ~7x more
// CPU (measured: 600 MB of 4 KB strings, 16.7 s instead of 2.3 s, 977 MB peak instead of 600).
std::string create_table_sql(const sql::Dialect& dialect, const Relation& relation, const sql::Schema& schema,
                             bool if_not_exists = false, const std::vector<std::string>& zstd_columns = {});
// "CREATE SCHEMA IF NOT EXISTS <schema>" (with database prefix when given).
std::string create_schema_sql(const sql::Dialect& dialect, std::string_view database, std::string_view schema);
// The quoted, qualified name of a relation.
std::string qualified_name(const sql::Dialect& dialect, const Relation& relation);

}  // namespace strata::warehouse
