// Unit tests of the binary COPY decoder on byte streams built here, fed whole, byte by byte, and
// split at every possible point.

#include "pg/copy_binary.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace strata::pg {
namespace {

using sql::LogicalType;

// Builds a binary COPY stream.
class StreamBuilder {
 public:
  StreamBuilder() {
    out_.append("PGCOPY\n\xff\r\n\0", 11);
    u32(0);
    u32(0);
  }
  StreamBuilder& tuple(int16_t fields) { u16(static_cast<uint16_t>(fields)); return *this; }
  StreamBuilder& null() { u32(0xFFFFFFFFu); return *this; }
  StreamBuilder& field(const std::string& bytes) {
    u32(static_cast<uint32_t>(bytes.size()));
    out_ += bytes;
    return *this;
  }
  std::string end() { u16(0xFFFF); return out_; }

  static std::string be(uint64_t v, int bytes) {
    std::string s;
    for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return s;
  }

 private:
  void u16(uint16_t v) { out_ += be(v, 2); }
  void u32(uint32_t v) { out_ += be(v, 4); }
  std::string out_;
};

std::string be16(int v) { return StreamBuilder::be(static_cast<uint16_t>(v), 2); }
std::string be32(int64_t v) { return StreamBuilder::be(static_cast<uint32_t>(v), 4); }
std::string be64(int64_t v) { return StreamBuilder::be(static_cast<uint64_t>(v), 8); }

// numeric binary form: digits base 10000.
std::string numeric(std::vector<int> digits, int weight, int sign, int dscale) {
  std::string s = be16(static_cast<int>(digits.size())) + be16(weight) + be16(sign) + be16(dscale);
  for (int d : digits) s += be16(d);
  return s;
}

// An array: ndim dims, elements already encoded as length-prefixed fields.
std::string array(std::vector<int> dims, uint32_t elem_oid, const std::vector<std::string>& elems, bool nulls = false) {
  std::string s = be32(static_cast<int64_t>(dims.size())) + be32(nulls ? 1 : 0) + be32(elem_oid);
  for (int d : dims) s += be32(d) + be32(1);
  for (const std::string& e : elems) s += e;
  return s;
}
std::string elem(const std::string& bytes) { return be32(static_cast<int64_t>(bytes.size())) + bytes; }
std::string null_elem() { return be32(-1); }

struct Decoded {
  std::vector<sql::ColumnBatch> batches;
  sql::ColumnBatch merged_first() const { return batches.at(0); }
};

// Decodes `stream` fed in chunks of the given sizes (cycled); 0 = whole.
Result<std::vector<sql::ColumnBatch>> decode(const std::vector<CopyColumn>& cols, const std::string& stream,
                                             size_t split = 0, size_t batch_rows = 1000) {
  std::vector<sql::ColumnBatch> out;
  CopyDecoderOptions options;
  options.batch_rows = batch_rows;
  CopyBinaryDecoder decoder(cols, [&](sql::ColumnBatch&& b) { out.push_back(std::move(b)); return ok_status(); },
                            options);
  if (split == 0) {
    STRATA_TRY(decoder.feed(stream));
  } else {
    STRATA_TRY(decoder.feed(std::string_view(stream).substr(0, split)));
    STRATA_TRY(decoder.feed(std::string_view(stream).substr(split)));
  }
  STRATA_TRY(decoder.finish());
  return out;
}

TEST(CopyBinary, Utf8Validation) {
  for (const std::string& good : std::vector<std::string>{"", "plain ascii longer than eight bytes", "café ü", "\xE2\x9C\x93 \xF0\x9F\x98\x80",
                                 "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", std::string("a\0b", 3)}) {
    EXPECT_TRUE(valid_utf8(good)) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"\xff", "bad \xff\xfe bytes", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                                "\xF4\x90\x80\x80", "caf\xC3", "\xC3(", "12345678\x80", "\xF8\x88\x80\x80\x80"}) {
    EXPECT_FALSE(valid_utf8(bad)) << bad;
  }
}

TEST(CopyBinary, ScalarsAtEverySplitPoint) {
  std::vector<CopyColumn> cols = {
      {"b", WireKind::kBool, 0, LogicalType::boolean()},
      {"i2", WireKind::kInt2, 0, LogicalType::int16()},
      {"i4", WireKind::kInt4, 0, LogicalType::int32()},
      {"i8", WireKind::kInt8, 0, LogicalType::int64()},
      {"f8", WireKind::kFloat8, 0, LogicalType::float64()},
      {"t", WireKind::kText, 0, LogicalType::varchar()},
      {"d", WireKind::kDate, 0, LogicalType::date()},
      {"ts", WireKind::kTimestampTz, 0, LogicalType::timestamptz()},
  };
  double pi = 3.25;
  uint64_t pi_bits;
  std::memcpy(&pi_bits, &pi, 8);
  std::string stream = StreamBuilder()
                           .tuple(8).field("\x01").field(be16(-32768)).field(be32(INT32_MIN))
                           .field(be64(INT64_MIN)).field(StreamBuilder::be(pi_bits, 8)).field("h\xc3\xa9llo")
                           .field(be32(0)).field(be64(0))
                           .tuple(8).null().null().null().null().null().null().null().null()
                           .tuple(8).field(std::string(1, '\0')).field(be16(32767)).field(be32(INT32_MAX))
                           .field(be64(INT64_MAX)).field(be64(0)).field("").field(be32(-10957))
                           .field(be64(std::numeric_limits<int64_t>::max()))
                           .end();
  for (size_t split = 0; split < stream.size(); ++split) {
    auto result = decode(cols, stream, split);
    ASSERT_TRUE(result.ok()) << "split " << split << ": " << result.error().to_string();
    ASSERT_EQ(result->size(), 1u);
    const sql::ColumnBatch& b = result->at(0);
    ASSERT_EQ(b.num_rows(), 3u) << "split " << split;
    ASSERT_EQ(b.num_columns(), 9u);  // + _strata_meta
    EXPECT_EQ(b.column(0).get<uint8_t>(0), 1);
    EXPECT_EQ(b.column(1).get<int16_t>(0), -32768);
    EXPECT_EQ(b.column(2).get<int32_t>(0), INT32_MIN);
    EXPECT_EQ(b.column(3).get<int64_t>(0), INT64_MIN);
    EXPECT_EQ(b.column(4).get<double>(0), 3.25);
    EXPECT_EQ(b.column(5).get_bytes(0), "h\xc3\xa9llo");
    EXPECT_EQ(b.column(6).get<int32_t>(0), 10957);  // 2000-01-01
    EXPECT_EQ(b.column(7).get<int64_t>(0), 946684800000000LL);
    for (size_t c = 0; c < 8; ++c) EXPECT_TRUE(b.column(c).is_null(1));
    EXPECT_EQ(b.column(0).get<uint8_t>(2), 0);
    EXPECT_EQ(b.column(2).get<int32_t>(2), INT32_MAX);
    EXPECT_EQ(b.column(3).get<int64_t>(2), INT64_MAX);
    EXPECT_FALSE(b.column(5).is_null(2));
    EXPECT_EQ(b.column(5).get_bytes(2), "");
    EXPECT_EQ(b.column(6).get<int32_t>(2), 0);  // 1970-01-01
    EXPECT_EQ(b.column(7).get<int64_t>(2), sql::kTimestampInfinity);
    for (size_t r = 0; r < 3; ++r) EXPECT_TRUE(b.column(8).is_null(r));
  }
}

TEST(CopyBinary, ByteByByteAndBatching) {
  std::vector<CopyColumn> cols = {{"i", WireKind::kInt4, 0, LogicalType::int32()}};
  StreamBuilder builder;
  for (int i = 0; i < 25; ++i) builder.tuple(1).field(be32(i * 7));
  std::string stream = builder.end();
  std::vector<sql::ColumnBatch> out;
  CopyDecoderOptions options;
  options.batch_rows = 10;
  options.meta_column = false;
  CopyBinaryDecoder decoder(cols, [&](sql::ColumnBatch&& b) { out.push_back(std::move(b)); return ok_status(); },
                            options);
  for (char c : stream) ASSERT_TRUE(decoder.feed(std::string_view(&c, 1)).ok());
  ASSERT_TRUE(decoder.finish().ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].num_rows(), 10u);
  EXPECT_EQ(out[2].num_rows(), 5u);
  EXPECT_EQ(out[0].num_columns(), 1u);
  EXPECT_EQ(out[2].column(0).get<int32_t>(4), 24 * 7);
  EXPECT_EQ(decoder.rows(), 25u);
  EXPECT_EQ(decoder.bytes(), stream.size());
}

TEST(CopyBinary, NumericToDecimalAndText) {
  std::vector<CopyColumn> cols = {
      {"d", WireKind::kNumeric, 0, LogicalType::decimal(10, 2)},
      {"big", WireKind::kNumeric, 0, LogicalType::decimal(38, 4)},
      {"t", WireKind::kNumeric, 0, LogicalType::varchar()},
  };
  // -1234.50 : digits [1234, 5000] weight 0, dscale 2
  // 12345678901234567890123456789012.3456 : [12,3456,7890,1234,5678,9012,3456] weight 7? compute below
  std::string big = numeric({1234, 5678, 9012, 3456, 7890, 1234, 5678, 9012, 3456}, 7, 0, 4);
  // = 1234 5678 9012 3456 7890 1234 5678 9012 . 3456 → 32 integer digits, 4 fractional (p 36)
  std::string stream =
      StreamBuilder()
          .tuple(3).field(numeric({1234, 5000}, 0, 0x4000, 2)).field(big).field(numeric({1, 0, 5}, 2, 0, 6))
          .tuple(3).field(numeric({}, 0, 0xC000, 0)).field(numeric({1}, 9, 0, 0)).field(numeric({}, 0, 0xD000, 0))
          .tuple(3).field(numeric({}, 0, 0, 2)).field(numeric({5000}, -1, 0x4000, 4)).field(numeric({12}, -2, 0x4000, 10))
          .end();
  auto result = decode(cols, stream);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const sql::ColumnBatch& b = result->at(0);
  ASSERT_EQ(b.num_rows(), 3u);
  EXPECT_EQ(b.column(0).get<int64_t>(0), -123450);
  sql::Int128 v = b.column(1).get<sql::Int128>(0);
  __int128 got = (static_cast<__int128>(v.upper) << 64) | v.lower;
  __int128 want = 0;
  for (char c : std::string("123456789012345678901234567890123456")) want = want * 10 + (c - '0');
  EXPECT_TRUE(got == want);
  EXPECT_EQ(b.column(2).get_bytes(0), "100000005.000000");
  // NaN → NULL + note; 10^36 overflows DECIMAL(38,4) → NULL + note; Infinity as text stays.
  EXPECT_TRUE(b.column(0).is_null(1));
  EXPECT_TRUE(b.column(1).is_null(1));
  EXPECT_EQ(b.column(2).get_bytes(1), "Infinity");
  ASSERT_FALSE(b.column(3).is_null(1));
  std::string meta(b.column(3).get_bytes(1));
  EXPECT_NE(meta.find("\"column\":\"d\""), std::string::npos) << meta;
  EXPECT_NE(meta.find("NaN"), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"column\":\"big\""), std::string::npos) << meta;
  EXPECT_EQ(b.column(0).get<int64_t>(2), 0);
  sql::Int128 small = b.column(1).get<sql::Int128>(2);
  EXPECT_EQ(small.upper, -1);
  EXPECT_EQ(static_cast<int64_t>(small.lower), -5000);  // -0.5000 at scale 4
  EXPECT_EQ(b.column(2).get_bytes(2), "-0.0000001200");
  EXPECT_TRUE(b.column(3).is_null(0));
  EXPECT_TRUE(b.column(3).is_null(2));
}

TEST(CopyBinary, TimeTzIntoTimeTzOrItsText) {
  // The wire carries the zone in seconds west of UTC; TimeTzValue's offset is east positive.
  std::vector<CopyColumn> cols = {{"typed", WireKind::kTimeTz, 0, LogicalType::timetz()},
                                  {"text", WireKind::kTimeTz, 0, LogicalType::varchar()}};
  const std::string value = be64(45296000000LL) + be32(-19800);
  auto result = decode(cols, StreamBuilder().tuple(2).field(value).field(value).tuple(2).null().null().end());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const sql::ColumnBatch& b = result->at(0);
  const auto typed = b.column(0).get<sql::TimeTzValue>(0);
  EXPECT_EQ(typed.micros, 45296000000LL);
  EXPECT_EQ(typed.offset_seconds, 19800);
  EXPECT_EQ(b.column(1).get_bytes(0), "12:34:56+05:30");
  EXPECT_TRUE(b.column(0).is_null(1));
  EXPECT_TRUE(b.column(1).is_null(1));
}

TEST(CopyBinary, TemporalUuidJsonMoney) {
  std::vector<CopyColumn> cols = {
      {"t", WireKind::kTime, 0, LogicalType::time()},
      {"tz", WireKind::kTimeTz, 0, LogicalType::varchar()},
      {"iv", WireKind::kInterval, 0, LogicalType::interval()},
      {"u", WireKind::kUuid, 0, LogicalType::uuid()},
      {"j", WireKind::kJsonb, 0, LogicalType::json()},
      {"m", WireKind::kMoney, 0, LogicalType::decimal(19, 2)},
      {"d", WireKind::kDate, 0, LogicalType::date()},
      {"ts", WireKind::kTimestamp, 0, LogicalType::timestamp()},
  };
  std::string uuid_bytes;
  for (int i = 0; i < 16; ++i) uuid_bytes.push_back(static_cast<char>(i * 17));
  std::string stream = StreamBuilder()
                           .tuple(8).field(be64(45296500000LL)).field(be64(45296000000LL) + be32(-19800))
                           .field(be64(-1) + be32(-3) + be32(14)).field(uuid_bytes).field("\x01{\"a\": 1}")
                           .field(be64(INT64_MIN)).field(be32(INT32_MAX)).field(be64(INT64_MIN))
                           .tuple(8).null().null().null().null().null().null().field(be32(INT32_MIN)).null()
                           .end();
  auto result = decode(cols, stream);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const sql::ColumnBatch& b = result->at(0);
  EXPECT_EQ(b.column(0).get<int64_t>(0), 45296500000LL);
  EXPECT_EQ(b.column(1).get_bytes(0), "12:34:56+05:30");
  auto iv = b.column(2).get<sql::IntervalValue>(0);
  EXPECT_EQ(iv.months, 14);
  EXPECT_EQ(iv.days, -3);
  EXPECT_EQ(iv.micros, -1);
  EXPECT_EQ(std::memcmp(b.column(3).raw(0), uuid_bytes.data(), 16), 0);
  EXPECT_EQ(b.column(4).get_bytes(0), "{\"a\": 1}");
  sql::Int128 money = b.column(5).get<sql::Int128>(0);
  EXPECT_EQ(money.upper, -1);
  EXPECT_EQ(money.lower, static_cast<uint64_t>(INT64_MIN));
  // Date ±infinity are DuckDB's, kept as values rather than notes.
  EXPECT_EQ(b.column(6).get<int32_t>(0), sql::kDateInfinity);
  EXPECT_EQ(b.column(6).get<int32_t>(1), sql::kDateNegInfinity);
  EXPECT_EQ(b.column(7).get<int64_t>(0), sql::kTimestampNegInfinity);
  EXPECT_TRUE(b.column(8).is_null(0)) << b.column(8).get_bytes(0);
  EXPECT_TRUE(b.column(8).is_null(1)) << b.column(8).get_bytes(1);
}

TEST(CopyBinary, ArraysEmptyNestedAndNullElements) {
  std::vector<CopyColumn> cols = {
      {"a", WireKind::kInt4, 1, LogicalType::list(LogicalType::int32())},
      {"m", WireKind::kText, 2, LogicalType::list(LogicalType::list(LogicalType::varchar()))},
  };
  std::string stream =
      StreamBuilder()
          .tuple(2).field(array({3}, 23, {elem(be32(1)), null_elem(), elem(be32(-3))}, true))
          .field(array({2, 2}, 25, {elem("a"), elem("b"), elem(""), null_elem()}, true))
          .tuple(2).field(array({}, 23, {})).field(array({}, 25, {}))
          .tuple(2).field(array({2, 1}, 23, {elem(be32(1)), elem(be32(2))})).null()
          .end();
  for (size_t split = 0; split < stream.size(); ++split) {
    auto result = decode(cols, stream, split);
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const sql::ColumnBatch& b = result->at(0);
    ASSERT_EQ(b.num_rows(), 3u);
    const sql::Column& a = b.column(0);
    auto [b0, e0] = a.list_range(0);
    ASSERT_EQ(e0 - b0, 3u);
    EXPECT_EQ(a.child().get<int32_t>(b0), 1);
    EXPECT_TRUE(a.child().is_null(b0 + 1));
    EXPECT_EQ(a.child().get<int32_t>(b0 + 2), -3);
    auto [b1, e1] = a.list_range(1);
    EXPECT_EQ(b1, e1);
    EXPECT_FALSE(a.is_null(1));
    EXPECT_TRUE(a.is_null(2));  // 2-D value in a 1-D column → NULL + note
    const sql::Column& m = b.column(1);
    auto [mb, me] = m.list_range(0);
    ASSERT_EQ(me - mb, 2u);
    auto [ib, ie] = m.child().list_range(mb + 1);
    ASSERT_EQ(ie - ib, 2u);
    EXPECT_EQ(m.child().child().get_bytes(ib), "");
    EXPECT_TRUE(m.child().child().is_null(ib + 1));
    EXPECT_EQ(m.child().child().get_bytes(m.child().list_range(mb).first + 1), "b");
    EXPECT_TRUE(m.is_null(2));
    std::string meta(b.column(2).get_bytes(2));
    EXPECT_NE(meta.find("dimensions"), std::string::npos) << meta;
  }
}

TEST(CopyBinary, MalformedStreamsAreErrors) {
  std::vector<CopyColumn> cols = {{"i", WireKind::kInt4, 0, LogicalType::int32()}};
  auto bad_sig = decode(cols, "PGCOPX\n\xff\r\n\0 000000000");
  EXPECT_FALSE(bad_sig.ok());
  std::string wrong_count = StreamBuilder().tuple(2).field(be32(1)).field(be32(2)).end();
  auto r1 = decode(cols, wrong_count);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message().find("expected 1"), std::string::npos);
  std::string wrong_len = StreamBuilder().tuple(1).field(be16(1)).end();
  auto r2 = decode(cols, wrong_len);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message().find("column i"), std::string::npos);
  std::string truncated = StreamBuilder().tuple(1).field(be32(1)).end();
  truncated.resize(truncated.size() - 3);
  EXPECT_FALSE(decode(cols, truncated).ok());
  std::string extra = StreamBuilder().tuple(1).field(be32(1)).end() + "x";
  EXPECT_FALSE(decode(cols, extra).ok());
}

TEST(CopyBinary, NumericText) {
  auto t = numeric_to_text(numeric({1, 2345}, 1, 0, 0));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "12345");
  auto f = numeric_to_text(numeric({3, 1400}, 0, 0x4000, 3));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, "-3.140");
  EXPECT_FALSE(numeric_to_text("abc").ok());
}

}  // namespace
}  // namespace strata::pg
