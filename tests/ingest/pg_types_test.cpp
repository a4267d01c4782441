// Unit tests of the PostgreSQL type → logical type mapping.

#include "pg/pg_types.h"

#include <gtest/gtest.h>

namespace strata::pg {
namespace {

using sql::LogicalType;

PgTypeMap sample_types() {
  PgTypeMap t;
  t[oid::kInt4] = {oid::kInt4, "int4", 'b', 0, -1, 0, 'N'};
  t[1007] = {1007, "_int4", 'b', 0, -1, oid::kInt4, 'A'};
  t[oid::kNumeric] = {oid::kNumeric, "numeric", 'b', 0, -1, 0, 'N'};
  t[1231] = {1231, "_numeric", 'b', 0, -1, oid::kNumeric, 'A'};
  t[869] = {869, "inet", 'b', 0, -1, 0, 'I'};
  t[1041] = {1041, "_inet", 'b', 0, -1, 869, 'A'};
  t[90001] = {90001, "mood", 'e', 0, -1, 0, 'E'};
  t[90002] = {90002, "price", 'd', oid::kNumeric, 655366, 0, 'N'};  // numeric(10,2)
  t[90003] = {90003, "price2", 'd', 90002, -1, 0, 'N'};                // domain over a domain
  t[90004] = {90004, "_price", 'b', 0, -1, 90002, 'A'};
  return t;
}

int32_t numeric_typmod(int p, int s) { return ((p << 16) | s) + 4; }

TEST(PgTypes, Scalars) {
  PgTypeMap t = sample_types();
  EXPECT_EQ(map_column_type(t, oid::kInt4, -1, 0).type, LogicalType::int32());
  EXPECT_EQ(map_column_type(t, oid::kTimestampTz, -1, 0).type, LogicalType::timestamptz());
  EXPECT_EQ(map_column_type(t, oid::kJsonb, -1, 0).kind, WireKind::kJsonb);
  EXPECT_EQ(map_column_type(t, oid::kNumeric, numeric_typmod(12, 3), 0).type, LogicalType::decimal(12, 3));
  EXPECT_EQ(map_column_type(t, oid::kNumeric, numeric_typmod(38, 0), 0).type, LogicalType::decimal(38, 0));
  EXPECT_EQ(map_column_type(t, oid::kNumeric, numeric_typmod(39, 2), 0).type, LogicalType::varchar());
  EXPECT_EQ(map_column_type(t, oid::kNumeric, -1, 0).type, LogicalType::varchar());
  EXPECT_EQ(map_column_type(t, oid::kMoney, -1, 0).type, LogicalType::decimal(19, 2));
  ColumnMapping inet = map_column_type(t, 869, -1, 0);
  EXPECT_TRUE(inet.cast_to_text);
  EXPECT_EQ(copy_select_expression("\"ip\"", inet), "abbrev(\"ip\")");
  ColumnMapping mood = map_column_type(t, 90001, -1, 0);
  EXPECT_FALSE(mood.cast_to_text);
  EXPECT_EQ(mood.type, LogicalType::varchar());
  EXPECT_EQ(map_column_type(t, 424242, -1, 0).cast_to_text, true);  // unknown oid
}

TEST(PgTypes, DomainsResolveToBase) {
  PgTypeMap t = sample_types();
  EXPECT_EQ(map_column_type(t, 90002, -1, 0).type, LogicalType::decimal(10, 2));
  EXPECT_EQ(map_column_type(t, 90003, -1, 0).type, LogicalType::decimal(10, 2));
  EXPECT_EQ(map_column_type(t, 90004, -1, 1).type, LogicalType::list(LogicalType::decimal(10, 2)));
}

TEST(PgTypes, Arrays) {
  PgTypeMap t = sample_types();
  ColumnMapping a = map_column_type(t, 1007, -1, 0);
  EXPECT_EQ(a.array_depth, 1);
  EXPECT_EQ(a.kind, WireKind::kInt4);
  EXPECT_EQ(a.type, LogicalType::list(LogicalType::int32()));
  ColumnMapping nested = map_column_type(t, 1007, -1, 2);
  EXPECT_EQ(nested.type, LogicalType::list(LogicalType::list(LogicalType::int32())));
  ColumnMapping inets = map_column_type(t, 1041, -1, 1);
  EXPECT_TRUE(inets.cast_to_text);
  EXPECT_EQ(copy_select_expression("\"ips\"", inets),
            "CASE WHEN \"ips\" IS NULL THEN NULL ELSE ARRAY(SELECT abbrev(e) FROM unnest(\"ips\") WITH ORDINALITY AS "
            "u(e, o) ORDER BY o) END");
  EXPECT_EQ(map_column_type(t, 1231, numeric_typmod(5, 1), 1).type, LogicalType::list(LogicalType::decimal(5, 1)));
}

TEST(PgTypes, NumericTypmod) {
  EXPECT_FALSE(numeric_precision_scale(-1).has_value());
  auto ps = numeric_precision_scale(numeric_typmod(10, 2));
  ASSERT_TRUE(ps.has_value());
  EXPECT_EQ(ps->first, 10);
  EXPECT_EQ(ps->second, 2);
  auto negative = numeric_precision_scale(((5 << 16) | (0x800 - 2)) + 4);  // numeric(5,-2)
  ASSERT_TRUE(negative.has_value());
  EXPECT_EQ(negative->second, -2);
}

}  // namespace
}  // namespace strata::pg
