#pragma once
// Encoding of sql::ColumnBatch rows into PostgreSQL's binary COPY format (`COPY … FROM STDIN
// (FORMAT binary)`): the inverse of copy_binary.h, for writing into a PostgreSQL warehouse. Each
// value is written in the receive format of its target column's type, so the server stores it
// without parsing text: no text round trip, no row objects.
//
// Not thread-safe: one encoder per COPY stream.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "pg/pg_result.h"
#include "sql/column_batch.h"

namespace strata::pg {

// One target column: the batch column's logical type and the table column's type. For an array
// column, element_oid is the innermost element type (e.g. int8 for bigint[][]).
struct CopyInColumn {
  std::string name;
  sql::LogicalType type;
  uint32_t type_oid = 0;
  uint32_t element_oid = 0;
};

// Whether a value of logical type `type` can be written into a column of type `type_oid` (with
// element type `element_oid` for arrays): the same type, or one that widens without loss
// (SMALLINT into INTEGER or BIGINT, REAL into DOUBLE PRECISION, integers and DECIMAL into
// NUMERIC, VARCHAR and JSON into text, varchar, json and jsonb, TIMESTAMP into TIMESTAMPTZ as UTC).
bool can_encode(const sql::LogicalType& type, uint32_t type_oid, uint32_t element_oid);

class CopyBinaryEncoder {
 public:
  // Precondition: can_encode() holds for every column.
  explicit CopyBinaryEncoder(std::vector<CopyInColumn> columns);

  // The stream's header (signature, flags, extension length).
  static std::string header();
  // The stream's trailer (field count -1).
  static std::string trailer();
  // Appends every row of `batch` to `out`. Errors (kInvalidArgument) when the batch's column count
  // or types differ from the encoder's columns, or a nested list is not rectangular (PostgreSQL's
  // multidimensional arrays are), naming the column and row.
  Status encode(const sql::ColumnBatch& batch, std::string& out) const;

 private:
  std::vector<CopyInColumn> columns_;
};

// Appends row `row` of a result fetched in binary format as one binary-COPY tuple, so a COPY
// decoder can read rows a statement returned (for statements COPY cannot wrap). Precondition:
// every column of `result` is in binary format and row < result.rows().
void append_copy_tuple(const PgResult& result, int row, std::string& out);

}  // namespace strata::pg
