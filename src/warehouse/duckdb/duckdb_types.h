#pragma once
// Mapping between DuckDB's types and Strata's LogicalType, both ways.
//   to_duckdb_type: the DuckDB type a LogicalType is stored as (JSON is VARCHAR aliased "JSON").
//   describe_duckdb_type: how to read a DuckDB vector of a given type into a sql::Column, the
//   LogicalType it becomes and DuckDB's own name for it. DuckDB types without a Strata
//   equivalent (STRUCT, MAP, UNION, BIT, BIGNUM, ...) are reported as
//   unsupported; the session casts them to VARCHAR in queries.
// Pure functions; thread-safe.

#include <duckdb.h>

#include <memory>
#include <string>
#include <vector>

#include "sql/logical_type.h"
#include "warehouse/duckdb/duckdb_handles.h"

namespace strata::warehouse::duckdb_detail {

// How a DuckDB vector is read. Immutable once built.
struct DuckColumnType {
  duckdb_type id = DUCKDB_TYPE_INVALID;          // the vector's type
  duckdb_type storage = DUCKDB_TYPE_INVALID;     // DECIMAL / ENUM: the internal integer type
  sql::LogicalType logical;                      // what it becomes in a Column
  std::string native;                            // DuckDB's name, e.g. "DECIMAL(18,2)", "INTEGER[]"
  bool supported = true;                         // false: needs a cast to VARCHAR first
  uint64_t array_size = 0;                       // ARRAY: elements per row
  std::vector<std::string> enum_values;          // ENUM: the dictionary
  std::shared_ptr<const DuckColumnType> child;   // LIST / ARRAY element
};

// Describes a DuckDB logical type (not consumed).
DuckColumnType describe_duckdb_type(duckdb_logical_type type);

// The DuckDB type for a LogicalType; the caller owns the result.
LogicalTypeHandle to_duckdb_type(const sql::LogicalType& type);

}  // namespace strata::warehouse::duckdb_detail
