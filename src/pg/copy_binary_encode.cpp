#include "pg/copy_binary_encode.h"

#include <cstring>
#include <limits>
#include <utility>

#include "pg/pg_types.h"

namespace strata::pg {

namespace {

constexpr int64_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = kPgEpochDays * 86400LL * 1000000LL;
constexpr uint16_t kNumericNeg = 0x4000;

void put_u16(std::string& out, uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 2);
}
void put_i32(std::string& out, int32_t value) {
  const auto v = static_cast<uint32_t>(value);
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out.append(b, 4);
}
void put_i64(std::string& out, int64_t value) {
  const auto v = static_cast<uint64_t>(value);
  put_i32(out, static_cast<int32_t>(v >> 32));
  put_i32(out, static_cast<int32_t>(v & 0xFFFFFFFFu));
}

bool is_text_oid(uint32_t oid) {
  return oid == oid::kText || oid == oid::kVarchar || oid == oid::kBpchar || oid == oid::kName;
}

bool is_integer(sql::TypeId id) {
  return id == sql::TypeId::kInt16 || id == sql::TypeId::kInt32 || id == sql::TypeId::kInt64;
}

// The logical type's own PostgreSQL type, for array elements and exact matches.
bool same_scalar(const sql::LogicalType& type, uint32_t oid) {
  switch (type.id()) {
    case sql::TypeId::kBoolean: return oid == oid::kBool;
    case sql::TypeId::kInt16: return oid == oid::kInt2 || oid == oid::kInt4 || oid == oid::kInt8 || oid == oid::kNumeric;
    case sql::TypeId::kInt32: return oid == oid::kInt4 || oid == oid::kInt8 || oid == oid::kNumeric;
    case sql::TypeId::kInt64: return oid == oid::kInt8 || oid == oid::kNumeric;
    case sql::TypeId::kFloat: return oid == oid::kFloat4 || oid == oid::kFloat8;
    case sql::TypeId::kDouble: return oid == oid::kFloat8;
    case sql::TypeId::kDecimal: return oid == oid::kNumeric;
    case sql::TypeId::kVarchar:
    case sql::TypeId::kJson: return is_text_oid(oid) || oid == oid::kJson || oid == oid::kJsonb;
    case sql::TypeId::kBlob: return oid == oid::kBytea;
    case sql::TypeId::kDate: return oid == oid::kDate;
    case sql::TypeId::kTime: return oid == oid::kTime;
    case sql::TypeId::kTimeTz: return oid == oid::kTimeTz;
    case sql::TypeId::kTimestamp: return oid == oid::kTimestamp || oid == oid::kTimestampTz;
    case sql::TypeId::kTimestampTz: return oid == oid::kTimestampTz;
    case sql::TypeId::kInterval: return oid == oid::kInterval;
    case sql::TypeId::kUuid: return oid == oid::kUuid;
    case sql::TypeId::kList: return false;
  }
  return false;
}

// An unscaled integer with `scale` decimal places in numeric's binary form: base-10000 digits,
// the weight of the first, the sign and the display scale.
void put_numeric(std::string& out, unsigned __int128 magnitude, bool negative, int scale) {
  std::string decimal;
  do {
    decimal.insert(decimal.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (decimal.size() <= static_cast<size_t>(scale)) decimal.insert(0, scale + 1 - decimal.size(), '0');
  std::string integer = decimal.substr(0, decimal.size() - scale);
  std::string fraction = decimal.substr(decimal.size() - scale);
  integer.insert(0, (4 - integer.size() % 4) % 4, '0');
  fraction.append((4 - fraction.size() % 4) % 4, '0');
  std::vector<int16_t> digits;
  for (size_t i = 0; i < integer.size(); i += 4) digits.push_back(static_cast<int16_t>(std::stoi(integer.substr(i, 4))));
  for (size_t i = 0; i < fraction.size(); i += 4)
    digits.push_back(static_cast<int16_t>(std::stoi(fraction.substr(i, 4))));
  int weight = static_cast<int>(integer.size() / 4) - 1;
  size_t first = 0;
  while (first < digits.size() && digits[first] == 0) ++first, --weight;
  size_t last = digits.size();
  while (last > first && digits[last - 1] == 0) --last;
  if (first == last) weight = 0, negative = false;
  put_u16(out, static_cast<uint16_t>(last - first));
  put_u16(out, static_cast<uint16_t>(static_cast<int16_t>(weight)));
  put_u16(out, negative ? kNumericNeg : 0);
  put_u16(out, static_cast<uint16_t>(scale));
  for (size_t i = first; i < last; ++i) put_u16(out, static_cast<uint16_t>(digits[i]));
}

void put_signed_numeric(std::string& out, __int128 value, int scale) {
  const bool negative = value < 0;
  const unsigned __int128 magnitude =
      negative ? static_cast<unsigned __int128>(-(value + 1)) + 1 : static_cast<unsigned __int128>(value);
  put_numeric(out, magnitude, negative, scale);
}

__int128 integer_value(const sql::Column& col, size_t row) {
  switch (col.type().id()) {
    case sql::TypeId::kInt16: return col.get<int16_t>(row);
    case sql::TypeId::kInt32: return col.get<int32_t>(row);
    default: return col.get<int64_t>(row);
  }
}

// Writes the value's bytes, without the length word, in `oid`'s receive format.
void put_scalar(std::string& out, const sql::Column& col, size_t row, uint32_t oid) {
  switch (col.type().id()) {
    case sql::TypeId::kBoolean: out.push_back(col.get<uint8_t>(row) ? 1 : 0); return;
    case sql::TypeId::kInt16:
    case sql::TypeId::kInt32:
    case sql::TypeId::kInt64: {
      const __int128 v = integer_value(col, row);
      if (oid == oid::kInt2) put_u16(out, static_cast<uint16_t>(static_cast<int16_t>(v)));
      else if (oid == oid::kInt4) put_i32(out, static_cast<int32_t>(v));
      else if (oid == oid::kInt8) put_i64(out, static_cast<int64_t>(v));
      else put_signed_numeric(out, v, 0);
      return;
    }
    case sql::TypeId::kFloat:
    case sql::TypeId::kDouble: {
      if (oid == oid::kFloat4) {
        uint32_t bits = 0;
        const float f = col.get<float>(row);
        std::memcpy(&bits, &f, 4);
        put_i32(out, static_cast<int32_t>(bits));
        return;
      }
      const double d = col.type().id() == sql::TypeId::kFloat ? col.get<float>(row) : col.get<double>(row);
      uint64_t bits = 0;
      std::memcpy(&bits, &d, 8);
      put_i64(out, static_cast<int64_t>(bits));
      return;
    }
    case sql::TypeId::kDecimal: {
      __int128 v = 0;
      if (col.type().precision() <= 18) {
        v = col.get<int64_t>(row);
      } else {
        const auto w = col.get<sql::Int128>(row);
        v = (static_cast<__int128>(w.upper) << 64) | w.lower;
      }
      put_signed_numeric(out, v, col.type().scale());
      return;
    }
    case sql::TypeId::kVarchar:
    case sql::TypeId::kJson:
    case sql::TypeId::kBlob:
      if (oid == oid::kJsonb) out.push_back(1);
      out.append(col.get_bytes(row));
      return;
    case sql::TypeId::kDate: {
      const int32_t days = col.get<int32_t>(row);
      if (days == sql::kDateInfinity) put_i32(out, std::numeric_limits<int32_t>::max());
      else if (days == sql::kDateNegInfinity) put_i32(out, std::numeric_limits<int32_t>::min());
      else put_i32(out, static_cast<int32_t>(days - kPgEpochDays));
      return;
    }
    case sql::TypeId::kTime: put_i64(out, col.get<int64_t>(row)); return;
    case sql::TypeId::kTimeTz: {
      const auto t = col.get<sql::TimeTzValue>(row);
      put_i64(out, t.micros);
      put_i32(out, -t.offset_seconds);  // PostgreSQL counts the zone in seconds west of UTC
      return;
    }
    case sql::TypeId::kTimestamp:
    case sql::TypeId::kTimestampTz: {
      const int64_t t = col.get<int64_t>(row);
      if (t == sql::kTimestampInfinity) put_i64(out, std::numeric_limits<int64_t>::max());
      else if (t == sql::kTimestampNegInfinity) put_i64(out, std::numeric_limits<int64_t>::min());
      else put_i64(out, t - kPgEpochMicros);
      return;
    }
    case sql::TypeId::kInterval: {
      const auto iv = col.get<sql::IntervalValue>(row);
      put_i64(out, iv.micros);
      put_i32(out, iv.days);
      put_i32(out, iv.months);
      return;
    }
    case sql::TypeId::kUuid: out.append(reinterpret_cast<const char*>(col.raw(row)), 16); return;
    case sql::TypeId::kList: return;  // arrays go through ArrayWriter
  }
}

// One array value: checks that nested lists are rectangular, then writes the header and the
// elements in row-major order.
class ArrayWriter {
 public:
  ArrayWriter(const sql::Column& list, uint32_t element_oid) : list_(list), element_oid_(element_oid) {}

  Status put(std::string& out, size_t row) {
    dims_.clear();
    has_null_ = false;
    const sql::Column* level = &list_;
    size_t at = row;
    // The dimensions follow the first element at each level; check() compares every other one.
    while (level->type().id() == sql::TypeId::kList) {
      if (level->is_null(at)) {
        return Error(ErrorCode::kFailed, "a NULL list inside a list has no PostgreSQL array form");
      }
      auto [begin, end] = level->list_range(at);
      dims_.push_back(static_cast<int32_t>(end - begin));
      if (begin == end) break;
      at = begin;
      level = &level->child();
    }
    const bool empty = dims_.back() == 0;
    if (empty && dims_.size() > 1) {
      return Error(ErrorCode::kFailed, "an empty list inside a list has no PostgreSQL array form");
    }
    std::string elements;
    if (!empty) STRATA_TRY(put_level(elements, list_, row, 0));
    put_i32(out, empty ? 0 : static_cast<int32_t>(dims_.size()));
    put_i32(out, has_null_ ? 1 : 0);
    put_i32(out, static_cast<int32_t>(element_oid_));
    if (!empty) {
      for (int32_t d : dims_) {
        put_i32(out, d);
        put_i32(out, 1);  // lower bound
      }
    }
    out += elements;
    return ok_status();
  }

 private:
  Status put_level(std::string& out, const sql::Column& col, size_t row, size_t depth) {
    if (col.is_null(row)) return Error(ErrorCode::kFailed, "a NULL list inside a list has no PostgreSQL array form");
    auto [begin, end] = col.list_range(row);
    if (static_cast<int32_t>(end - begin) != dims_[depth]) {
      return Error(ErrorCode::kFailed,
                   "nested lists of different lengths (" + std::to_string(end - begin) + " and " +
                       std::to_string(dims_[depth]) + ") have no PostgreSQL array form, whose dimensions are fixed");
    }
    const sql::Column& child = col.child();
    for (uint64_t i = begin; i < end; ++i) {
      if (depth + 1 < dims_.size()) {
        STRATA_TRY(put_level(out, child, i, depth + 1));
      } else if (child.is_null(i)) {
        has_null_ = true;
        put_i32(out, -1);
      } else {
        const size_t length_at = out.size();
        put_i32(out, 0);
        put_scalar(out, child, i, element_oid_);
        const auto length = static_cast<int32_t>(out.size() - length_at - 4);
        std::string word;
        put_i32(word, length);
        out.replace(length_at, 4, word);
      }
    }
    return ok_status();
  }

  const sql::Column& list_;
  uint32_t element_oid_;
  std::vector<int32_t> dims_;
  bool has_null_ = false;
};

const sql::LogicalType& innermost(const sql::LogicalType& type) {
  return type.id() == sql::TypeId::kList ? innermost(type.child()) : type;
}

}  // namespace

bool can_encode(const sql::LogicalType& type, uint32_t type_oid, uint32_t element_oid) {
  if (type.id() == sql::TypeId::kList) return element_oid != 0 && same_scalar(innermost(type), element_oid);
  if (element_oid != 0) return false;
  if (is_integer(type.id()) && type_oid == oid::kInt2) return type.id() == sql::TypeId::kInt16;
  return same_scalar(type, type_oid);
}

CopyBinaryEncoder::CopyBinaryEncoder(std::vector<CopyInColumn> columns) : columns_(std::move(columns)) {}

std::string CopyBinaryEncoder::header() {
  std::string out("PGCOPY\n\xff\r\n\0", 11);
  put_i32(out, 0);  // flags
  put_i32(out, 0);  // header extension length
  return out;
}

std::string CopyBinaryEncoder::trailer() {
  std::string out;
  put_u16(out, 0xFFFF);
  return out;
}

Status CopyBinaryEncoder::encode(const sql::ColumnBatch& batch, std::string& out) const {
  if (batch.num_columns() != columns_.size()) {
    return Error(ErrorCode::kFailed, "the batch has " + std::to_string(batch.num_columns()) + " columns, the table " +
                                         std::to_string(columns_.size()));
  }
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (batch.column(c).type() != columns_[c].type) {
      return Error(ErrorCode::kFailed, "column " + columns_[c].name + " is " + columns_[c].type.to_string() +
                                           " but the batch holds " + batch.column(c).type().to_string());
    }
  }
  std::vector<ArrayWriter> arrays;
  arrays.reserve(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) arrays.emplace_back(batch.column(c), columns_[c].element_oid);
  std::string word;
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    put_u16(out, static_cast<uint16_t>(columns_.size()));
    for (size_t c = 0; c < columns_.size(); ++c) {
      const sql::Column& col = batch.column(c);
      if (col.is_null(row)) {
        put_i32(out, -1);
        continue;
      }
      const size_t length_at = out.size();
      put_i32(out, 0);
      if (col.type().id() == sql::TypeId::kList) {
        Status st = arrays[c].put(out, row);
        if (!st.ok()) {
          return Error(ErrorCode::kFailed, "column " + columns_[c].name + ", row " + std::to_string(row + 1) + ": " +
                                               st.error().message());
        }
      } else {
        put_scalar(out, col, row, columns_[c].type_oid);
      }
      word.clear();
      put_i32(word, static_cast<int32_t>(out.size() - length_at - 4));
      out.replace(length_at, 4, word);
    }
  }
  return ok_status();
}

void append_copy_tuple(const PgResult& result, int row, std::string& out) {
  put_u16(out, static_cast<uint16_t>(result.columns()));
  for (int col = 0; col < result.columns(); ++col) {
    if (result.is_null(row, col)) {
      put_i32(out, -1);
      continue;
    }
    const std::string_view value = result.value(row, col);
    put_i32(out, static_cast<int32_t>(value.size()));
    out.append(value);
  }
}

}  // namespace strata::pg
