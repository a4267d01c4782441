#include "pg/pg_result.h"

#include <cstdlib>
#include <utility>

namespace strata::pg {

PgResult::~PgResult() {
  if (result_) PQclear(result_);
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_) PQclear(result_);
    result_ = other.release();
  }
  return *this;
}

PGresult* PgResult::release() { return std::exchange(result_, nullptr); }

int PgResult::rows() const { return result_ ? PQntuples(result_) : 0; }

int PgResult::columns() const { return result_ ? PQnfields(result_) : 0; }

std::string_view PgResult::column_name(int column) const {
  const char* name = result_ ? PQfname(result_, column) : nullptr;
  return name ? std::string_view(name) : std::string_view();
}

int PgResult::column_index(std::string_view name) const {
  for (int i = 0; i < columns(); ++i) {
    if (column_name(i) == name) return i;
  }
  return -1;
}

Oid PgResult::column_type(int column) const { return result_ ? PQftype(result_, column) : InvalidOid; }

int PgResult::column_type_modifier(int column) const { return result_ ? PQfmod(result_, column) : -1; }

Format PgResult::column_format(int column) const {
  return result_ && PQfformat(result_, column) == 1 ? Format::kBinary : Format::kText;
}

Oid PgResult::column_table(int column) const { return result_ ? PQftable(result_, column) : 0; }

int PgResult::column_table_attnum(int column) const { return result_ ? PQftablecol(result_, column) : 0; }

bool PgResult::is_null(int row, int column) const { return !result_ || PQgetisnull(result_, row, column) == 1; }

std::string_view PgResult::value(int row, int column) const {
  if (is_null(row, column)) return {};
  return std::string_view(PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column)));
}

std::optional<std::string_view> PgResult::get(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return value(row, column);
}

int64_t PgResult::affected_rows() const {
  const char* tuples = result_ ? PQcmdTuples(result_) : nullptr;
  return tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
}

std::string_view PgResult::command_tag() const {
  const char* tag = result_ ? PQcmdStatus(result_) : nullptr;
  return tag ? std::string_view(tag) : std::string_view();
}

}  // namespace strata::pg
