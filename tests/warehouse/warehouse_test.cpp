// Unit tests: identifier quoting and DDL through dialects, DuckDB <-> LogicalType mapping, UUID
// encoding, cell text formats.
#include <gtest/gtest.h>

#include "warehouse/duckdb/duckdb_types.h"
#include "warehouse/duckdb/duckdb_vectors.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {
namespace {

using sql::LogicalType;

TEST(WarehouseDdl, QuotesEveryIdentifier) {
  const sql::Dialect& d = sql::duckdb_dialect();
  Relation rel{"", "my \"schema\"", "we\"ird; drop table x; --"};
  EXPECT_EQ(qualified_name(d, rel), "\"my \"\"schema\"\"\".\"we\"\"ird; drop table x; --\"");
  EXPECT_EQ(qualified_name(d, {"db", "", "t"}), "\"db\".\"t\"");
  sql::Schema schema{{"id", LogicalType::int64(), false},
                     {"ünï ✓", LogicalType::decimal(38, 10)},
                     {"l", LogicalType::list(LogicalType::json())},
                     {"tz", LogicalType::timestamptz()}};
  EXPECT_EQ(create_table_sql(d, rel, schema),
            "CREATE TABLE \"my \"\"schema\"\"\".\"we\"\"ird; drop table x; --\" (\"id\" BIGINT NOT NULL, "
            "\"ünï ✓\" DECIMAL(38,10), \"l\" JSON[], \"tz\" TIMESTAMPTZ)");
  EXPECT_EQ(create_table_sql(d, {"", "s", "t"}, {{"a", LogicalType::int32()}}, true),
            "CREATE TABLE IF NOT EXISTS \"s\".\"t\" (\"a\" INTEGER)");
  EXPECT_EQ(create_schema_sql(d, "", "a;b"), "CREATE SCHEMA IF NOT EXISTS \"a;b\"");
  EXPECT_EQ(create_table_sql(sql::postgres_dialect(), {"", "s", "t"}, {{"j", LogicalType::json()}}),
            "CREATE TABLE \"s\".\"t\" (\"j\" JSONB)");
  // ZSTD for the variable-width columns named, on DuckDB only.
  const sql::Schema wide{{"t", LogicalType::varchar()}, {"j", LogicalType::json()}, {"b", LogicalType::blob()},
                         {"n", LogicalType::int32()}, {"l", LogicalType::list(LogicalType::varchar())}};
  EXPECT_EQ(create_table_sql(d, {"", "s", "t"}, wide, false, {"j", "b", "n", "l", "absent"}),
            "CREATE TABLE \"s\".\"t\" (\"t\" VARCHAR, \"j\" JSON USING COMPRESSION zstd, "
            "\"b\" BLOB USING COMPRESSION zstd, \"n\" INTEGER, \"l\" VARCHAR[])");
  EXPECT_EQ(create_table_sql(sql::postgres_dialect(), {"", "s", "t"}, {{"j", LogicalType::json()}}, false, {"j"}),
            "CREATE TABLE \"s\".\"t\" (\"j\" JSONB)");
  EXPECT_EQ(create_table_sql(sql::bigquery_dialect(), {"p", "d", "t`x"}, {{"a", LogicalType::int32()}}),
            "CREATE TABLE `p`.`d`.`t\\`x` (`a` INT64)");
}

std::vector<LogicalType> every_type() {
  return {LogicalType::boolean(),       LogicalType::int16(),       LogicalType::int32(),
          LogicalType::int64(),         LogicalType::float32(),     LogicalType::float64(),
          LogicalType::decimal(4, 2),   LogicalType::decimal(9, 0), LogicalType::decimal(18, 18),
          LogicalType::decimal(38, 5),  LogicalType::varchar(),     LogicalType::blob(),
          LogicalType::date(),          LogicalType::time(),        LogicalType::timestamp(),
          LogicalType::timestamptz(),   LogicalType::interval(),    LogicalType::uuid(),
          LogicalType::json(),          LogicalType::list(LogicalType::int32()),
          LogicalType::list(LogicalType::list(LogicalType::decimal(20, 2)))};
}

TEST(DuckDbTypes, EveryLogicalTypeMapsToDuckDbAndBack) {
  for (const auto& t : every_type()) {
    auto duck = duckdb_detail::to_duckdb_type(t);
    auto desc = duckdb_detail::describe_duckdb_type(duck.get());
    EXPECT_TRUE(desc.supported) << t.to_string();
    EXPECT_EQ(desc.logical, t) << t.to_string() << " came back as " << desc.logical.to_string();
  }
}

TEST(DuckDbTypes, NativeNamesAndWideningOfDuckDbOnlyTypes) {
  auto name_of = [](const LogicalType& t) {
    return duckdb_detail::describe_duckdb_type(duckdb_detail::to_duckdb_type(t).get()).native;
  };
  EXPECT_EQ(name_of(LogicalType::decimal(18, 2)), "DECIMAL(18,2)");
  EXPECT_EQ(name_of(LogicalType::json()), "JSON");
  EXPECT_EQ(name_of(LogicalType::list(LogicalType::varchar())), "VARCHAR[]");
  EXPECT_EQ(name_of(LogicalType::timestamptz()), "TIMESTAMP WITH TIME ZONE");

  struct Case {
    duckdb_type id;
    LogicalType expected;
  };
  for (const auto& c : {Case{DUCKDB_TYPE_TINYINT, LogicalType::int16()}, Case{DUCKDB_TYPE_UTINYINT, LogicalType::int16()},
                        Case{DUCKDB_TYPE_USMALLINT, LogicalType::int32()}, Case{DUCKDB_TYPE_UINTEGER, LogicalType::int64()},
                        Case{DUCKDB_TYPE_UBIGINT, LogicalType::decimal(20, 0)},
                        Case{DUCKDB_TYPE_HUGEINT, LogicalType::decimal(38, 0)},
                        Case{DUCKDB_TYPE_TIMESTAMP_NS, LogicalType::timestamp()},
                        Case{DUCKDB_TYPE_TIME_TZ, LogicalType::timetz()}}) {
    duckdb_detail::LogicalTypeHandle h(duckdb_create_logical_type(c.id));
    auto desc = duckdb_detail::describe_duckdb_type(h.get());
    EXPECT_TRUE(desc.supported);
    EXPECT_EQ(desc.logical, c.expected) << desc.native;
  }
  duckdb_detail::LogicalTypeHandle bit(duckdb_create_logical_type(DUCKDB_TYPE_BIT));
  EXPECT_FALSE(duckdb_detail::describe_duckdb_type(bit.get()).supported);
}

TEST(DuckDbTypes, UuidHugeintFlipsTheSignBit) {
  uint8_t bytes[16] = {0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00};
  duckdb_hugeint h = duckdb_detail::uuid_to_hugeint(bytes);
  EXPECT_EQ(static_cast<uint64_t>(h.upper), 0xd50e8400e29b41d4ULL);
  EXPECT_EQ(h.lower, 0xa716446655440000ULL);
  uint8_t back[16];
  duckdb_detail::uuid_from_hugeint(h, back);
  EXPECT_EQ(0, std::memcmp(bytes, back, 16));
  uint8_t zero[16] = {};
  EXPECT_EQ(duckdb_detail::uuid_to_hugeint(zero).upper, INT64_MIN);  // smallest UUID sorts first
}

TEST(CellText, FormatsEveryType) {
  sql::ColumnBatch b({{"d", LogicalType::decimal(5, 2)},
                      {"big", LogicalType::decimal(38, 3)},
                      {"ts", LogicalType::timestamp()},
                      {"tz", LogicalType::timestamptz()},
                      {"iv", LogicalType::interval()},
                      {"f", LogicalType::float64()},
                      {"bl", LogicalType::blob()},
                      {"l", LogicalType::list(LogicalType::varchar())},
                      {"tm", LogicalType::time()}});
  b.column(0).append<int64_t>(-5);
  b.column(1).append<sql::Int128>(sql::Int128{UINT64_MAX, -1});  // -1
  b.column(2).append<int64_t>(-1);                                 // 1969-12-31 23:59:59.999999
  b.column(3).append<int64_t>(sql::kTimestampInfinity);
  b.column(4).append<sql::IntervalValue>({-13, 1, 3723000001});
  b.column(5).append<double>(0.1);
  b.column(6).append_bytes(std::string("\x00\xff", 2));
  b.column(7).child().append_bytes("a");
  b.column(7).child().append_null();
  b.column(7).append_list();
  b.column(8).append<int64_t>(3723500000);
  QueryResult r;
  r.schema = b.schema();
  r.batches.push_back(b);
  EXPECT_EQ(r.cell_text(0, 0), "-0.05");
  EXPECT_EQ(r.cell_text(0, 1), "-0.001");
  EXPECT_EQ(r.cell_text(0, 2), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(r.cell_text(0, 3), "infinity");
  EXPECT_EQ(r.cell_text(0, 4), "-1 year -1 month 1 day 01:02:03.000001");
  EXPECT_EQ(r.cell_text(0, 5), "0.1");
  EXPECT_EQ(r.cell_text(0, 6), "\\x00ff");
  EXPECT_EQ(r.cell_text(0, 7), "[a, NULL]");
  EXPECT_EQ(r.cell_text(0, 8), "01:02:03.5");
  EXPECT_FALSE(r.is_null(0, 0));
}

}  // namespace
}  // namespace strata::warehouse
