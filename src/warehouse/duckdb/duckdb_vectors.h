#pragma once
// Copying between DuckDB vectors and sql::Column, column at a time (memcpy for fixed-width types
// whose representation is the same, a tight loop otherwise). Not thread-safe per vector/column.

#include <duckdb.h>

#include <cstdint>
#include <string>

#include "common/result.h"
#include "sql/column_batch.h"
#include "warehouse/duckdb/duckdb_types.h"

namespace strata::warehouse::duckdb_detail {

// Appends rows [begin, begin+count) of vector v (described by type) to out.
// Precondition: type.supported, out.type() == type.logical.
void read_vector(duckdb_vector v, const DuckColumnType& type, uint64_t begin, uint64_t count, sql::Column& out);

// Writes rows [begin, begin+count) of col to positions 0..count-1 of v, whose DuckDB type is
// to_duckdb_type(col.type()). v must have room for count rows (data-chunk vectors hold
// duckdb_vector_size()); list children are reserved here. Strings are not copied: VARCHAR, BLOB
// and JSON values of v point into col's memory, so col must stay alive and unchanged until the
// chunk holding v was appended (the appender copies them) or reset. Errors: kFailed when DuckDB
// refuses to grow a list's child vector.
Status write_vector(const sql::Column& col, uint64_t begin, uint64_t count, duckdb_vector v);

// Ok when batch's columns match schema (count and logical types); otherwise kInternal, naming
// `table` and the first column that differs.
Status check_batch(const sql::ColumnBatch& batch, const sql::Schema& schema, const std::string& table);

// UUID: DuckDB's hugeint (upper half with its sign bit flipped) <-> 16 big-endian bytes.
void uuid_from_hugeint(const duckdb_hugeint& h, uint8_t out[16]);
duckdb_hugeint uuid_to_hugeint(const uint8_t bytes[16]);

}  // namespace strata::warehouse::duckdb_detail
