#include "sql/dialect.h"

#include <gtest/gtest.h>

namespace strata::sql {
namespace {

TEST(Dialect, QuotesHostileIdentifiers) {
  const Dialect& d = duckdb_dialect();
  EXPECT_EQ(d.quote_identifier("we\"ird; drop table x; --"), "\"we\"\"ird; drop table x; --\"");
  EXPECT_EQ(d.quote_identifier("ação é"), "\"ação é\"");
  EXPECT_EQ(d.qualify("", "bronze", "a b"), "\"bronze\".\"a b\"");
  EXPECT_EQ(postgres_dialect().qualify("db", "s", "t"), "\"db\".\"s\".\"t\"");
  EXPECT_EQ(bigquery_dialect().quote_identifier("a`b"), "`a\\`b`");
}

TEST(Dialect, QuotesLiterals) {
  EXPECT_EQ(duckdb_dialect().quote_string("O'Brien"), "'O''Brien'");
  EXPECT_EQ(bigquery_dialect().quote_string("O'Brien\\"), "'O\\'Brien\\\\'");
}

TEST(Dialect, TypeNames) {
  EXPECT_EQ(duckdb_dialect().type_name(LogicalType::decimal(38, 4)), "DECIMAL(38,4)");
  EXPECT_EQ(duckdb_dialect().type_name(LogicalType::list(LogicalType::varchar())), "VARCHAR[]");
  EXPECT_EQ(postgres_dialect().type_name(LogicalType::json()), "JSONB");
  EXPECT_EQ(postgres_dialect().type_name(LogicalType::float64()), "DOUBLE PRECISION");
  EXPECT_EQ(bigquery_dialect().type_name(LogicalType::list(LogicalType::int32())), "ARRAY<INT64>");
  EXPECT_EQ(bigquery_dialect().type_name(LogicalType::decimal(38, 9)), "NUMERIC");  // 29 + 9 digits
  EXPECT_EQ(bigquery_dialect().type_name(LogicalType::decimal(12, 2)), "NUMERIC");
  EXPECT_EQ(bigquery_dialect().type_name(LogicalType::decimal(38, 8)), "BIGNUMERIC");  // 30 integer digits
  EXPECT_EQ(bigquery_dialect().type_name(LogicalType::decimal(20, 10)), "BIGNUMERIC");
  EXPECT_EQ(duckdb_dialect().type_name(LogicalType::timetz()), "TIMETZ");
  EXPECT_EQ(postgres_dialect().type_name(LogicalType::timetz()), "TIMETZ");
  EXPECT_EQ(bigquery_dialect().type_name(LogicalType::timetz()), "STRING");
}

}  // namespace
}  // namespace strata::sql
