#pragma once
// PgResult: RAII owner of a libpq PGresult (freed with PQclear). Move-only. Rows and columns are
// 0-based; asking for a row or column out of range is a programming error (libpq returns empty
// values). Thread-compatible: a const PgResult may be read from several threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <libpq-fe.h>

namespace strata::pg {

// The wire format of result values: text (PostgreSQL's output functions) or binary (send functions).
enum class Format { kText = 0, kBinary = 1 };

class PgResult {
 public:
  PgResult() = default;
  // Takes ownership of `result` (may be null: an empty result).
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : result_(other.release()) {}
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  int columns() const;
  // The column's name, or "" when out of range.
  std::string_view column_name(int column) const;
  // The index of the column called `name`, or -1.
  int column_index(std::string_view name) const;
  // The column's type OID (e.g. 23 for int4, 25 for text).
  Oid column_type(int column) const;
  // The column's type modifier (e.g. numeric precision/scale), -1 when none.
  int column_type_modifier(int column) const;
  Format column_format(int column) const;
  // For a column read straight from a table: the table's OID and the column's attnum; 0 otherwise.
  Oid column_table(int column) const;
  int column_table_attnum(int column) const;

  bool is_null(int row, int column) const;
  // The value's bytes (text or binary per column_format); "" for NULL. Valid while this result lives.
  std::string_view value(int row, int column) const;
  // The value, or nullopt for NULL.
  std::optional<std::string_view> get(int row, int column) const;

  // Rows affected by INSERT/UPDATE/DELETE/COPY/…, or 0 when the command reports none.
  int64_t affected_rows() const;
  // The command tag, e.g. "INSERT 0 3" or "SELECT 1".
  std::string_view command_tag() const;

  PGresult* raw() const { return result_; }
  // Gives up ownership.
  PGresult* release();

 private:
  PGresult* result_ = nullptr;
};

}  // namespace strata::pg
