#include "pg/copy_binary.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/json_text.h"

namespace strata::pg {
namespace {

using sql::TypeId;

constexpr uint8_t kSignature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xFF, '\r', '\n', 0};
constexpr size_t kHeaderFixed = 11 + 4 + 4;
// Microseconds and days between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
constexpr int64_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = kPgEpochDays * 86400LL * 1000000LL;

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
int16_t read_i16(const uint8_t* p) { return static_cast<int16_t>(read_u16(p)); }
uint32_t read_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
int32_t read_i32(const uint8_t* p) { return static_cast<int32_t>(read_u32(p)); }
int64_t read_i64(const uint8_t* p) {
  return static_cast<int64_t>((uint64_t{read_u32(p)} << 32) | uint64_t{read_u32(p + 4)});
}

Error malformed(const std::string& what) {
  return Error(ErrorCode::kFailed, "malformed binary COPY stream: " + what);
}

// What happened to one value.
enum class Outcome { kOk, kUnrepresentable, kMalformed };

struct Numeric {
  int16_t weight = 0;
  uint16_t sign = 0;
  int16_t dscale = 0;
  std::vector<uint16_t> digits;
};
constexpr uint16_t kNumericNeg = 0x4000;
constexpr uint16_t kNumericNaN = 0xC000;
constexpr uint16_t kNumericPInf = 0xD000;
constexpr uint16_t kNumericNInf = 0xF000;

bool parse_numeric(const uint8_t* p, size_t len, Numeric& out) {
  if (len < 8) return false;
  size_t ndigits = read_u16(p);
  out.weight = read_i16(p + 2);
  out.sign = read_u16(p + 4);
  out.dscale = read_i16(p + 6);
  if (len != 8 + 2 * ndigits) return false;
  out.digits.resize(ndigits);
  for (size_t i = 0; i < ndigits; ++i) {
    out.digits[i] = read_u16(p + 8 + 2 * i);
    if (out.digits[i] >= 10000) return false;
  }
  return true;
}

const char* special_numeric(uint16_t sign) {
  switch (sign) {
    case kNumericNaN: return "NaN";
    case kNumericPInf: return "Infinity";
    case kNumericNInf: return "-Infinity";
    default: return nullptr;
  }
}

// Appends v (>= 0) as decimal digits, left-padded with zeros to `width`.
void append_padded(std::string& out, int64_t v, int width) {
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
  out += digits;
}

std::string numeric_text(const Numeric& n) {
  if (const char* special = special_numeric(n.sign)) return special;
  std::string out;
  if (n.sign == kNumericNeg) out.push_back('-');
  auto digit_at = [&](int weight) -> int {
    int index = n.weight - weight;
    return index >= 0 && index < static_cast<int>(n.digits.size()) ? n.digits[index] : 0;
  };
  if (n.weight < 0) {
    out.push_back('0');
  } else {
    out += std::to_string(digit_at(n.weight));
    for (int w = n.weight - 1; w >= 0; --w) {
      append_padded(out, digit_at(w), 4);
    }
  }
  if (n.dscale > 0) {
    out.push_back('.');
    std::string frac;
    for (int w = -1; static_cast<int>(frac.size()) < n.dscale; --w) {
      append_padded(frac, digit_at(w), 4);
    }
    out.append(frac, 0, n.dscale);
  }
  return out;
}

__int128 pow10_128(int e) {
  __int128 v = 1;
  for (int i = 0; i < e; ++i) v *= 10;
  return v;
}

// The unscaled value of n at `scale` if it fits `precision` digits exactly.
Outcome numeric_to_unscaled(const Numeric& n, int precision, int scale, __int128& out, std::string& reason) {
  if (const char* special = special_numeric(n.sign)) {
    reason = std::string("numeric ") + special + " cannot be stored as DECIMAL";
    return Outcome::kUnrepresentable;
  }
  const __int128 limit = pow10_128(precision);
  __int128 total = 0;
  for (size_t i = 0; i < n.digits.size(); ++i) {
    if (n.digits[i] == 0) continue;
    int exponent = 4 * (n.weight - static_cast<int>(i)) + scale;  // decimal exponent of this digit group
    __int128 value = n.digits[i];
    if (exponent < 0) {
      __int128 divisor = pow10_128(-exponent > 4 ? 5 : -exponent);
      if (-exponent > 4 || value % divisor != 0) {
        reason = "numeric has more than " + std::to_string(scale) + " fractional digits";
        return Outcome::kUnrepresentable;
      }
      value /= divisor;
    } else {
      if (exponent > precision) {
        reason = "numeric exceeds DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
        return Outcome::kUnrepresentable;
      }
      value *= pow10_128(exponent);
    }
    total += value;
    if (total >= limit) {
      reason = "numeric exceeds DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
      return Outcome::kUnrepresentable;
    }
  }
  out = n.sign == kNumericNeg ? -total : total;
  return Outcome::kOk;
}

void append_decimal(sql::Column& col, __int128 unscaled) {
  if (col.type().precision() <= 18) {
    col.append<int64_t>(static_cast<int64_t>(unscaled));
  } else {
    sql::Int128 v;
    v.lower = static_cast<uint64_t>(static_cast<unsigned __int128>(unscaled));
    v.upper = static_cast<int64_t>(unscaled >> 64);
    col.append<sql::Int128>(v);
  }
}

bool fixed_len(size_t len, size_t want) { return len == want; }

// Decodes one non-NULL scalar value of `kind` into `col`. On kUnrepresentable nothing was appended
// and `reason` says why. Inlined into the tuple loop: a call per value cost ~14 % of decoding
// pgbench's rows (5 million, one tuple per feed as libpq hands them over).
[[gnu::always_inline]] inline Outcome decode_scalar(WireKind kind, sql::Column& col, const uint8_t* p, size_t len,
                                                   std::string& reason) {
  const TypeId target = col.type().id();
  switch (kind) {
    case WireKind::kBool:
      if (!fixed_len(len, 1)) return Outcome::kMalformed;
      col.append<uint8_t>(p[0] != 0 ? 1 : 0);
      return Outcome::kOk;
    case WireKind::kInt2:
      if (!fixed_len(len, 2)) return Outcome::kMalformed;
      col.append<int16_t>(read_i16(p));
      return Outcome::kOk;
    case WireKind::kInt4:
      if (!fixed_len(len, 4)) return Outcome::kMalformed;
      col.append<int32_t>(read_i32(p));
      return Outcome::kOk;
    case WireKind::kInt8:
      if (!fixed_len(len, 8)) return Outcome::kMalformed;
      col.append<int64_t>(read_i64(p));
      return Outcome::kOk;
    case WireKind::kFloat4: {
      if (!fixed_len(len, 4)) return Outcome::kMalformed;
      uint32_t bits = read_u32(p);
      float f;
      std::memcpy(&f, &bits, 4);
      col.append<float>(f);
      return Outcome::kOk;
    }
    case WireKind::kFloat8: {
      if (!fixed_len(len, 8)) return Outcome::kMalformed;
      int64_t bits = read_i64(p);
      double d;
      std::memcpy(&d, &bits, 8);
      col.append<double>(d);
      return Outcome::kOk;
    }
    case WireKind::kNumeric: {
      Numeric n;
      if (!parse_numeric(p, len, n)) return Outcome::kMalformed;
      if (target == TypeId::kVarchar) {
        col.append_bytes(numeric_text(n));
        return Outcome::kOk;
      }
      __int128 unscaled = 0;
      Outcome o = numeric_to_unscaled(n, col.type().precision(), col.type().scale(), unscaled, reason);
      if (o == Outcome::kOk) append_decimal(col, unscaled);
      return o;
    }
    case WireKind::kMoney:
      if (!fixed_len(len, 8)) return Outcome::kMalformed;
      append_decimal(col, read_i64(p));
      return Outcome::kOk;
    case WireKind::kTextUnchecked:
      if (!valid_utf8(std::string_view(reinterpret_cast<const char*>(p), len))) {
        reason = "not valid UTF-8 (the source database's encoding, SQL_ASCII, does not check text)";
        return Outcome::kUnrepresentable;
      }
      [[fallthrough]];
    case WireKind::kText:
    case WireKind::kBytea:
    case WireKind::kJson:
      col.append_bytes(std::string_view(reinterpret_cast<const char*>(p), len));
      return Outcome::kOk;
    case WireKind::kJsonb:
      if (len < 1 || p[0] != 1) return Outcome::kMalformed;
      col.append_bytes(std::string_view(reinterpret_cast<const char*>(p + 1), len - 1));
      return Outcome::kOk;
    case WireKind::kDate: {
      if (!fixed_len(len, 4)) return Outcome::kMalformed;
      int32_t days = read_i32(p);
      if (days == std::numeric_limits<int32_t>::max()) {
        col.append<int32_t>(sql::kDateInfinity);
      } else if (days == std::numeric_limits<int32_t>::min()) {
        col.append<int32_t>(sql::kDateNegInfinity);
      } else {
        col.append<int32_t>(static_cast<int32_t>(days + kPgEpochDays));
      }
      return Outcome::kOk;
    }
    case WireKind::kTime:
      if (!fixed_len(len, 8)) return Outcome::kMalformed;
      col.append<int64_t>(read_i64(p));
      return Outcome::kOk;
    case WireKind::kTimeTz:
      if (!fixed_len(len, 12)) return Outcome::kMalformed;
      // PostgreSQL sends the zone in seconds west of UTC; the offset is east positive.
      if (col.type().id() == sql::TypeId::kTimeTz) {
        col.append<sql::TimeTzValue>({read_i64(p), -read_i32(p + 8), 0});
      } else {
        col.append_bytes(sql::timetz_text({read_i64(p), -read_i32(p + 8), 0}));
      }
      return Outcome::kOk;
    case WireKind::kTimestamp:
    case WireKind::kTimestampTz: {
      if (!fixed_len(len, 8)) return Outcome::kMalformed;
      int64_t v = read_i64(p);
      if (v == std::numeric_limits<int64_t>::max()) {
        col.append<int64_t>(sql::kTimestampInfinity);
      } else if (v == std::numeric_limits<int64_t>::min()) {
        col.append<int64_t>(sql::kTimestampNegInfinity);
      } else if (v > std::numeric_limits<int64_t>::max() - kPgEpochMicros - 1) {
        // PostgreSQL allows years up to 294276; microseconds since 1970 end in 294247.
        reason = "timestamp beyond 294247-01-10, the largest microsecond count since 1970";
        return Outcome::kUnrepresentable;
      } else {
        col.append<int64_t>(v + kPgEpochMicros);
      }
      return Outcome::kOk;
    }
    case WireKind::kInterval: {
      if (!fixed_len(len, 16)) return Outcome::kMalformed;
      sql::IntervalValue iv;
      iv.micros = read_i64(p);
      iv.days = read_i32(p + 8);
      iv.months = read_i32(p + 12);
      col.append<sql::IntervalValue>(iv);
      return Outcome::kOk;
    }
    case WireKind::kUuid:
      if (!fixed_len(len, 16)) return Outcome::kMalformed;
      col.append_raw(p);
      return Outcome::kOk;
  }
  return Outcome::kMalformed;
}

// Reads array elements (row-major) into nested LIST columns. `dims` holds each dimension's size.
struct ArrayReader {
  WireKind kind;
  const uint8_t* p;
  const uint8_t* end;
  std::vector<int32_t> dims;
  std::vector<std::string>* element_notes;

  bool read_level(size_t level, sql::Column& col) {
    for (int32_t i = 0; i < dims[level]; ++i) {
      if (level + 1 < dims.size()) {
        if (!read_level(level + 1, col.child())) return false;
        col.child().append_list();
      } else if (!read_element(col.child())) {
        return false;
      }
    }
    return true;
  }

  bool read_element(sql::Column& leaf) {
    if (end - p < 4) return false;
    int32_t len = read_i32(p);
    p += 4;
    if (len == -1) {
      leaf.append_null();
      return true;
    }
    if (len < 0 || end - p < len) return false;
    std::string reason;
    Outcome o = decode_scalar(kind, leaf, p, static_cast<size_t>(len), reason);
    p += len;
    if (o == Outcome::kMalformed) return false;
    if (o == Outcome::kUnrepresentable) {
      leaf.append_null();
      element_notes->push_back(reason);
    }
    return true;
  }
};

}  // namespace

Result<std::string> numeric_to_text(std::string_view bytes) {
  Numeric n;
  if (!parse_numeric(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), n)) {
    return malformed("bad numeric value");
  }
  return numeric_text(n);
}

bool valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    uint64_t word = 0;
    if (i + 8 <= n && (std::memcpy(&word, p + i, 8), (word & 0x8080808080808080ULL) == 0)) {
      i += 8;  // eight ASCII bytes
      continue;
    }
    const uint8_t lead = p[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2, code = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3, code = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4, code = lead & 0x07u;
    } else {
      return false;
    }
    if (n - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i + k] & 0x3Fu);
    }
    if (length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) return false;
    if (length == 4 && (code < 0x10000 || code > 0x10FFFF)) return false;
    i += length;
  }
  return true;
}

CopyBinaryDecoder::CopyBinaryDecoder(std::vector<CopyColumn> columns, BatchSink sink, CopyDecoderOptions options)
    : columns_(std::move(columns)), sink_(std::move(sink)), options_(options) {
  for (CopyColumn& c : columns_) {
    if (options_.check_utf8 && c.kind == WireKind::kText) c.kind = WireKind::kTextUnchecked;
  }
  for (const CopyColumn& c : columns_) schema_.push_back({c.name, c.type, true});
  if (options_.meta_column) schema_.push_back({kMetaColumn, sql::LogicalType::json(), true});
  batch_ = sql::ColumnBatch(schema_);
  for (size_t c = 0; c < batch_.num_columns(); ++c) batch_.column(c).reserve(options_.batch_rows);
}

Status CopyBinaryDecoder::feed(std::string_view chunk) {
  bytes_ += chunk.size();
  Status status;
  if (pending_.empty()) {
    size_t used = consume(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size(), status);
    if (!status.ok()) return status;
    if (used < chunk.size()) pending_.assign(chunk.substr(used));
    return status;
  }
  pending_.append(chunk);
  size_t used = consume(reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size(), status);
  if (!status.ok()) return status;
  pending_.erase(0, used);
  return status;
}

Status CopyBinaryDecoder::finish() {
  if (!trailer_seen_) return malformed("the stream ended before its trailer");
  if (!pending_.empty()) return malformed("bytes after the trailer");
  return flush();
}

Status CopyBinaryDecoder::flush() {
  batch_payload_ = 0;
  if (batch_.num_rows() == 0) return ok_status();
  sql::ColumnBatch next(schema_);
  for (size_t c = 0; c < next.num_columns(); ++c) {
    // Sized like the batch just filled, so the next one's values are not copied as it grows.
    next.column(c).reserve(options_.batch_rows, batch_.column(c).heap_size());
  }
  std::swap(next, batch_);
  return sink_(std::move(next));
}

// Returns how many bytes of data were used; stops at an incomplete header or tuple.
size_t CopyBinaryDecoder::consume(const uint8_t* data, size_t size, Status& status) {
  size_t pos = 0;
  if (!header_seen_) {
    if (size < kHeaderFixed) return 0;
    if (std::memcmp(data, kSignature, sizeof kSignature) != 0) {
      status = malformed("bad signature (is the COPY in FORMAT binary?)");
      return 0;
    }
    uint32_t ext = read_u32(data + 15);
    if (size - kHeaderFixed < ext) return 0;
    pos = kHeaderFixed + ext;
    header_seen_ = true;
  }
  const size_t ncols = columns_.size();
  while (pos < size) {
    if (trailer_seen_) {
      status = malformed("bytes after the trailer");
      return pos;
    }
    if (size - pos < 2) return pos;
    int16_t count = read_i16(data + pos);
    if (count == -1) {
      trailer_seen_ = true;
      pos += 2;
      continue;
    }
    if (count < 0 || static_cast<size_t>(count) != ncols) {
      status = malformed("a tuple has " + std::to_string(count) + " fields, expected " + std::to_string(ncols));
      return pos;
    }
    // Find the end of the tuple before decoding anything, so a batch never holds half a row.
    size_t at = pos + 2;
    for (size_t f = 0; f < ncols; ++f) {
      if (size - at < 4) return pos;
      int32_t len = read_i32(data + at);
      at += 4;
      if (len < -1) {
        status = malformed("negative field length");
        return pos;
      }
      if (len > 0) {
        if (size - at < static_cast<size_t>(len)) return pos;
        at += static_cast<size_t>(len);
      }
    }
    if (!decode_tuple(data + pos + 2, status)) return pos;
    batch_payload_ += at - pos;
    pos = at;
    if (batch_.num_rows() >= options_.batch_rows || batch_payload_ >= options_.batch_bytes) {
      status = flush();
      if (!status.ok()) return pos;
    }
  }
  return pos;
}

bool CopyBinaryDecoder::decode_tuple(const uint8_t* fields, Status& status) {
  auto fail = [&](const std::string& what) {
    status = malformed(what);
    return false;
  };
  row_notes_.clear();
  auto add_note = [&](const std::string& column, const char* change, const std::string& reason) {
    nlohmann::json note = {{"column", column}, {"change", change}, {"reason", reason}};
    if (!row_notes_.empty()) row_notes_.push_back(',');
    row_notes_ += json_text(note);
    ++notes_;
  };
  const uint8_t* p = fields;
  std::string reason;  // why a value became NULL; set only then
  for (size_t f = 0; f < columns_.size(); ++f) {
    const CopyColumn& spec = columns_[f];
    sql::Column& col = batch_.column(f);
    int32_t len = read_i32(p);
    p += 4;
    if (len == -1) {
      col.append_null();
      continue;
    }
    const uint8_t* value = p;
    p += len;
    if (spec.array_depth == 0) {
      Outcome o = decode_scalar(spec.kind, col, value, static_cast<size_t>(len), reason);
      if (o == Outcome::kMalformed) return fail("bad value for column " + spec.name);
      if (o == Outcome::kUnrepresentable) {
        col.append_null();
        add_note(spec.name, "NULLED", reason);
      }
      continue;
    }
    // Array: ndim, flags, element oid, (size, lower bound) per dimension, elements.
    if (len < 12) return fail("bad array header for column " + spec.name);
    int32_t ndim = read_i32(value);
    if (ndim == 0) {
      col.append_list();
      continue;
    }
    if (ndim < 0 || len < 12 + 8 * ndim) return fail("bad array header for column " + spec.name);
    if (ndim != spec.array_depth) {
      col.append_null();
      add_note(spec.name, "NULLED",
               "array has " + std::to_string(ndim) + " dimensions, the column holds " +
                   std::to_string(spec.array_depth));
      continue;
    }
    std::vector<std::string> element_notes;
    ArrayReader reader{spec.kind, value + 12 + 8 * ndim, value + len, {}, &element_notes};
    std::string bounds;  // PostgreSQL's "[0:2]" prefix, noted when a dimension does not start at 1
    bool shifted = false;
    for (int32_t d = 0; d < ndim; ++d) {
      int32_t dim = read_i32(value + 12 + 8 * d);
      if (dim < 0) return fail("bad array dimension for column " + spec.name);
      reader.dims.push_back(dim);
      const int64_t lower = read_i32(value + 16 + 8 * d);
      bounds += "[" + std::to_string(lower) + ":" + std::to_string(lower + dim - 1) + "]";
      shifted = shifted || lower != 1;
    }
    if (!reader.read_level(0, col) || reader.p != reader.end) {
      return fail("bad array value for column " + spec.name);
    }
    col.append_list();
    // The elements are kept; the list's positions start at 1, so the source's bounds go in a note.
    if (shifted) {
      add_note(spec.name, "BOUNDS_DROPPED", "the array's bounds were " + bounds + "; the list starts at 1");
    }
    for (const std::string& reason : element_notes) add_note(spec.name, "ELEMENT_NULLED", reason);
  }
  if (options_.meta_column) {
    sql::Column& meta = batch_.column(columns_.size());
    if (row_notes_.empty()) {
      meta.append_null();
    } else {
      meta.append_bytes("{\"changes\":[" + row_notes_ + "]}");
    }
  }
  ++rows_;
  return true;
}

}  // namespace strata::pg
