#include "sql/logical_type.h"

#include <cassert>
#include <cstdio>

namespace strata::sql {

LogicalType LogicalType::decimal(uint8_t precision, uint8_t scale) {
  assert(precision >= 1 && precision <= 38 && scale <= precision);
  LogicalType t(TypeId::kDecimal);
  t.precision_ = precision;
  t.scale_ = scale;
  return t;
}

LogicalType LogicalType::list(LogicalType child) {
  LogicalType t(TypeId::kList);
  t.child_ = std::make_shared<const LogicalType>(std::move(child));
  return t;
}

size_t LogicalType::fixed_width() const {
  switch (id_) {
    case TypeId::kBoolean: return 1;
    case TypeId::kInt16: return 2;
    case TypeId::kInt32: return 4;
    case TypeId::kInt64: return 8;
    case TypeId::kFloat: return 4;
    case TypeId::kDouble: return 8;
    case TypeId::kDecimal: return precision_ <= 18 ? 8 : 16;
    case TypeId::kDate: return 4;
    case TypeId::kTime: return 8;
    case TypeId::kTimeTz: return 16;
    case TypeId::kTimestamp: return 8;
    case TypeId::kTimestampTz: return 8;
    case TypeId::kInterval: return 16;
    case TypeId::kUuid: return 16;
    case TypeId::kVarchar:
    case TypeId::kBlob:
    case TypeId::kJson:
    case TypeId::kList: return 0;
  }
  return 0;
}

std::string LogicalType::to_string() const {
  switch (id_) {
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kInt16: return "INT16";
    case TypeId::kInt32: return "INT32";
    case TypeId::kInt64: return "INT64";
    case TypeId::kFloat: return "FLOAT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kDecimal:
      return "DECIMAL(" + std::to_string(precision_) + "," + std::to_string(scale_) + ")";
    case TypeId::kVarchar: return "VARCHAR";
    case TypeId::kBlob: return "BLOB";
    case TypeId::kDate: return "DATE";
    case TypeId::kTime: return "TIME";
    case TypeId::kTimeTz: return "TIMETZ";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kTimestampTz: return "TIMESTAMPTZ";
    case TypeId::kInterval: return "INTERVAL";
    case TypeId::kUuid: return "UUID";
    case TypeId::kJson: return "JSON";
    case TypeId::kList: return "LIST(" + child_->to_string() + ")";
  }
  return "?";
}

bool LogicalType::operator==(const LogicalType& other) const {
  if (id_ != other.id_) return false;
  if (id_ == TypeId::kDecimal) return precision_ == other.precision_ && scale_ == other.scale_;
  if (id_ == TypeId::kList) return *child_ == *other.child_;
  return true;
}

namespace {

void append_two_digits(std::string& out, int64_t v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

std::string time_text(int64_t micros) {
  const int64_t seconds = micros / 1000000, frac = micros % 1000000;
  const int64_t hours = seconds / 3600;  // more than 99 in an interval's text
  std::string out = hours < 10 ? "0" + std::to_string(hours) : std::to_string(hours);
  out.push_back(':');
  append_two_digits(out, seconds / 60 % 60);
  out.push_back(':');
  append_two_digits(out, seconds % 60);
  if (frac != 0) {
    out.push_back('.');
    for (int64_t unit = 100000, rest = frac; rest != 0; unit /= 10) {
      out.push_back(static_cast<char>('0' + rest / unit));
      rest %= unit;
    }
  }
  return out;
}

std::string timetz_text(const TimeTzValue& value) {
  std::string out = time_text(value.micros);
  const int32_t offset = value.offset_seconds;
  const int32_t magnitude = offset < 0 ? -offset : offset;
  out.push_back(offset < 0 ? '-' : '+');
  append_two_digits(out, magnitude / 3600);
  if (magnitude % 3600 != 0) {
    out.push_back(':');
    append_two_digits(out, magnitude / 60 % 60);
    if (magnitude % 60 != 0) {
      out.push_back(':');
      append_two_digits(out, magnitude % 60);
    }
  }
  return out;
}

bool parse_logical_type(const std::string& text, LogicalType& out) {
  static const std::pair<const char*, TypeId> kSimple[] = {
      {"BOOLEAN", TypeId::kBoolean}, {"INT16", TypeId::kInt16},         {"INT32", TypeId::kInt32},
      {"INT64", TypeId::kInt64},     {"FLOAT", TypeId::kFloat},         {"DOUBLE", TypeId::kDouble},
      {"VARCHAR", TypeId::kVarchar}, {"BLOB", TypeId::kBlob},           {"DATE", TypeId::kDate},
      {"TIME", TypeId::kTime},       {"TIMESTAMP", TypeId::kTimestamp}, {"TIMESTAMPTZ", TypeId::kTimestampTz},
      {"INTERVAL", TypeId::kInterval}, {"UUID", TypeId::kUuid},         {"JSON", TypeId::kJson},
      {"TIMETZ", TypeId::kTimeTz},
  };
  for (const auto& [name, id] : kSimple) {
    if (text == name) {
      out = LogicalType(id);
      return true;
    }
  }
  if (text.rfind("LIST(", 0) == 0 && text.back() == ')') {
    LogicalType child;
    if (!parse_logical_type(text.substr(5, text.size() - 6), child)) return false;
    out = LogicalType::list(child);
    return true;
  }
  unsigned p = 0, s = 0;
  if (std::sscanf(text.c_str(), "DECIMAL(%u,%u)", &p, &s) == 2 && p >= 1 && p <= 38 && s <= p) {
    out = LogicalType::decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(s));
    return true;
  }
  return false;
}

}  // namespace strata::sql
