#pragma once
// Cursor values of incremental streams: which column types may be cursors, the largest value a
// read saw, and its text form, kept in the stream's state and compared in the next read's
// `WHERE cursor >= …` on PostgreSQL (and, for incremental_append, in the warehouse). A date or
// timestamp at ±infinity is never a position: a cursor there would see no new row again.
// Everything here is a pure function or a value type; thread-compatible.

#include <cstdint>
#include <optional>
#include <string>

#include "sql/column_batch.h"
#include "sql/logical_type.h"

namespace strata::ingest {

// True for the types a cursor column may have (INT16/32/64, DATE, TIMESTAMP, TIMESTAMPTZ).
bool cursor_type_supported(const sql::LogicalType& type);
// True for the types whose values include ±infinity (DATE and the timestamps).
bool has_infinities(const sql::LogicalType& type);
// True when `value` (a physical value widened to int64) is ±infinity of `type`.
bool is_infinity(const sql::LogicalType& type, int64_t value);
// True for a saved cursor text at ±infinity (older versions saved such cursors).
bool is_infinite_cursor(const std::string& cursor);

// A cursor value of a supported type (physical value as int64) as text that PostgreSQL and the
// warehouses parse: "42", "2024-01-31", "2024-01-31 13:45:00.5", "… +00", "infinity". Years
// before 1 are astronomical ("-0043-03-15", as DuckDB writes them); see postgres_cursor_text.
std::string format_cursor(const sql::LogicalType& type, int64_t value);
// A cursor text of format_cursor as PostgreSQL parses it: years before 1 ("0000-…", "-0044-…")
// become PostgreSQL's era form ("0001-… BC", "0045-… BC"); anything else is returned unchanged.
std::string postgres_cursor_text(const std::string& cursor);

// Tracks the largest cursor value of a stream's batches (column `column` of logical type `type`;
// column < 0: no cursor), skipping NULL and ±infinity.
struct CursorTracker {
  int column = -1;
  sql::LogicalType type;
  std::optional<int64_t> max;

  void observe(const sql::ColumnBatch& batch);
};

}  // namespace strata::ingest
