#include "sql/column_batch.h"

#include <gtest/gtest.h>

#include <cstring>

namespace strata::sql {
namespace {

TEST(LogicalType, ToStringRoundTrips) {
  std::vector<LogicalType> types = {LogicalType::boolean(), LogicalType::int16(), LogicalType::int32(),
                                    LogicalType::int64(), LogicalType::float32(), LogicalType::float64(),
                                    LogicalType::decimal(38, 10), LogicalType::decimal(9, 2), LogicalType::varchar(),
                                    LogicalType::blob(), LogicalType::date(), LogicalType::time(),
                                    LogicalType::timestamp(), LogicalType::timestamptz(), LogicalType::interval(),
                                    LogicalType::uuid(), LogicalType::json(), LogicalType::timetz(),
                                    LogicalType::list(LogicalType::list(LogicalType::varchar()))};
  for (const auto& t : types) {
    LogicalType parsed;
    ASSERT_TRUE(parse_logical_type(t.to_string(), parsed)) << t.to_string();
    EXPECT_EQ(parsed, t);
  }
  LogicalType bad;
  EXPECT_FALSE(parse_logical_type("DECIMAL(40,2)", bad));
  EXPECT_FALSE(parse_logical_type("LIST(NOPE)", bad));
  EXPECT_NE(LogicalType::decimal(10, 2), LogicalType::decimal(10, 3));
  EXPECT_EQ(LogicalType::decimal(18, 2).fixed_width(), 8u);
  EXPECT_EQ(LogicalType::decimal(19, 2).fixed_width(), 16u);
}

TEST(LogicalType, TimeAndTimeTzTextAsPostgresPrintsThem) {
  EXPECT_EQ(time_text(0), "00:00:00");
  EXPECT_EQ(time_text(45296500000LL), "12:34:56.5");
  EXPECT_EQ(time_text(86399999999LL), "23:59:59.999999");
  EXPECT_EQ(time_text(360000000000LL + 1), "100:00:00.000001");  // an interval's hours
  EXPECT_EQ(timetz_text({45296000000LL, 19800, 0}), "12:34:56+05:30");
  EXPECT_EQ(timetz_text({0, -57599, 0}), "00:00:00-15:59:59");
  EXPECT_EQ(timetz_text({86400000000LL, 0, 0}), "24:00:00+00");
  EXPECT_EQ(timetz_text({1, -3600, 0}), "00:00:00.000001-01");
  EXPECT_EQ(LogicalType::timetz().fixed_width(), sizeof(TimeTzValue));
}

TEST(ColumnBatch, FixedVariableAndNulls) {
  Schema schema = {{"id", LogicalType::int64()}, {"name", LogicalType::varchar()}, {"price", LogicalType::float64()}};
  ColumnBatch batch(schema);
  for (int64_t i = 0; i < 1000; ++i) {
    batch.column(0).append<int64_t>(i);
    if (i % 3 == 0) batch.column(1).append_null();
    else batch.column(1).append_bytes("name-" + std::to_string(i));
    batch.column(2).append<double>(i * 1.5);
  }
  ASSERT_EQ(batch.num_rows(), 1000u);
  EXPECT_EQ(batch.column(0).get<int64_t>(999), 999);
  EXPECT_TRUE(batch.column(1).is_null(3));
  EXPECT_FALSE(batch.column(1).is_null(4));
  EXPECT_EQ(batch.column(1).get_bytes(4), "name-4");
  EXPECT_EQ(batch.column(1).get_bytes(3), "");
  EXPECT_DOUBLE_EQ(batch.column(2).get<double>(10), 15.0);
  EXPECT_TRUE(batch.column(1).has_nulls());
  EXPECT_FALSE(batch.column(0).has_nulls());
  EXPECT_EQ(batch.schema()[1].name, "name");
  EXPECT_GT(batch.byte_size(), 1000u * 16);
  batch.clear();
  EXPECT_EQ(batch.num_rows(), 0u);
  batch.column(1).append_bytes("again");
  EXPECT_EQ(batch.column(1).get_bytes(0), "again");
}

TEST(ByteBuffer, AppendsCopiesAndMoves) {
  ByteBuffer a;
  EXPECT_TRUE(a.empty());
  for (int i = 0; i < 10000; ++i) a.push_back(static_cast<uint8_t>(i));
  a.append("xyz", 3);
  a.append_zeros(2);
  ASSERT_EQ(a.size(), 10005u);
  EXPECT_EQ(a.data()[255], 255);
  EXPECT_EQ(a.data()[10002], 'z');
  EXPECT_EQ(a.data()[10004], 0);
  ByteBuffer copy(a);
  ASSERT_EQ(copy.size(), a.size());
  EXPECT_NE(copy.data(), a.data());
  EXPECT_EQ(std::memcmp(copy.data(), a.data(), a.size()), 0);
  ByteBuffer moved(std::move(a));
  EXPECT_EQ(moved.size(), 10005u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from buffer is empty
  a.append("k", 1);
  EXPECT_EQ(a.size(), 1u);
  copy = moved;
  EXPECT_EQ(copy.size(), 10005u);
  copy = std::move(a);
  EXPECT_EQ(copy.size(), 1u);
  copy.reserve(1 << 20);
  EXPECT_EQ(copy.data()[0], 'k');
  copy.clear();
  EXPECT_TRUE(copy.empty());
}

TEST(ColumnBatch, CopiesAreDeepAndReserveKeepsValues) {
  Column c(LogicalType::varchar());
  c.append_bytes("first");
  c.reserve(2048, 1 << 16);
  c.append_null();
  c.append_bytes(std::string(100, 'q'));
  Column copy(c);
  c.clear();
  c.append_bytes("other");
  ASSERT_EQ(copy.size(), 3u);
  EXPECT_EQ(copy.get_bytes(0), "first");
  EXPECT_TRUE(copy.is_null(1));
  EXPECT_EQ(copy.get_bytes(2), std::string(100, 'q'));
  EXPECT_EQ(copy.heap_size(), 105u);
  EXPECT_EQ(c.get_bytes(0), "other");
}

TEST(ColumnBatch, NestedLists) {
  // [[1,2],[]], NULL, [], [[3]]
  Column col(LogicalType::list(LogicalType::list(LogicalType::int32())));
  Column& inner = col.child();
  inner.child().append<int32_t>(1);
  inner.child().append<int32_t>(2);
  inner.append_list();
  inner.append_list();  // empty inner list
  col.append_list();
  col.append_null();
  col.append_list();  // empty outer list
  inner.child().append<int32_t>(3);
  inner.append_list();
  col.append_list();
  ASSERT_EQ(col.size(), 4u);
  EXPECT_EQ(col.list_range(0), (std::pair<uint64_t, uint64_t>{0, 2}));
  EXPECT_TRUE(col.is_null(1));
  EXPECT_EQ(col.list_range(2), (std::pair<uint64_t, uint64_t>{2, 2}));
  EXPECT_EQ(col.list_range(3), (std::pair<uint64_t, uint64_t>{2, 3}));
  EXPECT_EQ(inner.list_range(1), (std::pair<uint64_t, uint64_t>{2, 2}));
  EXPECT_EQ(inner.child().get<int32_t>(inner.list_range(2).first), 3);
  Column copy = col;  // deep copy
  col.clear();
  EXPECT_EQ(copy.size(), 4u);
  EXPECT_EQ(copy.child().child().size(), 3u);
}

TEST(ColumnBatch, FixedWidthRaw) {
  Column uuid(LogicalType::uuid());
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(i);
  uuid.append_raw(bytes);
  uuid.append_null();
  EXPECT_EQ(uuid.raw(0)[15], 15);
  EXPECT_TRUE(uuid.is_null(1));
  Column interval(LogicalType::interval());
  interval.append(IntervalValue{1, 2, 3});
  EXPECT_EQ(interval.get<IntervalValue>(0).days, 2);
}

}  // namespace
}  // namespace strata::sql
