#include "ingest/cursor.h"

#include "common/time.h"

namespace strata::ingest {
namespace {

using sql::LogicalType;
using sql::TypeId;

bool is_timestamp(const LogicalType& type) {
  return type.id() == TypeId::kTimestamp || type.id() == TypeId::kTimestampTz;
}

void append2(std::string& out, int64_t v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

std::string format_date(int64_t days) {
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  std::string out = y < 0 ? "-" : "";
  std::string year = std::to_string(y < 0 ? -y : y);
  if (year.size() < 4) out.append(4 - year.size(), '0');
  out += year + "-";
  append2(out, m);
  out += "-";
  append2(out, d);
  return out;
}

// The largest value of `col` above `max`, skipping NULL and, with kInfinities, the values `skip`
// and `skip_neg` (the type's ±infinity).
template <typename T, bool kInfinities = false>
void observe_as(const sql::Column& col, std::optional<int64_t>& max, int64_t skip = 0, int64_t skip_neg = 0) {
  const uint8_t* valid = col.validity();
  bool seen = false;
  T top{};
  for (size_t r = 0; r < col.size(); ++r) {
    if (valid[r] == 0) continue;
    const T v = col.get<T>(r);
    if (kInfinities && (static_cast<int64_t>(v) == skip || static_cast<int64_t>(v) == skip_neg)) continue;
    if (!seen || v > top) top = v;
    seen = true;
  }
  if (seen && (!max || top > *max)) max = top;
}

}  // namespace

bool cursor_type_supported(const LogicalType& type) {
  switch (type.id()) {
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kDate:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return true;
    default: return false;
  }
}

bool has_infinities(const LogicalType& type) { return type.id() == TypeId::kDate || is_timestamp(type); }

bool is_infinity(const LogicalType& type, int64_t value) {
  if (type.id() == TypeId::kDate) return value == sql::kDateInfinity || value == sql::kDateNegInfinity;
  return is_timestamp(type) && (value == sql::kTimestampInfinity || value == sql::kTimestampNegInfinity);
}

bool is_infinite_cursor(const std::string& cursor) { return cursor == "infinity" || cursor == "-infinity"; }

void CursorTracker::observe(const sql::ColumnBatch& batch) {
  if (column < 0) return;
  const sql::Column& col = batch.column(static_cast<size_t>(column));
  switch (type.id()) {
    case TypeId::kInt16: observe_as<int16_t>(col, max); break;
    case TypeId::kInt32: observe_as<int32_t>(col, max); break;
    case TypeId::kDate: observe_as<int32_t, true>(col, max, sql::kDateInfinity, sql::kDateNegInfinity); break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      observe_as<int64_t, true>(col, max, sql::kTimestampInfinity, sql::kTimestampNegInfinity);
      break;
    default: observe_as<int64_t>(col, max); break;
  }
}

std::string format_cursor(const LogicalType& type, int64_t value) {
  if (is_infinity(type, value)) return value > 0 ? "infinity" : "-infinity";
  switch (type.id()) {
    case TypeId::kDate: return format_date(value);
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      int64_t days = value >= 0 ? value / 86400000000LL : -((-value + 86400000000LL - 1) / 86400000000LL);
      int64_t micros = value - days * 86400000000LL;
      std::string out = format_date(days) + " ";
      int64_t secs = micros / 1000000;
      append2(out, secs / 3600);
      out += ":";
      append2(out, secs / 60 % 60);
      out += ":";
      append2(out, secs % 60);
      if (int64_t frac = micros % 1000000) {
        std::string f = std::to_string(frac);
        out += "." + std::string(6 - f.size(), '0') + f;
      }
      if (type.id() == TypeId::kTimestampTz) out += "+00";
      return out;
    }
    default: return std::to_string(value);
  }
}

std::string postgres_cursor_text(const std::string& cursor) {
  const bool negative = !cursor.empty() && cursor[0] == '-';
  size_t digits = negative ? 1 : 0;
  while (digits < cursor.size() && cursor[digits] >= '0' && cursor[digits] <= '9') ++digits;
  const size_t year_digits = digits - (negative ? 1 : 0);
  // Only a date's year (4+ digits and a dash) is rewritten, never a negative integer.
  if (year_digits < 4 || digits >= cursor.size() || cursor[digits] != '-') return cursor;
  const int64_t year = std::stoll(cursor.substr(0, digits));
  if (year > 0) return cursor;
  std::string era_year = std::to_string(1 - year);
  if (era_year.size() < 4) era_year.insert(0, 4 - era_year.size(), '0');
  return era_year + cursor.substr(digits) + " BC";
}

}  // namespace strata::ingest
