#pragma once
// LogicalType: the one type vocabulary between sources and warehouses (DESIGN.md, key types).
// A value type: cheap to copy (LIST shares its child), immutable once built, thread-safe to read.

#include <cstdint>
#include <memory>
#include <string>

namespace strata::sql {

enum class TypeId : uint8_t {
  kBoolean,
  kInt16,
  kInt32,
  kInt64,
  kFloat,
  kDouble,
  kDecimal,  // precision 1..38, scale 0..precision
  kVarchar,
  kBlob,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
  kJson,
  kList,
  kTimeTz,  // time of day with a UTC offset (PostgreSQL's timetz)
};

class LogicalType {
 public:
  LogicalType() = default;  // BOOLEAN
  explicit LogicalType(TypeId id) : id_(id) {}

  static LogicalType boolean() { return LogicalType(TypeId::kBoolean); }
  static LogicalType int16() { return LogicalType(TypeId::kInt16); }
  static LogicalType int32() { return LogicalType(TypeId::kInt32); }
  static LogicalType int64() { return LogicalType(TypeId::kInt64); }
  static LogicalType float32() { return LogicalType(TypeId::kFloat); }
  static LogicalType float64() { return LogicalType(TypeId::kDouble); }
  // Precondition: 1 <= precision <= 38, 0 <= scale <= precision.
  static LogicalType decimal(uint8_t precision, uint8_t scale);
  static LogicalType varchar() { return LogicalType(TypeId::kVarchar); }
  static LogicalType blob() { return LogicalType(TypeId::kBlob); }
  static LogicalType date() { return LogicalType(TypeId::kDate); }
  static LogicalType time() { return LogicalType(TypeId::kTime); }
  static LogicalType timetz() { return LogicalType(TypeId::kTimeTz); }
  static LogicalType timestamp() { return LogicalType(TypeId::kTimestamp); }
  static LogicalType timestamptz() { return LogicalType(TypeId::kTimestampTz); }
  static LogicalType interval() { return LogicalType(TypeId::kInterval); }
  static LogicalType uuid() { return LogicalType(TypeId::kUuid); }
  static LogicalType json() { return LogicalType(TypeId::kJson); }
  static LogicalType list(LogicalType child);

  TypeId id() const { return id_; }
  uint8_t precision() const { return precision_; }
  uint8_t scale() const { return scale_; }
  // The element type of a LIST. Precondition: id() == kList.
  const LogicalType& child() const { return *child_; }

  // Bytes per value in a ColumnBatch's fixed-width storage; 0 for variable-width types
  // (VARCHAR, BLOB, JSON) and LIST.
  size_t fixed_width() const;
  bool is_variable_width() const { return id_ == TypeId::kVarchar || id_ == TypeId::kBlob || id_ == TypeId::kJson; }

  // "DECIMAL(18,2)", "LIST(INT32)", ... — stable, parseable by parse_logical_type.
  std::string to_string() const;

  bool operator==(const LogicalType& other) const;
  bool operator!=(const LogicalType& other) const { return !(*this == other); }

 private:
  TypeId id_ = TypeId::kBoolean;
  uint8_t precision_ = 0;
  uint8_t scale_ = 0;
  std::shared_ptr<const LogicalType> child_;
};

// Parses the output of LogicalType::to_string(); false when malformed.
bool parse_logical_type(const std::string& text, LogicalType& out);

// Physical representation in a ColumnBatch (the same as DuckDB's where it exists):
//   BOOLEAN uint8 (0/1); INT16/32/64 and FLOAT/DOUBLE native; DECIMAL p<=18 int64, else Int128
//   (the unscaled value); DATE int32 days since 1970-01-01; TIME int64 microseconds since
//   midnight; TIMETZ TimeTzValue; TIMESTAMP/TIMESTAMPTZ int64 microseconds since the epoch (TIMESTAMPTZ in UTC; +/-
//   infinity as INT64_MAX / -INT64_MAX, and DATE's as INT32_MAX / -INT32_MAX); INTERVAL IntervalValue; UUID 16 bytes big-endian
//   (RFC 4122 order); VARCHAR/JSON UTF-8 bytes; BLOB bytes; LIST offsets into a child column.
struct Int128 {
  uint64_t lower = 0;
  int64_t upper = 0;
};
// TIMETZ: microseconds since midnight (local to the offset) and the offset from UTC in seconds,
// east positive (+05:30 is 19800), within ±15:59:59 as PostgreSQL and DuckDB allow. `unused` stays
// 0 so equal values have equal bytes.
struct TimeTzValue {
  int64_t micros = 0;
  int32_t offset_seconds = 0;
  int32_t unused = 0;
};
struct IntervalValue {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
};

// PostgreSQL's text forms, which DuckDB prints too: TIME "HH:MM:SS" plus ".ffffff" without
// trailing zeros when the fraction is non-zero (more than two hour digits when micros passes
// 100 hours, as in an interval); TIMETZ that plus the offset "+HH[:MM[:SS]]".
std::string time_text(int64_t micros);
std::string timetz_text(const TimeTzValue& value);

inline constexpr int64_t kTimestampInfinity = INT64_MAX;
// DATE ±infinity, as DuckDB stores them.
inline constexpr int32_t kDateInfinity = INT32_MAX;
inline constexpr int32_t kDateNegInfinity = -INT32_MAX;
inline constexpr int64_t kTimestampNegInfinity = -INT64_MAX;

}  // namespace strata::sql
