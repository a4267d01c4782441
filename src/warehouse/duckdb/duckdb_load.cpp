#include "warehouse/duckdb/duckdb_load.h"

#include <algorithm>

#include "warehouse/duckdb/duckdb_handles.h"
#include "warehouse/duckdb/duckdb_types.h"
#include "warehouse/duckdb/duckdb_vectors.h"

namespace strata::warehouse::duckdb_detail {

namespace {

constexpr const char* kFunctionName = "strata_load";

}  // namespace

struct LoadFunction::Pending {
  const sql::Schema& schema;
  const BatchSource& next;
  // The batch being scanned and its first row not yet handed to DuckDB. The strings of the chunk
  // last handed over point into it. DuckDB has copied that chunk into the table before it asks
  // for the next one, because the load's plan is this scan straight into the INSERT: no filter,
  // join or other operator that holds chunks back (see DuckDbWarehouse::load).
  std::optional<sql::ColumnBatch> batch;
  size_t offset = 0;
  Status failure;
};

Result<std::unique_ptr<LoadFunction>> LoadFunction::register_in(duckdb_database db) {
  std::unique_ptr<LoadFunction> self(new LoadFunction());
  ConnectionHandle conn;
  if (duckdb_connect(db, conn.out()) != DuckDBSuccess) {
    return Error(ErrorCode::kInternal, "cannot connect to DuckDB to register its bulk load function");
  }
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, kFunctionName);
  LogicalTypeHandle id_type(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  duckdb_table_function_add_parameter(function, id_type.get());
  duckdb_table_function_set_extra_info(function, self.get(), nullptr);
  duckdb_table_function_set_bind(function, &LoadFunction::bind);
  duckdb_table_function_set_init(function, &LoadFunction::init);
  duckdb_table_function_set_function(function, &LoadFunction::scan);
  const bool registered = duckdb_register_table_function(conn.get(), function) == DuckDBSuccess;
  duckdb_destroy_table_function(&function);
  if (!registered) return Error(ErrorCode::kInternal, "DuckDB refused to register its bulk load function");
  return self;
}

void LoadFunction::bind(duckdb_bind_info info) {
  auto* self = static_cast<LoadFunction*>(duckdb_bind_get_extra_info(info));
  duckdb_value parameter = duckdb_bind_get_parameter(info, 0);
  const auto id = static_cast<uint64_t>(duckdb_get_int64(parameter));
  duckdb_destroy_value(&parameter);
  Pending* pending = nullptr;
  {
    std::lock_guard lock(self->mutex_);
    auto it = self->pending_.find(id);
    if (it != self->pending_.end()) pending = it->second;
  }
  if (!pending) {
    duckdb_bind_set_error(info, "strata_load() reads the rows of a Strata bulk load: no bulk load has this id");
    return;
  }
  for (const auto& column : pending->schema) {
    LogicalTypeHandle type = to_duckdb_type(column.type);
    duckdb_bind_add_result_column(info, column.name.c_str(), type.get());
  }
  duckdb_bind_set_bind_data(info, pending, nullptr);
}

void LoadFunction::init(duckdb_init_info info) { duckdb_init_set_max_threads(info, 1); }

void LoadFunction::scan(duckdb_function_info info, duckdb_data_chunk output) {
  auto* pending = static_cast<Pending*>(duckdb_function_get_bind_data(info));
  auto fail = [&](Error error) {
    pending->failure = std::move(error);
    duckdb_function_set_error(info, pending->failure.error().message().c_str());
  };
  while (!pending->batch || pending->offset == pending->batch->num_rows()) {
    pending->batch.reset();
    pending->offset = 0;
    Result<std::optional<sql::ColumnBatch>> next = pending->next();
    if (!next.ok()) return fail(std::move(next).error());
    if (!*next) {
      duckdb_data_chunk_set_size(output, 0);
      return;
    }
    Status fits = check_batch(**next, pending->schema, kFunctionName);
    if (!fits.ok()) return fail(std::move(fits).error());
    pending->batch = std::move(*next);
  }
  const sql::ColumnBatch& batch = *pending->batch;
  const uint64_t count = std::min<uint64_t>(duckdb_vector_size(), batch.num_rows() - pending->offset);
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    Status written = write_vector(batch.column(c), pending->offset, count, duckdb_data_chunk_get_vector(output, c));
    if (!written.ok()) return fail(std::move(written).error());
  }
  duckdb_data_chunk_set_size(output, count);
  pending->offset += count;
}

LoadFunction::Registration::Registration(LoadFunction& owner, const sql::Schema& schema, const BatchSource& next)
    : owner_(owner), pending_(new Pending{schema, next, std::nullopt, 0, ok_status()}) {
  std::lock_guard lock(owner_.mutex_);
  id_ = ++owner_.last_id_;
  owner_.pending_[id_] = pending_.get();
}

LoadFunction::Registration::~Registration() {
  std::lock_guard lock(owner_.mutex_);
  owner_.pending_.erase(id_);
}

std::string LoadFunction::Registration::call_sql() const {
  return std::string(kFunctionName) + "(" + std::to_string(id_) + ")";
}

const Status& LoadFunction::Registration::failure() const { return pending_->failure; }

}  // namespace strata::warehouse::duckdb_detail
