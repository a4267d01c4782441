#include "warehouse/duckdb/duckdb_warehouse.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "warehouse/duckdb/duckdb_vectors.h"

namespace strata::warehouse {

using namespace duckdb_detail;

namespace {

Error duckdb_error(const char* message, duckdb_error_type type) {
  std::string text = message ? message : "unknown DuckDB error";
  if (type == DUCKDB_ERROR_INTERRUPT) return Error(ErrorCode::kCancelled, "query interrupted: " + text);
  return Error(ErrorCode::kFailed, text);
}

Error result_error(ResultHandle& result) {
  return duckdb_error(duckdb_result_error(result.get()), duckdb_result_error_type(result.get()));
}

// Result column i's description.
std::vector<DuckColumnType> describe_columns(duckdb_prepared_statement prepared) {
  std::vector<DuckColumnType> out;
  idx_t n = duckdb_prepared_statement_column_count(prepared);
  for (idx_t i = 0; i < n; ++i) {
    LogicalTypeHandle t(duckdb_prepared_statement_column_logical_type(prepared, i));
    out.push_back(describe_duckdb_type(t.get()));
  }
  return out;
}

// The C API hands out a malloc'd copy of the name; the caller frees it.
std::string column_name(duckdb_prepared_statement prepared, idx_t index) {
  char* name = const_cast<char*>(duckdb_prepared_statement_column_name(prepared, index));
  std::string out = name ? name : "";
  if (name) duckdb_free(name);
  return out;
}

std::string_view trim_statement(std::string_view sql) {
  while (!sql.empty() && (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())))) {
    sql.remove_suffix(1);
  }
  return sql;
}

// True when every column of the table that `schema` leaves out has a DEFAULT (a writer may then
// write only the named columns).
bool omitted_columns_have_defaults(duckdb_connection conn, const Relation& relation, const sql::Schema& schema,
                                   idx_t table_columns) {
  if (table_columns < schema.size()) return false;
  duckdb_table_description description = nullptr;
  bool ok = duckdb_table_description_create_ext(conn, relation.database.empty() ? nullptr : relation.database.c_str(),
                                                relation.schema.empty() ? nullptr : relation.schema.c_str(),
                                                relation.name.c_str(), &description) == DuckDBSuccess;
  for (idx_t i = 0; ok && i < table_columns; ++i) {
    char* name = duckdb_table_description_get_column_name(description, i);
    bool named = false;
    for (const auto& column : schema) named = named || (name && column.name == name);
    if (name) duckdb_free(name);
    bool has_default = false;
    ok = named || (duckdb_column_has_default(description, i, &has_default) == DuckDBSuccess && has_default);
  }
  duckdb_table_description_destroy(&description);
  return ok;
}

// ---- the bulk writer ----

class DuckDbBulkWriter final : public BulkWriter {
 public:
  DuckDbBulkWriter(AppenderHandle appender, sql::Schema schema, DataChunkHandle chunk, std::string table)
      : appender_(std::move(appender)), schema_(std::move(schema)), chunk_(std::move(chunk)), table_(std::move(table)) {}

  Status append(const sql::ColumnBatch& batch) override {
    if (!appender_) return Error(ErrorCode::kInternal, "append() after finish() on the writer for " + table_);
    STRATA_TRY(check_batch(batch, schema_, table_));
    const uint64_t rows = batch.num_rows();
    const uint64_t step = duckdb_vector_size();
    for (uint64_t begin = 0; begin < rows; begin += step) {
      uint64_t count = std::min(step, rows - begin);
      duckdb_data_chunk_reset(chunk_.get());
      for (size_t c = 0; c < schema_.size(); ++c) {
        STRATA_TRY(write_vector(batch.column(c), begin, count, duckdb_data_chunk_get_vector(chunk_.get(), c)));
      }
      duckdb_data_chunk_set_size(chunk_.get(), count);
      if (duckdb_append_data_chunk(appender_.get(), chunk_.get()) != DuckDBSuccess) return appender_error();
    }
    duckdb_data_chunk_reset(chunk_.get());  // its strings point into batch (see write_vector)
    // The appender buffers up to 204,800 rows and moves them into the table (where full row groups
    // are compressed) only when that buffer fills or at finish(); flushing more often spreads that
    // work over the appends, so finish() (the end of a load, when nothing overlaps it) has little left.
    // By bytes too: 16,384 rows of 512 KB documents would be 8 GB held in the appender at once.
    unflushed_rows_ += rows;
    unflushed_bytes_ += batch.byte_size();
    if (unflushed_rows_ >= kFlushRows || unflushed_bytes_ >= kFlushBytes) {
      unflushed_rows_ = 0;
      unflushed_bytes_ = 0;
      if (duckdb_appender_flush(appender_.get()) != DuckDBSuccess) return appender_error();
    }
    return ok_status();
  }

  Status finish() override {
    if (!appender_) return ok_status();
    if (duckdb_appender_close(appender_.get()) != DuckDBSuccess) {
      Error error = appender_error();
      appender_.reset();
      return error;
    }
    appender_.reset();
    return ok_status();
  }

 private:
  Error appender_error() const {
    duckdb_error_data data = duckdb_appender_error_data(appender_.get());
    Error error = duckdb_error(duckdb_error_data_message(data), duckdb_error_data_error_type(data));
    duckdb_destroy_error_data(&data);
    return std::move(error).context("appending to " + table_);
  }

  static constexpr uint64_t kFlushRows = 16384;
  static constexpr uint64_t kFlushBytes = 32u << 20;

  AppenderHandle appender_;
  sql::Schema schema_;
  DataChunkHandle chunk_;
  std::string table_;
  uint64_t unflushed_rows_ = 0;
  uint64_t unflushed_bytes_ = 0;
};

}  // namespace

// ---- database ----

DuckDbDatabase::DuckDbDatabase(DatabaseHandle db, std::string path, std::unique_ptr<LoadFunction> load)
    : load_(std::move(load)), db_(std::move(db)), path_(std::move(path)) {}

Result<std::unique_ptr<Warehouse>> DuckDbDatabase::connect() {
  ConnectionHandle conn;
  if (duckdb_connect(db_.get(), conn.out()) != DuckDBSuccess) {
    return Error(ErrorCode::kConnection, "cannot open a connection to DuckDB database " + path_);
  }
  return std::unique_ptr<Warehouse>(std::make_unique<DuckDbWarehouse>(std::move(conn), *load_));
}

namespace {

// DuckDB writes new files in its 0.10.2 format unless told otherwise. The 1.3 format's string
// compression (DICT_FSST) analyses each segment once instead of once per method: measured
// loading 5 million pgbench rows on one thread, ~15 % less CPU for a file of the same size.
// DuckDB keeps an existing file in the format it was created with.
constexpr const char* kStorageVersionSetting = "storage_compatibility_version";
constexpr const char* kNewFileStorageVersion = "v1.3.0";

Status set_config(ConfigHandle& config, const std::string& name, const std::string& value) {
  if (duckdb_set_config(config.get(), name.c_str(), value.c_str()) != DuckDBSuccess) {
    return Error(ErrorCode::kConfig, "DuckDB rejected the setting " + name + " = '" + value + "'",
                 SourceLocation{}, "check the setting's name and value in DuckDB's configuration reference");
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<Database>> open_duckdb(const std::string& path_or_memory, const DuckDbOptions& options) {
  ConfigHandle config;
  if (duckdb_create_config(config.out()) != DuckDBSuccess) {
    return Error(ErrorCode::kInternal, "DuckDB could not create a configuration");
  }
  STRATA_TRY(set_config(config, "autoinstall_known_extensions", "false"));
  STRATA_TRY(set_config(config, "autoload_known_extensions", "false"));
  if (options.threads > 0) STRATA_TRY(set_config(config, "threads", std::to_string(options.threads)));
  if (!options.memory_limit.empty()) STRATA_TRY(set_config(config, "memory_limit", options.memory_limit));
  if (options.read_only) STRATA_TRY(set_config(config, "access_mode", "READ_ONLY"));
  if (!options.settings.contains(kStorageVersionSetting)) {
    STRATA_TRY(set_config(config, kStorageVersionSetting, kNewFileStorageVersion));
  }
  for (const auto& [name, value] : options.settings) STRATA_TRY(set_config(config, name, value));

  bool memory = path_or_memory.empty() || path_or_memory == ":memory:";
  if (!memory && !options.read_only) {
    const std::filesystem::path folder = std::filesystem::path(path_or_memory).parent_path();
    std::error_code ec;
    if (!folder.empty() && !std::filesystem::exists(folder, ec)) {
      std::filesystem::create_directories(folder, ec);
      if (ec) {
        return Error(ErrorCode::kConnection,
                     "cannot create folder " + folder.string() + " for DuckDB database " + path_or_memory + ": " +
                         ec.message(),
                     SourceLocation{}, "create it, or give a path under a folder this user may write to");
      }
    }
  }
  DatabaseHandle db;
  char* message = nullptr;
  if (duckdb_open_ext(memory ? nullptr : path_or_memory.c_str(), db.out(), config.get(), &message) != DuckDBSuccess) {
    std::string text = message ? message : "unknown error";
    if (message) duckdb_free(message);
    if (text.find("not recognized") != std::string::npos || text.find("Invalid Input Error") != std::string::npos) {
      return Error(ErrorCode::kConfig, "cannot open DuckDB database " + path_or_memory + ": " + text, SourceLocation{},
                   "check the settings' names and values in DuckDB's configuration reference");
    }
    return Error(ErrorCode::kConnection, "cannot open DuckDB database " + path_or_memory + ": " + text,
                 SourceLocation{}, "check that the folder exists and no other process holds the file open");
  }
  STRATA_ASSIGN(std::unique_ptr<LoadFunction> load, LoadFunction::register_in(db.get()));
  return std::unique_ptr<Database>(
      std::make_unique<DuckDbDatabase>(std::move(db), memory ? ":memory:" : path_or_memory, std::move(load)));
}

std::string duckdb_library_version() { return ::duckdb_library_version(); }

// ---- session ----

DuckDbWarehouse::DuckDbWarehouse(ConnectionHandle conn, LoadFunction& load) : conn_(std::move(conn)), load_(load) {}

Status DuckDbWarehouse::execute(std::string_view sql) {
  std::string text(sql);
  ResultHandle result;
  if (duckdb_query(conn_.get(), text.c_str(), result.out()) != DuckDBSuccess) return result_error(result);
  return ok_status();
}

Status DuckDbWarehouse::begin() { return execute("BEGIN TRANSACTION"); }
Status DuckDbWarehouse::commit() { return execute("COMMIT"); }
Status DuckDbWarehouse::rollback() { return execute("ROLLBACK"); }

void DuckDbWarehouse::interrupt() { duckdb_interrupt(conn_.get()); }

Status DuckDbWarehouse::run_streaming(std::string_view sql, const ChunkSink& sink) {
  std::string text(sql);
  ExtractedHandle extracted;
  idx_t n = duckdb_extract_statements(conn_.get(), text.c_str(), extracted.out());
  if (n == 0) {
    const char* message = duckdb_extract_statements_error(extracted.get());
    return Error(ErrorCode::kFailed, message ? message : "no SQL statement to run");
  }
  for (idx_t i = 0; i < n; ++i) {
    PreparedHandle prepared;
    if (duckdb_prepare_extracted_statement(conn_.get(), extracted.get(), i, prepared.out()) != DuckDBSuccess) {
      return Error(ErrorCode::kFailed, duckdb_prepare_error(prepared.get()));
    }
    if (i + 1 < n) {
      ResultHandle result;
      if (duckdb_execute_prepared(prepared.get(), result.out()) != DuckDBSuccess) return result_error(result);
      continue;
    }
    STRATA_TRY(make_readable(text, n == 1, prepared));
    return stream_prepared(prepared, sink);
  }
  return ok_status();
}

Status DuckDbWarehouse::make_readable(std::string_view sql, bool single_statement, PreparedHandle& prepared) {
  std::vector<DuckColumnType> types = describe_columns(prepared.get());
  bool readable = true;
  for (const auto& t : types) readable = readable && t.supported;
  if (readable) return ok_status();
  std::string first_bad;
  for (idx_t i = 0; i < types.size() && first_bad.empty(); ++i) {
    if (!types[i].supported) first_bad = column_name(prepared.get(), i);
  }
  if (!single_statement || duckdb_prepared_statement_type(prepared.get()) != DUCKDB_STATEMENT_TYPE_SELECT) {
    return Error(ErrorCode::kFailed, "column " + first_bad + " has a DuckDB type Strata cannot read",
                 SourceLocation{}, "cast it, e.g. CAST(" + first_bad + " AS VARCHAR)");
  }
  const sql::Dialect& d = dialect();
  std::string rewritten = "SELECT ";
  for (idx_t i = 0; i < types.size(); ++i) {
    if (i > 0) rewritten += ", ";
    std::string ref = "#" + std::to_string(i + 1);
    rewritten += types[i].supported ? ref : "CAST(" + ref + " AS VARCHAR)";
    rewritten += " AS " + d.quote_identifier(column_name(prepared.get(), i));
  }
  rewritten += " FROM (" + std::string(trim_statement(sql)) + ") AS strata_readable";
  PreparedHandle again;
  if (duckdb_prepare(conn_.get(), rewritten.c_str(), again.out()) != DuckDBSuccess) {
    return Error(ErrorCode::kFailed, std::string("column ") + first_bad + " has a DuckDB type Strata cannot read (" +
                                         duckdb_prepare_error(again.get()) + ")",
                 SourceLocation{}, "cast it, e.g. CAST(" + first_bad + " AS VARCHAR)");
  }
  prepared = std::move(again);
  return ok_status();
}

Status DuckDbWarehouse::stream_prepared(PreparedHandle& prepared, const ChunkSink& sink) {
  std::vector<DuckColumnType> types = describe_columns(prepared.get());
  sql::Schema schema;
  for (idx_t i = 0; i < types.size(); ++i) {
    schema.push_back({column_name(prepared.get(), i), types[i].logical, true});
  }
  PendingHandle pending;
  if (duckdb_pending_prepared_streaming(prepared.get(), pending.out()) != DuckDBSuccess) {
    return Error(ErrorCode::kFailed, duckdb_pending_error(pending.get()));
  }
  ResultHandle result;
  if (duckdb_execute_pending(pending.get(), result.out()) != DuckDBSuccess) return result_error(result);
  STRATA_TRY(sink(schema, nullptr));
  while (true) {
    DataChunkHandle chunk(duckdb_fetch_chunk(*result.get()));
    if (!chunk) {
      if (duckdb_result_error(result.get()) != nullptr) return result_error(result);
      return ok_status();
    }
    idx_t rows = duckdb_data_chunk_get_size(chunk.get());
    if (rows == 0) return ok_status();
    sql::ColumnBatch batch(schema);
    for (size_t c = 0; c < types.size(); ++c) {
      batch.column(c).reserve(rows);
      read_vector(duckdb_data_chunk_get_vector(chunk.get(), c), types[c], 0, rows, batch.column(c));
    }
    STRATA_TRY(sink(schema, &batch));
  }
}

Result<QueryResult> DuckDbWarehouse::query(std::string_view sql) {
  QueryResult out;
  STRATA_TRY(run_streaming(sql, [&out](const sql::Schema& schema, sql::ColumnBatch* batch) -> Status {
    if (batch == nullptr) {
      out.schema = schema;
    } else {
      out.batches.push_back(std::move(*batch));
    }
    return ok_status();
  }));
  return out;
}

Status DuckDbWarehouse::query_stream(std::string_view sql,
                                     const std::function<Status(const sql::ColumnBatch&)>& on_batch) {
  return run_streaming(sql, [&on_batch](const sql::Schema&, sql::ColumnBatch* batch) -> Status {
    return batch == nullptr ? ok_status() : on_batch(*batch);
  });
}

Result<std::unique_ptr<BulkWriter>> DuckDbWarehouse::writer(const Relation& relation, const sql::Schema& schema) {
  std::string table = qualified_name(dialect(), relation);
  AppenderHandle appender;
  duckdb_state state = duckdb_appender_create_ext(conn_.get(), relation.database.empty() ? nullptr : relation.database.c_str(),
                                                  relation.schema.empty() ? nullptr : relation.schema.c_str(),
                                                  relation.name.c_str(), appender.out());
  if (state != DuckDBSuccess) {
    std::string message = "cannot append to " + table;
    if (appender) {
      duckdb_error_data data = duckdb_appender_error_data(appender.get());
      if (duckdb_error_data_has_error(data)) message += std::string(": ") + duckdb_error_data_message(data);
      duckdb_destroy_error_data(&data);
    }
    return Error(ErrorCode::kFailed, message, SourceLocation{}, "create the table before writing to it");
  }
  idx_t table_columns = duckdb_appender_column_count(appender.get());
  if (table_columns != schema.size() && !omitted_columns_have_defaults(conn_.get(), relation, schema, table_columns)) {
    return Error(ErrorCode::kFailed, table + " has " + std::to_string(table_columns) + " columns but " +
                                         std::to_string(schema.size()) + " were given to its writer");
  }
  if (table_columns > schema.size()) {
    // A subset: the named columns are written, the others get their DEFAULT, which
    // DuckDB fills as constant vectors — much cheaper than a value per row.
    for (const auto& column : schema) {
      if (duckdb_appender_add_column(appender.get(), column.name.c_str()) != DuckDBSuccess) {
        duckdb_error_data data = duckdb_appender_error_data(appender.get());
        std::string detail = duckdb_error_data_has_error(data) ? duckdb_error_data_message(data) : "unknown column";
        duckdb_destroy_error_data(&data);
        return Error(ErrorCode::kFailed, "cannot write column " + column.name + " of " + table + ": " + detail);
      }
    }
  }
  std::vector<LogicalTypeHandle> owned;
  std::vector<duckdb_logical_type> types;
  for (const auto& column : schema) {
    owned.push_back(to_duckdb_type(column.type));
    types.push_back(owned.back().get());
  }
  DataChunkHandle chunk(duckdb_create_data_chunk(types.data(), types.size()));
  return std::unique_ptr<BulkWriter>(
      std::make_unique<DuckDbBulkWriter>(std::move(appender), schema, std::move(chunk), std::move(table)));
}

Status DuckDbWarehouse::load(const Relation& relation, const sql::Schema& schema, const BatchSource& next) {
  const sql::Dialect& d = dialect();
  std::string columns;
  for (const auto& column : schema) columns += (columns.empty() ? "" : ", ") + d.quote_identifier(column.name);
  LoadFunction::Registration registration(load_, schema, next);
  // Keep this statement a bare scan into the INSERT: the scan's chunks point into the batch it
  // holds until the next call (duckdb_load.cpp).
  Status inserted = execute("INSERT INTO " + qualified_name(d, relation) + " (" + columns + ") SELECT * FROM " +
                            registration.call_sql());
  // The source's own error (its code and context) rather than DuckDB's rendering of it.
  if (!registration.failure().ok()) return registration.failure();
  return inserted;
}

}  // namespace strata::warehouse
