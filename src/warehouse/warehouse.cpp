#include "warehouse/warehouse.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

#include "common/time.h"

namespace strata::warehouse {

namespace {

using sql::TypeId;

std::string date_text(int64_t days) {
  if (days == sql::kDateInfinity) return "infinity";
  if (days == sql::kDateNegInfinity) return "-infinity";
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string timestamp_text(int64_t micros) {
  if (micros == sql::kTimestampInfinity) return "infinity";
  if (micros == sql::kTimestampNegInfinity) return "-infinity";
  int64_t days = micros / 86400000000LL, rest = micros % 86400000000LL;
  if (rest < 0) {
    rest += 86400000000LL;
    days -= 1;
  }
  return date_text(days) + " " + sql::time_text(rest);
}

std::string plural(int64_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 || n == -1 ? "" : "s");
}

std::string interval_text(const sql::IntervalValue& v) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (v.months / 12 != 0) add(plural(v.months / 12, "year"));
  if (v.months % 12 != 0) add(plural(v.months % 12, "month"));
  if (v.days != 0) add(plural(v.days, "day"));
  if (v.micros != 0 || out.empty()) add((v.micros < 0 ? "-" : "") + sql::time_text(v.micros < 0 ? -v.micros : v.micros));
  return out;
}

// An unscaled integer as a decimal with `scale` digits after the point.
std::string decimal_text(__int128 value, int scale) {
  bool negative = value < 0;
  unsigned __int128 magnitude = negative ? static_cast<unsigned __int128>(-(value + 1)) + 1
                                         : static_cast<unsigned __int128>(value);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, scale + 1 - digits.size(), '0');
    digits.insert(digits.size() - scale, ".");
  }
  return negative ? "-" + digits : digits;
}

template <typename T>
std::string float_text(T v) {
  if (v != v) return "nan";
  if (v == std::numeric_limits<T>::infinity()) return "inf";
  if (v == -std::numeric_limits<T>::infinity()) return "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string uuid_text(const uint8_t* b) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

std::string blob_text(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

std::string value_text(const sql::Column& col, size_t row) {
  if (col.is_null(row)) return "";
  const sql::LogicalType& t = col.type();
  switch (t.id()) {
    case TypeId::kBoolean: return col.get<uint8_t>(row) ? "true" : "false";
    case TypeId::kInt16: return std::to_string(col.get<int16_t>(row));
    case TypeId::kInt32: return std::to_string(col.get<int32_t>(row));
    case TypeId::kInt64: return std::to_string(col.get<int64_t>(row));
    case TypeId::kFloat: return float_text(col.get<float>(row));
    case TypeId::kDouble: return float_text(col.get<double>(row));
    case TypeId::kDecimal: {
      if (t.precision() <= 18) return decimal_text(col.get<int64_t>(row), t.scale());
      auto v = col.get<sql::Int128>(row);
      __int128 wide = (static_cast<__int128>(v.upper) << 64) | static_cast<__int128>(v.lower);
      return decimal_text(wide, t.scale());
    }
    case TypeId::kVarchar:
    case TypeId::kJson: return std::string(col.get_bytes(row));
    case TypeId::kBlob: return blob_text(col.get_bytes(row));
    case TypeId::kDate: return date_text(col.get<int32_t>(row));
    case TypeId::kTime: return sql::time_text(col.get<int64_t>(row));
    case TypeId::kTimeTz: return sql::timetz_text(col.get<sql::TimeTzValue>(row));
    case TypeId::kTimestamp: return timestamp_text(col.get<int64_t>(row));
    case TypeId::kTimestampTz: {
      int64_t v = col.get<int64_t>(row);
      std::string text = timestamp_text(v);
      return v == sql::kTimestampInfinity || v == sql::kTimestampNegInfinity ? text : text + "+00";
    }
    case TypeId::kInterval: return interval_text(col.get<sql::IntervalValue>(row));
    case TypeId::kUuid: return uuid_text(col.raw(row));
    case TypeId::kList: {
      auto [begin, end] = col.list_range(row);
      std::string out = "[";
      for (uint64_t i = begin; i < end; ++i) {
        if (i > begin) out += ", ";
        out += col.child().is_null(i) ? "NULL" : value_text(col.child(), i);
      }
      return out + "]";
    }
  }
  return "";
}

size_t QueryResult::num_rows() const {
  size_t n = 0;
  for (const auto& b : batches) n += b.num_rows();
  return n;
}

std::pair<const sql::ColumnBatch*, size_t> QueryResult::locate(size_t row) const {
  for (const auto& b : batches) {
    if (row < b.num_rows()) return {&b, row};
    row -= b.num_rows();
  }
  return {nullptr, 0};
}

std::string QueryResult::cell_text(size_t row, size_t col) const {
  auto [batch, r] = locate(row);
  return value_text(batch->column(col), r);
}

bool QueryResult::is_null(size_t row, size_t col) const {
  auto [batch, r] = locate(row);
  return batch->column(col).is_null(r);
}

std::string qualified_name(const sql::Dialect& dialect, const Relation& relation) {
  return dialect.qualify(relation.database, relation.schema, relation.name);
}

std::string create_schema_sql(const sql::Dialect& dialect, std::string_view database, std::string_view schema) {
  std::string out = "CREATE SCHEMA IF NOT EXISTS ";
  if (!database.empty()) out += dialect.quote_identifier(database) + ".";
  return out + dialect.quote_identifier(schema);
}

std::string create_table_sql(const sql::Dialect& dialect, const Relation& relation, const sql::Schema& schema,
                             bool if_not_exists, const std::vector<std::string>& zstd_columns) {
  const bool duckdb = dialect.id() == sql::DialectId::kDuckDb;
  std::string out = "CREATE TABLE ";
  if (if_not_exists) out += "IF NOT EXISTS ";
  out += qualified_name(dialect, relation) + " (";
  for (size_t i = 0; i < schema.size(); ++i) {
    if (i > 0) out += ", ";
    out += dialect.quote_identifier(schema[i].name) + " " + dialect.type_name(schema[i].type);
    if (!schema[i].nullable) out += " NOT NULL";
    if (duckdb && schema[i].type.is_variable_width() &&
        std::find(zstd_columns.begin(), zstd_columns.end(), schema[i].name) != zstd_columns.end()) {
      out += " USING COMPRESSION zstd";
    }
  }
  return out + ")";
}

Result<std::string> Warehouse::try_lock(std::string_view name) {
  (void)name;
  return std::string();
}

Status Warehouse::load(const Relation& relation, const sql::Schema& schema, const BatchSource& next) {
  STRATA_ASSIGN(std::unique_ptr<BulkWriter> bulk, writer(relation, schema));
  while (true) {
    STRATA_ASSIGN(std::optional<sql::ColumnBatch> batch, next());
    if (!batch) break;
    STRATA_TRY(bulk->append(*batch));
  }
  return bulk->finish();
}

}  // namespace strata::warehouse
