#include "warehouse/duckdb/duckdb_vectors.h"

#include <cstring>
#include <limits>

namespace strata::warehouse::duckdb_detail {
namespace {

using sql::TypeId;

constexpr uint64_t kSignBit = uint64_t{1} << 63;

inline bool row_valid(const uint64_t* validity, uint64_t row) {
  return validity == nullptr || ((validity[row >> 6] >> (row & 63)) & 1) != 0;
}

// Reads Src values, converts each with f, appends as Dst.
template <typename Src, typename Dst, typename F>
void read_fixed(duckdb_vector v, uint64_t begin, uint64_t count, sql::Column& out, F f) {
  const auto* data = static_cast<const Src*>(duckdb_vector_get_data(v));
  const uint64_t* validity = duckdb_vector_get_validity(v);
  for (uint64_t r = begin; r < begin + count; ++r) {
    if (row_valid(validity, r)) {
      out.append<Dst>(f(data[r]));
    } else {
      out.append_null();
    }
  }
}

template <typename T>
void read_same(duckdb_vector v, uint64_t begin, uint64_t count, sql::Column& out) {
  read_fixed<T, T>(v, begin, count, out, [](T x) { return x; });
}

// TIMESTAMP_S/_MS/_NS to microseconds, keeping the infinities.
int64_t scale_timestamp(int64_t value, int64_t mul, int64_t div) {
  if (value == std::numeric_limits<int64_t>::max() || value == -std::numeric_limits<int64_t>::max()) return value;
  return value * mul / div;
}

void read_timestamp(duckdb_vector v, duckdb_type id, uint64_t begin, uint64_t count, sql::Column& out) {
  int64_t mul = id == DUCKDB_TYPE_TIMESTAMP_S ? 1000000 : id == DUCKDB_TYPE_TIMESTAMP_MS ? 1000 : 1;
  int64_t div = id == DUCKDB_TYPE_TIMESTAMP_NS ? 1000 : 1;
  read_fixed<int64_t, int64_t>(v, begin, count, out, [&](int64_t x) { return scale_timestamp(x, mul, div); });
}

void read_decimal(duckdb_vector v, const DuckColumnType& type, uint64_t begin, uint64_t count, sql::Column& out) {
  auto widen = [](auto x) { return static_cast<int64_t>(x); };
  switch (type.storage) {
    case DUCKDB_TYPE_SMALLINT: read_fixed<int16_t, int64_t>(v, begin, count, out, widen); break;
    case DUCKDB_TYPE_INTEGER: read_fixed<int32_t, int64_t>(v, begin, count, out, widen); break;
    case DUCKDB_TYPE_BIGINT: read_fixed<int64_t, int64_t>(v, begin, count, out, widen); break;
    default:
      read_fixed<duckdb_hugeint, sql::Int128>(v, begin, count, out, [](duckdb_hugeint h) {
        return sql::Int128{h.lower, h.upper};
      });
      break;
  }
}

void read_strings(duckdb_vector v, uint64_t begin, uint64_t count, sql::Column& out) {
  auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(v));
  const uint64_t* validity = duckdb_vector_get_validity(v);
  for (uint64_t r = begin; r < begin + count; ++r) {
    if (!row_valid(validity, r)) {
      out.append_null();
      continue;
    }
    uint32_t len = duckdb_string_t_length(data[r]);
    out.append_bytes(std::string_view(duckdb_string_t_data(&data[r]), len));
  }
}

template <typename Index>
void read_enum_as(duckdb_vector v, const DuckColumnType& type, uint64_t begin, uint64_t count, sql::Column& out) {
  const auto* data = static_cast<const Index*>(duckdb_vector_get_data(v));
  const uint64_t* validity = duckdb_vector_get_validity(v);
  for (uint64_t r = begin; r < begin + count; ++r) {
    if (row_valid(validity, r)) {
      out.append_bytes(type.enum_values[data[r]]);
    } else {
      out.append_null();
    }
  }
}

void read_enum(duckdb_vector v, const DuckColumnType& type, uint64_t begin, uint64_t count, sql::Column& out) {
  switch (type.storage) {
    case DUCKDB_TYPE_UTINYINT: read_enum_as<uint8_t>(v, type, begin, count, out); break;
    case DUCKDB_TYPE_USMALLINT: read_enum_as<uint16_t>(v, type, begin, count, out); break;
    default: read_enum_as<uint32_t>(v, type, begin, count, out); break;
  }
}

void read_uuid(duckdb_vector v, uint64_t begin, uint64_t count, sql::Column& out) {
  const auto* data = static_cast<const duckdb_hugeint*>(duckdb_vector_get_data(v));
  const uint64_t* validity = duckdb_vector_get_validity(v);
  uint8_t bytes[16];
  for (uint64_t r = begin; r < begin + count; ++r) {
    if (row_valid(validity, r)) {
      uuid_from_hugeint(data[r], bytes);
      out.append_raw(bytes);
    } else {
      out.append_null();
    }
  }
}

void read_list(duckdb_vector v, const DuckColumnType& type, uint64_t begin, uint64_t count, sql::Column& out) {
  const uint64_t* validity = duckdb_vector_get_validity(v);
  bool is_array = type.id == DUCKDB_TYPE_ARRAY;
  duckdb_vector child = is_array ? duckdb_array_vector_get_child(v) : duckdb_list_vector_get_child(v);
  const auto* entries = is_array ? nullptr : static_cast<const duckdb_list_entry*>(duckdb_vector_get_data(v));
  for (uint64_t r = begin; r < begin + count; ++r) {
    if (!row_valid(validity, r)) {
      out.append_null();
      continue;
    }
    uint64_t offset = is_array ? r * type.array_size : entries[r].offset;
    uint64_t length = is_array ? type.array_size : entries[r].length;
    read_vector(child, *type.child, offset, length, out.child());
    out.append_list();
  }
}

}  // namespace

void uuid_from_hugeint(const duckdb_hugeint& h, uint8_t out[16]) {
  uint64_t upper = static_cast<uint64_t>(h.upper) ^ kSignBit;
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<uint8_t>(upper >> (56 - 8 * i));
    out[8 + i] = static_cast<uint8_t>(h.lower >> (56 - 8 * i));
  }
}

duckdb_hugeint uuid_to_hugeint(const uint8_t bytes[16]) {
  uint64_t upper = 0, lower = 0;
  for (int i = 0; i < 8; ++i) {
    upper = (upper << 8) | bytes[i];
    lower = (lower << 8) | bytes[8 + i];
  }
  duckdb_hugeint h;
  h.lower = lower;
  h.upper = static_cast<int64_t>(upper ^ kSignBit);
  return h;
}

void read_vector(duckdb_vector v, const DuckColumnType& type, uint64_t begin, uint64_t count, sql::Column& out) {
  auto widen16 = [](auto x) { return static_cast<int16_t>(x); };
  auto widen32 = [](auto x) { return static_cast<int32_t>(x); };
  auto widen64 = [](auto x) { return static_cast<int64_t>(x); };
  switch (type.id) {
    case DUCKDB_TYPE_BOOLEAN:
      read_fixed<bool, uint8_t>(v, begin, count, out, [](bool b) { return static_cast<uint8_t>(b ? 1 : 0); });
      break;
    case DUCKDB_TYPE_TINYINT: read_fixed<int8_t, int16_t>(v, begin, count, out, widen16); break;
    case DUCKDB_TYPE_UTINYINT: read_fixed<uint8_t, int16_t>(v, begin, count, out, widen16); break;
    case DUCKDB_TYPE_SMALLINT: read_same<int16_t>(v, begin, count, out); break;
    case DUCKDB_TYPE_USMALLINT: read_fixed<uint16_t, int32_t>(v, begin, count, out, widen32); break;
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_DATE: read_same<int32_t>(v, begin, count, out); break;
    case DUCKDB_TYPE_UINTEGER: read_fixed<uint32_t, int64_t>(v, begin, count, out, widen64); break;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ: read_same<int64_t>(v, begin, count, out); break;
    case DUCKDB_TYPE_TIME_NS:
      read_fixed<int64_t, int64_t>(v, begin, count, out, [](int64_t x) { return x / 1000; });
      break;
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: read_timestamp(v, type.id, begin, count, out); break;
    case DUCKDB_TYPE_TIME_TZ:
      read_fixed<duckdb_time_tz, sql::TimeTzValue>(v, begin, count, out, [](duckdb_time_tz t) {
        const duckdb_time_tz_struct parts = duckdb_from_time_tz(t);
        const duckdb_time_struct& c = parts.time;
        const int64_t micros = ((int64_t{c.hour} * 60 + c.min) * 60 + c.sec) * 1000000 + c.micros;
        return sql::TimeTzValue{micros, parts.offset, 0};
      });
      break;
    case DUCKDB_TYPE_FLOAT: read_same<float>(v, begin, count, out); break;
    case DUCKDB_TYPE_DOUBLE: read_same<double>(v, begin, count, out); break;
    case DUCKDB_TYPE_INTERVAL:
      read_fixed<duckdb_interval, sql::IntervalValue>(v, begin, count, out, [](duckdb_interval i) {
        return sql::IntervalValue{i.months, i.days, i.micros};
      });
      break;
    case DUCKDB_TYPE_HUGEINT:
      read_fixed<duckdb_hugeint, sql::Int128>(v, begin, count, out, [](duckdb_hugeint h) {
        return sql::Int128{h.lower, h.upper};
      });
      break;
    case DUCKDB_TYPE_UBIGINT:
      read_fixed<uint64_t, sql::Int128>(v, begin, count, out, [](uint64_t x) { return sql::Int128{x, 0}; });
      break;
    case DUCKDB_TYPE_DECIMAL: read_decimal(v, type, begin, count, out); break;
    case DUCKDB_TYPE_UUID: read_uuid(v, begin, count, out); break;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: read_strings(v, begin, count, out); break;
    case DUCKDB_TYPE_ENUM: read_enum(v, type, begin, count, out); break;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: read_list(v, type, begin, count, out); break;
    default:
      // Unsupported types are cast to VARCHAR before they reach here (see DuckColumnType::supported).
      for (uint64_t r = 0; r < count; ++r) out.append_null();
      break;
  }
}

// ---- writing ----

namespace {

void write_validity(const sql::Column& col, uint64_t begin, uint64_t count, duckdb_vector v) {
  const uint8_t* valid = col.validity() + begin;
  if (count == 0 || std::memchr(valid, 0, count) == nullptr) return;
  duckdb_vector_ensure_validity_writable(v);
  uint64_t* mask = duckdb_vector_get_validity(v);
  for (uint64_t i = 0; i < count; ++i) {
    if (valid[i] == 0) mask[i >> 6] &= ~(uint64_t{1} << (i & 63));
  }
}

template <typename Dst>
void write_narrowed(const sql::Column& col, uint64_t begin, uint64_t count, duckdb_vector v) {
  auto* data = static_cast<Dst*>(duckdb_vector_get_data(v));
  for (uint64_t i = 0; i < count; ++i) data[i] = static_cast<Dst>(col.get<int64_t>(begin + i));
}

void write_uuids(const sql::Column& col, uint64_t begin, uint64_t count, duckdb_vector v) {
  auto* data = static_cast<duckdb_hugeint*>(duckdb_vector_get_data(v));
  for (uint64_t i = 0; i < count; ++i) data[i] = uuid_to_hugeint(col.raw(begin + i));
}

// Points each string_t at the column's own bytes instead of copying them into the vector's heap:
// the appender copies them once when the chunk is appended (see write_vector's contract).
void write_strings(const sql::Column& col, uint64_t begin, uint64_t count, duckdb_vector v) {
  auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(v));
  const uint8_t* valid = col.validity() + begin;
  const uint64_t* offsets = col.offsets() + begin;
  const char* heap = col.heap_data();
  for (uint64_t i = 0; i < count; ++i) {
    if (valid[i] == 0) continue;
    const char* bytes = heap + offsets[i];
    const auto length = static_cast<uint32_t>(offsets[i + 1] - offsets[i]);
    duckdb_string_t& out = data[i];
    if (length <= sizeof out.value.inlined.inlined) {
      std::memset(&out, 0, sizeof out);  // an inlined string's unused bytes must be zero
      out.value.inlined.length = length;
      if (length > 0) std::memcpy(out.value.inlined.inlined, bytes, length);
    } else {
      out.value.pointer.length = length;
      std::memcpy(out.value.pointer.prefix, bytes, sizeof out.value.pointer.prefix);
      out.value.pointer.ptr = const_cast<char*>(bytes);
    }
  }
}

Status write_list(const sql::Column& col, uint64_t begin, uint64_t count, duckdb_vector v) {
  auto* entries = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(v));
  uint64_t child_begin = count == 0 ? 0 : col.list_range(begin).first;
  uint64_t child_end = count == 0 ? 0 : col.list_range(begin + count - 1).second;
  for (uint64_t i = 0; i < count; ++i) {
    auto [b, e] = col.list_range(begin + i);
    entries[i].offset = b - child_begin;
    entries[i].length = e - b;
  }
  uint64_t child_count = child_end - child_begin;
  if (duckdb_list_vector_reserve(v, child_count) != DuckDBSuccess ||
      duckdb_list_vector_set_size(v, child_count) != DuckDBSuccess) {
    return Error(ErrorCode::kFailed, "DuckDB could not reserve " + std::to_string(child_count) + " list elements");
  }
  return write_vector(col.child(), child_begin, child_count, duckdb_list_vector_get_child(v));
}

}  // namespace

Status check_batch(const sql::ColumnBatch& batch, const sql::Schema& schema, const std::string& table) {
  if (batch.num_columns() != schema.size()) {
    return Error(ErrorCode::kInternal, "a batch with " + std::to_string(batch.num_columns()) +
                                           " columns was written to " + table + ", which takes " +
                                           std::to_string(schema.size()));
  }
  for (size_t c = 0; c < schema.size(); ++c) {
    if (batch.column(c).type() != schema[c].type) {
      return Error(ErrorCode::kInternal, "column " + std::to_string(c + 1) + " of a batch for " + table + " is " +
                                             batch.column(c).type().to_string() + ", the writer expects " +
                                             schema[c].type.to_string());
    }
  }
  return ok_status();
}

Status write_vector(const sql::Column& col, uint64_t begin, uint64_t count, duckdb_vector v) {
  write_validity(col, begin, count, v);
  const sql::LogicalType& type = col.type();
  switch (type.id()) {
    case TypeId::kDecimal:
      if (type.precision() <= 4) {
        write_narrowed<int16_t>(col, begin, count, v);
        return ok_status();
      }
      if (type.precision() <= 9) {
        write_narrowed<int32_t>(col, begin, count, v);
        return ok_status();
      }
      break;  // int64 / Int128: same layout as DuckDB
    case TypeId::kUuid: write_uuids(col, begin, count, v); return ok_status();
    case TypeId::kTimeTz: {
      auto* out = static_cast<duckdb_time_tz*>(duckdb_vector_get_data(v));
      for (uint64_t r = 0; r < count; ++r) {
        const auto value = col.get<sql::TimeTzValue>(begin + r);
        out[r] = duckdb_create_time_tz(value.micros, value.offset_seconds);
      }
      return ok_status();
    }
    case TypeId::kVarchar:
    case TypeId::kBlob:
    case TypeId::kJson: write_strings(col, begin, count, v); return ok_status();
    case TypeId::kList: return write_list(col, begin, count, v);
    default: break;
  }
  size_t width = type.fixed_width();
  if (count > 0) std::memcpy(duckdb_vector_get_data(v), col.raw(begin), count * width);
  return ok_status();
}

}  // namespace strata::warehouse::duckdb_detail
