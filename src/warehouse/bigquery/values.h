#pragma once
// BigQuery values to and from Strata's column batches.
//
// Reading: a query's TableSchema (fields with name, type, mode, fields, precision, scale) maps to a
// sql::Schema, and its rows (the REST API's {"f": [{"v": …}]} form, every scalar a JSON string)
// are appended to a ColumnBatch:
//   INT64/INTEGER → INT64; FLOAT64/FLOAT → DOUBLE ("Infinity", "-Infinity", "NaN" too);
//   NUMERIC → DECIMAL(38,9) (or its declared precision and scale); BIGNUMERIC → its declared
//   precision and scale when they fit DECIMAL(38,s), else DECIMAL(38,9), failing for a value with
//   more digits than that holds; BOOL/BOOLEAN → BOOLEAN; STRING, GEOGRAPHY, RANGE → VARCHAR;
//   BYTES (base64) → BLOB; DATE, TIME, DATETIME → DATE, TIME, TIMESTAMP; TIMESTAMP → TIMESTAMPTZ
//   (int64 microseconds when formatOptions.useInt64Timestamp was asked for, else float seconds);
//   INTERVAL ("Y-M D H:M:S.F") → INTERVAL; JSON → JSON; RECORD/STRUCT → JSON (an object by field
//   name); mode REPEATED → LIST of the element type. A null "v" is NULL.
// Writing: a batch row becomes one line of newline-delimited JSON for a load job, keyed by the
// destination's column names (see append_ndjson_row).
// Pure functions; thread-safe.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "sql/column_batch.h"

namespace strata::warehouse::bigquery {

using Json = nlohmann::json;

// The logical type of one TableFieldSchema. Unknown types read as VARCHAR.
sql::LogicalType field_type(const Json& field);
// The native type text of a field: "INT64", "NUMERIC(10, 2)", "ARRAY<STRING>", "STRUCT<a INT64>".
std::string field_native_type(const Json& field);
// The schema of a TableSchema ({"fields": [...]}); empty when it has no fields.
sql::Schema schema_from_json(const Json& table_schema);

// Appends one {"f": [...]} row to `batch` (whose columns follow `fields`). Errors: kFailed naming
// the column for a value that does not parse as its type.
Status append_row(const Json& fields, const Json& row, sql::ColumnBatch& batch);

// Appends row `row` of `batch` as one JSON object line (with '\n') to `out`; column i is written
// under names[i]. NULLs are left out (BigQuery reads a missing key as NULL). DECIMAL, INT64 beyond
// 2^53, DATE, TIME, TIMESTAMP (as DATETIME text), TIMESTAMPTZ (UTC), INTERVAL, UUID and BLOB
// (base64) are written as strings in BigQuery's input formats. A JSON column is embedded as a JSON
// value when embed_json[i] (the destination column is JSON), else written as its text. Errors:
// kFailed for a value BigQuery cannot hold (an infinite date or timestamp, a NULL inside an ARRAY).
Status append_ndjson_row(const sql::ColumnBatch& batch, size_t row, const std::vector<std::string>& names,
                         std::string& out, const std::vector<bool>& embed_json = {});

}  // namespace strata::warehouse::bigquery
