#include "warehouse/bigquery/values.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "common/strings.h"
#include "common/time.h"
#include "warehouse/bigquery/credentials.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse::bigquery {

namespace {

using sql::LogicalType;
using sql::TypeId;

std::string upper_type(const Json& field) { return to_upper(field.value("type", std::string("STRING"))); }

bool is_repeated(const Json& field) { return field.value("mode", std::string()) == "REPEATED"; }

// "precision"/"scale" arrive as strings ("10") in the REST API; 0 when absent.
int int_param(const Json& field, const char* key) {
  auto it = field.find(key);
  if (it == field.end()) return 0;
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_string()) return std::atoi(it->get<std::string>().c_str());
  return 0;
}

LogicalType element_type(const Json& field) {
  const std::string t = upper_type(field);
  if (t == "INTEGER" || t == "INT64") return LogicalType::int64();
  if (t == "FLOAT" || t == "FLOAT64") return LogicalType::float64();
  if (t == "NUMERIC" || t == "DECIMAL" || t == "BIGNUMERIC" || t == "BIGDECIMAL") {
    const int p = int_param(field, "precision");
    const int s = int_param(field, "scale");
    if (p >= 1 && p <= 38 && s >= 0 && s <= p) return LogicalType::decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(s));
    return LogicalType::decimal(38, 9);
  }
  if (t == "BOOLEAN" || t == "BOOL") return LogicalType::boolean();
  if (t == "BYTES") return LogicalType::blob();
  if (t == "DATE") return LogicalType::date();
  if (t == "TIME") return LogicalType::time();
  if (t == "DATETIME") return LogicalType::timestamp();
  if (t == "TIMESTAMP") return LogicalType::timestamptz();
  if (t == "INTERVAL") return LogicalType::interval();
  if (t == "JSON" || t == "RECORD" || t == "STRUCT") return LogicalType::json();
  return LogicalType::varchar();  // STRING, GEOGRAPHY, RANGE and anything newer
}

Error bad_value(const Json& field, std::string_view text) {
  std::string shown(text.substr(0, 64));
  return Error(ErrorCode::kFailed, "BigQuery returned '" + shown + "' for column " + field.value("name", std::string()) +
                                       " of type " + field_native_type(field) + ", which does not parse as that type");
}

template <typename T>
bool parse_int(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_double(std::string_view text, double& out) {
  if (text == "Infinity" || text == "inf") return out = std::numeric_limits<double>::infinity(), true;
  if (text == "-Infinity" || text == "-inf") return out = -std::numeric_limits<double>::infinity(), true;
  if (text == "NaN" || text == "nan") return out = std::numeric_limits<double>::quiet_NaN(), true;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "-123.4500" into the unscaled value at `scale`; false when malformed, when a non-zero digit
// falls beyond the scale, or when it has more than `precision` digits.
bool parse_decimal(std::string_view text, int precision, int scale, __int128& out) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) negative = text[0] == '-', text.remove_prefix(1);
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() && frac.empty()) return false;
  while (!frac.empty() && static_cast<int>(frac.size()) > scale) {
    if (frac.back() != '0') return false;
    frac.remove_suffix(1);
  }
  while (whole.size() > 1 && whole[0] == '0') whole.remove_prefix(1);
  if (whole == "0") whole = {};
  if (static_cast<int>(whole.size()) > precision - scale) return false;
  __int128 v = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  for (int i = 0; i < scale; ++i) {
    const char c = i < static_cast<int>(frac.size()) ? frac[i] : '0';
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = negative ? -v : v;
  return true;
}

bool parse_date(std::string_view text, int64_t& days) {
  const auto parts = split(text, '-');
  int y = 0, m = 0, d = 0;
  if (parts.size() != 3 || !parse_int(parts[0], y) || !parse_int(parts[1], m) || !parse_int(parts[2], d)) return false;
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

// "HH:MM:SS[.ffffff]" into microseconds since midnight.
bool parse_time(std::string_view text, int64_t& micros) {
  const size_t dot = text.find('.');
  const auto parts = split(text.substr(0, dot), ':');
  int h = 0, m = 0, s = 0;
  if (parts.size() != 3 || !parse_int(parts[0], h) || !parse_int(parts[1], m) || !parse_int(parts[2], s)) return false;
  int64_t frac = 0;
  if (dot != std::string_view::npos) {
    std::string digits(text.substr(dot + 1));
    if (digits.empty() || digits.size() > 9) return false;
    digits.resize(6, '0');
    if (!parse_int(std::string_view(digits).substr(0, 6), frac)) return false;
  }
  micros = ((static_cast<int64_t>(h) * 60 + m) * 60 + s) * 1000000 + frac;
  return true;
}

bool parse_datetime(std::string_view text, int64_t& micros) {
  const size_t sep = text.find_first_of("T ");
  int64_t days = 0, time = 0;
  if (!parse_date(text.substr(0, sep), days)) return false;
  if (sep != std::string_view::npos && !parse_time(text.substr(sep + 1), time)) return false;
  micros = days * 86400000000LL + time;
  return true;
}

// int64 microseconds (useInt64Timestamp), or float seconds ("1.7E9").
bool parse_timestamp(std::string_view text, int64_t& micros) {
  if (parse_int(text, micros)) return true;
  double seconds = 0;
  if (!parse_double(text, seconds) || !std::isfinite(seconds)) return false;
  micros = std::llround(seconds * 1e6);
  return true;
}

// BigQuery's canonical INTERVAL text: "[-]Y-M [-]D [-]H:M:S[.F]".
bool parse_interval(std::string_view text, sql::IntervalValue& out) {
  const auto parts = split(text, ' ');
  if (parts.size() != 3) return false;
  std::string_view ym = parts[0];
  const bool neg_months = !ym.empty() && ym[0] == '-';
  if (neg_months) ym.remove_prefix(1);
  const size_t dash = ym.find('-');
  int years = 0, months = 0, days = 0;
  if (dash == std::string_view::npos || !parse_int(ym.substr(0, dash), years) || !parse_int(ym.substr(dash + 1), months)) {
    return false;
  }
  if (!parse_int(std::string_view(parts[1]), days)) return false;
  std::string_view hms = parts[2];
  const bool neg_time = !hms.empty() && hms[0] == '-';
  if (neg_time) hms.remove_prefix(1);
  const size_t colon = hms.find(':');
  int64_t hours = 0, rest = 0;
  if (colon == std::string_view::npos || !parse_int(hms.substr(0, colon), hours) ||
      !parse_time("00:" + std::string(hms.substr(colon + 1)), rest)) {
    return false;
  }
  out.months = (years * 12 + months) * (neg_months ? -1 : 1);
  out.days = days;
  out.micros = (hours * 3600000000LL + rest) * (neg_time ? -1 : 1);
  return true;
}

// A RECORD value ({"f": [...]}) or a scalar, as plain JSON.
Json plain_json(const Json& field, const Json& v);

Json plain_scalar(const Json& field, const Json& v) {
  if (v.is_null()) return nullptr;
  if (v.is_object()) {
    Json out = Json::object();
    const Json& subfields = field.contains("fields") ? field["fields"] : Json::array();
    const Json& cells = v.contains("f") ? v["f"] : Json::array();
    for (size_t i = 0; i < subfields.size() && i < cells.size(); ++i) {
      out[subfields[i].value("name", std::string())] = plain_json(subfields[i], cells[i].value("v", Json()));
    }
    return out;
  }
  if (!v.is_string()) return v;
  const std::string t = upper_type(field);
  const std::string& text = v.get_ref<const std::string&>();
  if (t == "INTEGER" || t == "INT64") {
    int64_t i = 0;
    if (parse_int(std::string_view(text), i)) return i;
  } else if (t == "FLOAT" || t == "FLOAT64") {
    double d = 0;
    if (parse_double(text, d) && std::isfinite(d)) return d;
  } else if (t == "BOOLEAN" || t == "BOOL") {
    return text == "true";
  } else if (t == "JSON") {
    Json parsed = Json::parse(text, nullptr, false);
    if (!parsed.is_discarded()) return parsed;
  }
  return v;
}

Json plain_json(const Json& field, const Json& v) {
  if (is_repeated(field) && v.is_array()) {
    Json out = Json::array();
    for (const Json& item : v) out.push_back(plain_scalar(field, item.value("v", Json())));
    return out;
  }
  return plain_scalar(field, v);
}

Status append_scalar(const Json& field, const Json& v, sql::Column& column) {
  if (v.is_null()) {
    column.append_null();
    return ok_status();
  }
  const LogicalType& type = column.type();
  if (type.id() == TypeId::kJson && v.is_object()) {  // a RECORD
    column.append_bytes(plain_scalar(field, v).dump(-1, ' ', false, Json::error_handler_t::replace));
    return ok_status();
  }
  if (!v.is_string()) return bad_value(field, v.dump());
  const std::string& text = v.get_ref<const std::string&>();
  switch (type.id()) {
    case TypeId::kInt64: {
      int64_t i = 0;
      if (!parse_int(std::string_view(text), i)) return bad_value(field, text);
      column.append(i);
      return ok_status();
    }
    case TypeId::kDouble: {
      double d = 0;
      if (!parse_double(text, d)) return bad_value(field, text);
      column.append(d);
      return ok_status();
    }
    case TypeId::kDecimal: {
      __int128 value = 0;
      if (!parse_decimal(text, type.precision(), type.scale(), value)) {
        return Error(ErrorCode::kFailed, "column " + field.value("name", std::string()) + ": the " +
                                             field_native_type(field) + " value " + text.substr(0, 80) +
                                             " does not fit " + type.to_string(),
                     SourceLocation{}, "cast it to STRING (or to NUMERIC) in the query");
      }
      if (type.precision() <= 18) {
        column.append(static_cast<int64_t>(value));
      } else {
        sql::Int128 wide{static_cast<uint64_t>(value), static_cast<int64_t>(value >> 64)};
        column.append(wide);
      }
      return ok_status();
    }
    case TypeId::kBoolean: {
      if (text != "true" && text != "false") return bad_value(field, text);
      column.append(static_cast<uint8_t>(text == "true"));
      return ok_status();
    }
    case TypeId::kBlob: {
      auto bytes = base64_decode(text);
      if (!bytes.ok()) return bad_value(field, text);
      column.append_bytes(*bytes);
      return ok_status();
    }
    case TypeId::kDate: {
      int64_t days = 0;
      if (!parse_date(text, days)) return bad_value(field, text);
      column.append(static_cast<int32_t>(days));
      return ok_status();
    }
    case TypeId::kTime: {
      int64_t micros = 0;
      if (!parse_time(text, micros)) return bad_value(field, text);
      column.append(micros);
      return ok_status();
    }
    case TypeId::kTimestamp: {
      int64_t micros = 0;
      if (!parse_datetime(text, micros)) return bad_value(field, text);
      column.append(micros);
      return ok_status();
    }
    case TypeId::kTimestampTz: {
      int64_t micros = 0;
      if (!parse_timestamp(text, micros)) return bad_value(field, text);
      column.append(micros);
      return ok_status();
    }
    case TypeId::kInterval: {
      sql::IntervalValue interval;
      if (!parse_interval(text, interval)) return bad_value(field, text);
      column.append(interval);
      return ok_status();
    }
    default:
      column.append_bytes(text);
      return ok_status();
  }
}

Status append_value(const Json& field, const Json& v, sql::Column& column) {
  if (column.type().id() != TypeId::kList) return append_scalar(field, v, column);
  if (v.is_null()) {
    column.append_null();
    return ok_status();
  }
  if (!v.is_array()) return bad_value(field, v.dump());
  for (const Json& item : v) {
    STRATA_TRY(append_scalar(field, item.is_object() ? item.value("v", Json()) : item, column.child()));
  }
  column.append_list();
  return ok_status();
}

constexpr int64_t kMaxExactDouble = 9007199254740992LL;  // 2^53

Result<Json> cell_json(const sql::Column& column, size_t row, bool embed_json) {
  const LogicalType& type = column.type();
  switch (type.id()) {
    case TypeId::kBoolean: return Json(column.get<uint8_t>(row) != 0);
    case TypeId::kInt16: return Json(column.get<int16_t>(row));
    case TypeId::kInt32: return Json(column.get<int32_t>(row));
    case TypeId::kInt64: {
      const int64_t v = column.get<int64_t>(row);
      return v > -kMaxExactDouble && v < kMaxExactDouble ? Json(v) : Json(std::to_string(v));
    }
    case TypeId::kFloat:
    case TypeId::kDouble: {
      const double d = type.id() == TypeId::kFloat ? column.get<float>(row) : column.get<double>(row);
      if (std::isnan(d)) return Json("NaN");
      if (std::isinf(d)) return Json(d > 0 ? "Infinity" : "-Infinity");
      return Json(d);
    }
    case TypeId::kJson: {
      const std::string_view text = column.get_bytes(row);
      if (embed_json) {
        Json parsed = Json::parse(text, nullptr, false);
        if (!parsed.is_discarded()) return parsed;
      }
      return Json(std::string(text));
    }
    case TypeId::kBlob: return Json(base64_encode(column.get_bytes(row)));
    case TypeId::kDate: {
      const int32_t days = column.get<int32_t>(row);
      if (days == sql::kDateInfinity || days == sql::kDateNegInfinity) {
        return Error(ErrorCode::kFailed, "BigQuery has no infinite DATE");
      }
      return Json(value_text(column, row));
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      const int64_t micros = column.get<int64_t>(row);
      if (micros == sql::kTimestampInfinity || micros == sql::kTimestampNegInfinity) {
        return Error(ErrorCode::kFailed, "BigQuery has no infinite TIMESTAMP or DATETIME");
      }
      std::string text = value_text(column, row);
      if (type.id() == TypeId::kTimestampTz) text += ":00";  // "+00" → "+00:00"
      return Json(std::move(text));
    }
    case TypeId::kInterval: {
      const auto v = column.get<sql::IntervalValue>(row);
      const int64_t abs_months = std::llabs(static_cast<long long>(v.months));
      const int64_t abs_micros = v.micros < 0 ? -v.micros : v.micros;
      std::string text = (v.months < 0 ? "-" : "") + std::to_string(abs_months / 12) + "-" +
                         std::to_string(abs_months % 12) + " " + std::to_string(v.days) + " " +
                         (v.micros < 0 ? "-" : "") + std::to_string(abs_micros / 3600000000LL) + ":" +
                         std::to_string(abs_micros / 60000000 % 60) + ":" + std::to_string(abs_micros / 1000000 % 60);
      if (abs_micros % 1000000) {
        std::string frac = std::to_string(abs_micros % 1000000);
        text += "." + std::string(6 - frac.size(), '0') + frac;
      }
      return Json(std::move(text));
    }
    case TypeId::kList: {
      Json out = Json::array();
      auto [begin, end] = column.list_range(row);
      for (uint64_t i = begin; i < end; ++i) {
        if (column.child().is_null(i)) return Error(ErrorCode::kFailed, "BigQuery arrays cannot hold NULL elements");
        STRATA_ASSIGN(Json item, cell_json(column.child(), i, embed_json));
        out.push_back(std::move(item));
      }
      return out;
    }
    default: return Json(value_text(column, row));  // DECIMAL, VARCHAR, TIME, TIMETZ, UUID
  }
}

}  // namespace

sql::LogicalType field_type(const Json& field) {
  LogicalType element = element_type(field);
  return is_repeated(field) ? LogicalType::list(element) : element;
}

std::string field_native_type(const Json& field) {
  std::string t = upper_type(field);
  if (t == "INTEGER") t = "INT64";
  if (t == "FLOAT") t = "FLOAT64";
  if (t == "BOOLEAN") t = "BOOL";
  if (t == "RECORD" || t == "STRUCT") {
    std::string inner;
    for (const Json& sub : field.value("fields", Json::array())) {
      inner += (inner.empty() ? "" : ", ") + sub.value("name", std::string()) + " " + field_native_type(sub);
    }
    t = "STRUCT<" + inner + ">";
  } else if (const int p = int_param(field, "precision"); p > 0) {
    t += "(" + std::to_string(p) + (field.contains("scale") ? ", " + std::to_string(int_param(field, "scale")) : "") + ")";
  }
  return is_repeated(field) ? "ARRAY<" + t + ">" : t;
}

sql::Schema schema_from_json(const Json& table_schema) {
  sql::Schema out;
  if (!table_schema.is_object() || !table_schema.contains("fields")) return out;
  for (const Json& field : table_schema["fields"]) {
    out.push_back({field.value("name", std::string()), field_type(field), field.value("mode", std::string()) != "REQUIRED"});
  }
  return out;
}

Status append_row(const Json& fields, const Json& row, sql::ColumnBatch& batch) {
  const Json& cells = row.contains("f") ? row["f"] : Json::array();
  if (cells.size() != batch.num_columns() || fields.size() != batch.num_columns()) {
    return Error(ErrorCode::kFailed, "BigQuery returned a row of " + std::to_string(cells.size()) +
                                         " values for a schema of " + std::to_string(batch.num_columns()) + " columns");
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    STRATA_TRY(append_value(fields[i], cells[i].value("v", Json()), batch.column(i)));
  }
  return ok_status();
}

Status append_ndjson_row(const sql::ColumnBatch& batch, size_t row, const std::vector<std::string>& names,
                         std::string& out, const std::vector<bool>& embed_json) {
  Json object = Json::object();
  for (size_t i = 0; i < batch.num_columns(); ++i) {
    const sql::Column& column = batch.column(i);
    if (column.is_null(row)) continue;
    auto value = cell_json(column, row, i < embed_json.size() && embed_json[i]);
    if (!value.ok()) return std::move(value).error().context("column " + names[i]);
    object[names[i]] = std::move(value).value();
  }
  out += object.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += '\n';
  return ok_status();
}

}  // namespace strata::warehouse::bigquery
