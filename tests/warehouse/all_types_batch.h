#pragma once
// A batch holding every LogicalType at its extremes (minimum, maximum, NULL, ordinary, large,
// unicode, empty), shared by the warehouse round-trip tests.

#include <cmath>
#include <limits>
#include <string>

#include "sql/column_batch.h"

namespace strata::warehouse::testing_types {

using sql::Int128;
using sql::IntervalValue;
using sql::LogicalType;

inline Int128 int128_from(__int128 v) {
  return Int128{static_cast<uint64_t>(v), static_cast<int64_t>(v >> 64)};
}

inline __int128 pow10_128(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

inline void append_uuid(sql::Column& c, const char* hex32) {
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(std::stoi(std::string(hex32 + 2 * i, 2), nullptr, 16));
  c.append_raw(bytes);
}

inline constexpr int kRows = 5;  // 0 minimum, 1 maximum, 2 NULL, 3 ordinary, 4 large/unicode/empty

inline sql::Schema all_types_schema() {
  return {
      {"b", LogicalType::boolean()},
      {"i16", LogicalType::int16()},
      {"i32", LogicalType::int32()},
      {"i64", LogicalType::int64()},
      {"f32", LogicalType::float32()},
      {"f64", LogicalType::float64()},
      {"d4", LogicalType::decimal(4, 2)},
      {"d9", LogicalType::decimal(9, 3)},
      {"d18", LogicalType::decimal(18, 4)},
      {"d38", LogicalType::decimal(38, 10)},
      {"v", LogicalType::varchar()},
      {"bl", LogicalType::blob()},
      {"dt", LogicalType::date()},
      {"tm", LogicalType::time()},
      {"ts", LogicalType::timestamp()},
      {"tstz", LogicalType::timestamptz()},
      {"iv", LogicalType::interval()},
      {"u", LogicalType::uuid()},
      {"j", LogicalType::json()},
      {"li", LogicalType::list(LogicalType::int32())},
      {"ls", LogicalType::list(LogicalType::varchar())},
      {"lli", LogicalType::list(LogicalType::list(LogicalType::int64()))},
  };
}

template <typename T>
void fill(sql::Column& c, T min, T max, T ordinary, T other) {
  c.append(min);
  c.append(max);
  c.append_null();
  c.append(ordinary);
  c.append(other);
}

inline void fill_lists(sql::ColumnBatch& batch) {
  sql::Column& li = batch.column(19);
  li.child().append<int32_t>(INT32_MIN);
  li.child().append<int32_t>(INT32_MAX);
  li.append_list();
  li.child().append<int32_t>(1);
  li.child().append_null();
  li.child().append<int32_t>(3);
  li.append_list();
  li.append_null();
  li.child().append<int32_t>(42);
  li.append_list();
  li.append_list();  // empty

  sql::Column& ls = batch.column(20);
  ls.child().append_bytes("");
  ls.child().append_bytes("ünï ✓ 🎉");
  ls.child().append_null();
  ls.append_list();
  ls.append_list();
  ls.append_null();
  ls.child().append_bytes(std::string(100, 'x'));
  ls.append_list();
  ls.child().append_bytes("a");
  ls.append_list();

  sql::Column& lli = batch.column(21);
  sql::Column& inner = lli.child();
  inner.child().append<int64_t>(1);
  inner.child().append<int64_t>(2);
  inner.append_list();
  inner.append_list();
  inner.append_null();
  inner.child().append<int64_t>(INT64_MIN);
  inner.append_list();
  lli.append_list();  // [[1,2],[],NULL,[min]]
  lli.append_list();  // []
  lli.append_null();
  inner.append_list();
  lli.append_list();  // [[]]
  inner.child().append<int64_t>(INT64_MAX);
  inner.append_list();
  lli.append_list();  // [[max]]
}

inline sql::ColumnBatch all_types_batch() {
  sql::ColumnBatch batch(all_types_schema());
  fill<uint8_t>(batch.column(0), 0, 1, 1, 0);
  fill<int16_t>(batch.column(1), INT16_MIN, INT16_MAX, 12, -1);
  fill<int32_t>(batch.column(2), INT32_MIN, INT32_MAX, 123456, 0);
  fill<int64_t>(batch.column(3), INT64_MIN, INT64_MAX, -9876543210LL, 0);
  fill<float>(batch.column(4), std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max(), 1.5f,
              -std::numeric_limits<float>::infinity());
  fill<double>(batch.column(5), std::numeric_limits<double>::lowest(), std::numeric_limits<double>::max(), 0.1,
               std::numeric_limits<double>::denorm_min());
  fill<int64_t>(batch.column(6), -9999, 9999, 1250, 0);
  fill<int64_t>(batch.column(7), -999999999, 999999999, 1500, -1);
  fill<int64_t>(batch.column(8), -999999999999999999LL, 999999999999999999LL, 123456789, 5);
  fill<Int128>(batch.column(9), int128_from(-(pow10_128(38) - 1)), int128_from(pow10_128(38) - 1),
               int128_from(pow10_128(10) * 42 + 5), int128_from(-1));
  sql::Column& v = batch.column(10);
  v.append_bytes("");
  v.append_bytes(std::string(1 << 20, 'z'));
  v.append_null();
  v.append_bytes("we\"ird'; --");
  v.append_bytes("héllo wörld ✓ 日本語 🎉");
  sql::Column& bl = batch.column(11);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  bl.append_bytes("");
  std::string mb(1 << 20, '\0');
  for (size_t i = 0; i < mb.size(); ++i) mb[i] = static_cast<char>(i * 7);
  bl.append_bytes(mb);
  bl.append_null();
  bl.append_bytes(all_bytes);
  bl.append_bytes("\x01\x02");
  fill<int32_t>(batch.column(12), -719162 /* 0001-01-01 */, 2932896 /* 9999-12-31 */, 19753, 0);
  fill<int64_t>(batch.column(13), 0, 86400000000LL, 49500123456LL, 1);
  fill<int64_t>(batch.column(14), sql::kTimestampNegInfinity, sql::kTimestampInfinity, 1706708700123456LL,
                -62135596800000000LL /* 0001-01-01 */);
  fill<int64_t>(batch.column(15), sql::kTimestampNegInfinity, sql::kTimestampInfinity, 1706708700000000LL,
                253402300799999999LL /* 9999-12-31 23:59:59.999999 */);
  fill<IntervalValue>(batch.column(16), IntervalValue{INT32_MIN + 1, INT32_MIN + 1, -86400000000LL * 1000},
                      IntervalValue{INT32_MAX, INT32_MAX, INT64_MAX / 2}, IntervalValue{14, 3, 14706000000LL},
                      IntervalValue{0, 0, 0});
  sql::Column& u = batch.column(17);
  append_uuid(u, "00000000000000000000000000000000");
  append_uuid(u, "ffffffffffffffffffffffffffffffff");
  u.append_null();
  append_uuid(u, "550e8400e29b41d4a716446655440000");
  append_uuid(u, "80000000000000007fffffffffffffff");
  sql::Column& j = batch.column(18);
  j.append_bytes("{}");
  j.append_bytes("[1,2,3]");
  j.append_null();
  j.append_bytes("{\"a\": [1, 2, \"ü\"], \"b\": null}");
  j.append_bytes("\"text\"");
  fill_lists(batch);
  return batch;
}

}  // namespace strata::warehouse::testing_types
