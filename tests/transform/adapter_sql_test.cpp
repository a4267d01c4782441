// Unit tests for the warehouse-specific DDL of the materializations (adapter_sql.h): BigQuery's flavour.
#include <gtest/gtest.h>

#include "transform/adapter_sql.h"

namespace strata::transform::detail {
namespace {

using warehouse::RelationKind;

TEST(AdapterSql, BigQueryReplacesInPlaceAndDropsARelationOfTheOtherKind) {
  const AdapterSql& bq = adapter_sql(sql::bigquery_dialect());
  DdlPlan table = bq.replace_relation("`p`.`d`.`t`", RelationKind::kTable, RelationKind::kTable, "select 1 as x", {});
  EXPECT_FALSE(table.atomic);
  ASSERT_EQ(table.statements.size(), 1u);
  EXPECT_EQ(table.statements[0], "create or replace table `p`.`d`.`t` as (\nselect 1 as x\n)");
  DdlPlan view = bq.replace_relation("`p`.`d`.`t`", RelationKind::kTable, RelationKind::kView, "select 1 as x", {});
  ASSERT_EQ(view.statements.size(), 2u);
  EXPECT_EQ(view.statements[0], "drop table if exists `p`.`d`.`t`");
  EXPECT_EQ(view.statements[1], "create or replace view `p`.`d`.`t` as (\nselect 1 as x\n)");
  DdlPlan empty = bq.replace_with_table("`p`.`d`.`t`", RelationKind::kView, "x int64 not null", {});
  ASSERT_EQ(empty.statements.size(), 2u);
  EXPECT_EQ(empty.statements[0], "drop view if exists `p`.`d`.`t`");
  EXPECT_EQ(empty.statements[1], "create or replace table `p`.`d`.`t` (\nx int64 not null\n)");
}

TEST(AdapterSql, BigQueryInsertsNameTheirColumnsAndSeedsUseGoogleSqlTypes) {
  const AdapterSql& bq = adapter_sql(sql::bigquery_dialect());
  EXPECT_TRUE(bq.insert_needs_columns());
  EXPECT_EQ(bq.insert_by_name("`p`.`d`.`t`", "select 1 as a, 2 as `b c`", {"a", "b c"}),
            "insert into `p`.`d`.`t` (`a`, `b c`)\nselect `a`, `b c` from (\nselect 1 as a, 2 as `b c`\n) as "
            "dbt_insert_source");
  EXPECT_EQ(bq.seed_type(SeedType::kInteger), "int64");
  EXPECT_EQ(bq.seed_type(SeedType::kFloat), "float64");
  EXPECT_EQ(bq.seed_type(SeedType::kBoolean), "bool");
  EXPECT_EQ(bq.seed_type(SeedType::kTimestamp), "datetime");
  EXPECT_EQ(bq.seed_type(SeedType::kText), "string");
  // The others keep their own.
  EXPECT_EQ(adapter_sql(sql::duckdb_dialect()).seed_type(SeedType::kText), "varchar");
  EXPECT_EQ(adapter_sql(sql::postgres_dialect()).seed_type(SeedType::kText), "text");
}

}  // namespace
}  // namespace strata::transform::detail
