// Unit tests of the bronze SQL helpers: widening rules, schema-change plans, merge statements.

#include "ingest/bronze.h"
#include "common/time.h"
#include "ingest/cursor.h"
#include "ingest/sync.h"

#include <gtest/gtest.h>

namespace strata::ingest {
namespace {

using sql::LogicalType;

// A string column is wide when its non-NULL values average kWideStringBytes or more.
TEST(Bronze, WideStringColumnsAreFoundByTheirAverageLength) {
  sql::ColumnBatch batch({{"narrow", LogicalType::varchar()},
                          {"wide", LogicalType::json()},
                          {"bytes", LogicalType::blob()},
                          {"sparse", LogicalType::varchar()},
                          {"nulls", LogicalType::varchar()},
                          {"number", LogicalType::int64()}});
  const std::string just_below(kWideStringBytes - 1, 'x'), at(kWideStringBytes, 'y');
  for (int r = 0; r < 4; ++r) {
    batch.column(0).append_bytes(just_below);
    batch.column(1).append_bytes(r % 2 ? at : std::string(kWideStringBytes + 1, 'z'));
    batch.column(2).append_bytes(std::string(kWideStringBytes * 2, '\0'));
    if (r == 0) batch.column(3).append_bytes(at); else batch.column(3).append_null();  // NULLs do not count
    batch.column(4).append_null();
    batch.column(5).append(int64_t{r});
  }
  EXPECT_EQ(wide_string_columns(batch), (std::vector<std::string>{"wide", "bytes", "sparse"}));
  EXPECT_TRUE(wide_string_columns(sql::ColumnBatch()).empty());
}

TEST(Bronze, WideningRules) {
  EXPECT_TRUE(can_widen(LogicalType::int16(), LogicalType::int64()));
  EXPECT_FALSE(can_widen(LogicalType::int64(), LogicalType::int32()));
  EXPECT_TRUE(can_widen(LogicalType::float32(), LogicalType::float64()));
  EXPECT_TRUE(can_widen(LogicalType::decimal(10, 2), LogicalType::decimal(12, 3)));
  EXPECT_FALSE(can_widen(LogicalType::decimal(10, 2), LogicalType::decimal(10, 3)));
  EXPECT_TRUE(can_widen(LogicalType::int32(), LogicalType::decimal(12, 2)));
  EXPECT_TRUE(can_widen(LogicalType::date(), LogicalType::varchar()));
  EXPECT_FALSE(can_widen(LogicalType::varchar(), LogicalType::int32()));
  EXPECT_FALSE(can_widen(LogicalType::timestamp(), LogicalType::timestamptz()));
}

TEST(Bronze, SchemaPlan) {
  sql::Schema incoming = {{"id", LogicalType::int64(), true}, {"new", LogicalType::varchar(), true}};
  std::vector<warehouse::ColumnInfo> existing = {{"id", LogicalType::int32(), "INTEGER", true},
                                                 {"gone", LogicalType::date(), "DATE", true}};
  auto plan = plan_schema_change("s.t", incoming, existing, SchemaChanges::kPropagate, false);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->add.size(), 1u);
  EXPECT_EQ(plan->add[0].name, "new");
  ASSERT_EQ(plan->widen.size(), 1u);
  EXPECT_EQ(plan->widen[0].type, LogicalType::int64());
  ASSERT_EQ(plan->kept.size(), 1u);
  EXPECT_EQ(plan->kept[0].name, "gone");
  auto strict = plan_schema_change("s.t", incoming, existing, SchemaChanges::kFail, false);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.error().message().find("schema_changes is fail"), std::string::npos);
  // A narrower source type that bronze's column holds is loaded into it (names ignore case).
  std::vector<warehouse::ColumnInfo> wide = {{"id", LogicalType::varchar(), "VARCHAR", true}};
  auto narrowing = plan_schema_change("s.t", {{"ID", LogicalType::int32(), true}}, wide, SchemaChanges::kPropagate, false);
  ASSERT_TRUE(narrowing.ok()) << narrowing.error().to_string();
  ASSERT_EQ(narrowing->narrowed.size(), 1u);
  EXPECT_EQ(narrowing->narrowed[0].bronze, LogicalType::varchar());
  EXPECT_TRUE(narrowing->kept.empty() && narrowing->add.empty() && narrowing->widen.empty());
  // Under schema_changes: fail too: bronze does not change.
  auto narrowing_strict = plan_schema_change("s.t", {{"id", LogicalType::int32(), true}}, wide, SchemaChanges::kFail, false);
  ASSERT_TRUE(narrowing_strict.ok()) << narrowing_strict.error().to_string();
  EXPECT_EQ(narrowing_strict->narrowed.size(), 1u);
  // Nor does it hide a new column from `fail`: the error names that one.
  auto added = plan_schema_change("s.t", {{"id", LogicalType::int32(), true}, {"fresh", LogicalType::date(), true}},
                                  wide, SchemaChanges::kFail, false);
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.error().message().find("new column 'fresh'"), std::string::npos) << added.error().message();
  // A type bronze can neither widen to nor hold stops the stream.
  auto blob = plan_schema_change("s.t", {{"id", LogicalType::blob(), true}}, wide, SchemaChanges::kPropagate, false);
  ASSERT_FALSE(blob.ok());
  EXPECT_NE(blob.error().message().find("cannot widen"), std::string::npos);
  EXPECT_TRUE(plan_schema_change("s.t", {{"id", LogicalType::blob(), true}}, wide, SchemaChanges::kPropagate, true).ok());
  // Two DECIMALs neither of which holds the other widen bronze to one that holds both.
  std::vector<warehouse::ColumnInfo> money = {{"amount", LogicalType::decimal(10, 2), "DECIMAL(10,2)", true}};
  auto rescaled =
      plan_schema_change("s.t", {{"amount", LogicalType::decimal(10, 4), true}}, money, SchemaChanges::kPropagate, false);
  ASSERT_TRUE(rescaled.ok()) << rescaled.error().to_string();
  ASSERT_EQ(rescaled->widen.size(), 1u);
  EXPECT_EQ(rescaled->widen[0].type, LogicalType::decimal(12, 4));
  // Past 38 digits there is no such DECIMAL.
  std::vector<warehouse::ColumnInfo> huge = {{"amount", LogicalType::decimal(38, 0), "DECIMAL(38,0)", true}};
  EXPECT_FALSE(
      plan_schema_change("s.t", {{"amount", LogicalType::decimal(38, 2), true}}, huge, SchemaChanges::kPropagate, false)
          .ok());
}

TEST(Bronze, MergeStatementsQuoteEverything) {
  const sql::Dialect& d = sql::duckdb_dialect();
  StreamConfig stream;
  stream.schema = "we\"ird";
  stream.table = "t;x";
  warehouse::Relation bronze = bronze_relation("bronze", stream);
  EXPECT_EQ(bronze.name, "we\"ird_t;x");
  EXPECT_EQ(bronze.schema, "bronze");
  StreamConfig orders;
  orders.schema = "public";
  orders.table = "orders";
  EXPECT_EQ(bronze_relation("bronze", orders).name, "orders");
  warehouse::Relation stage = staging_relation(bronze);
  MergeSpec spec;
  spec.mode = SyncMode::kIncrementalDedup;
  spec.columns = {"k\"1", "v"};
  spec.primary_key = {"k\"1"};
  spec.cursor_field = "v";
  std::string sql = merge_sql(d, stage, bronze, spec, true);
  EXPECT_NE(sql.find("\"k\"\"1\""), std::string::npos) << sql;
  EXPECT_NE(sql.find("DELETE FROM \"bronze\".\"we\"\"ird_t;x\""), std::string::npos) << sql;
  EXPECT_NE(sql.find("row_number() OVER (PARTITION BY \"k\"\"1\" ORDER BY \"v\" DESC"), std::string::npos) << sql;
  // The source's own primary key: unique in one snapshot, so no ranking and an equality match.
  spec.key_is_source_primary_key = true;
  std::string unique = merge_sql(d, stage, bronze, spec, true);
  EXPECT_EQ(unique.find("row_number()"), std::string::npos) << unique;
  EXPECT_NE(unique.find("s.\"k\"\"1\" = b.\"k\"\"1\""), std::string::npos) << unique;
  EXPECT_NE(unique.find("INSERT INTO \"bronze\".\"we\"\"ird_t;x\" (\"k\"\"1\", \"v\") SELECT \"k\"\"1\", \"v\" FROM "
                        "\"bronze\".\"_strata_stage_we\"\"ird_t;x\";"),
            std::string::npos) << unique;
  spec.mode = SyncMode::kFullRefreshOverwrite;
  EXPECT_EQ(merge_sql(d, stage, bronze, spec, false),
            "ALTER TABLE \"bronze\".\"_strata_stage_we\"\"ird_t;x\" RENAME TO \"we\"\"ird_t;x\";\n");
  StreamState state;
  state.stream = "o'brien.t";
  state.cursor_value = "2024-01-01 00:00:00+00";
  std::string w = write_state_sql(d, "bronze", state);
  EXPECT_NE(w.find("'o''brien.t'"), std::string::npos) << w;
}

TEST(Bronze, SchemaHashIsStableAndTypeSensitive) {
  sql::Schema a = {{"id", LogicalType::int32(), true}};
  sql::Schema b = {{"id", LogicalType::int64(), true}};
  EXPECT_EQ(schema_hash(a), schema_hash(a));
  EXPECT_NE(schema_hash(a), schema_hash(b));
  EXPECT_EQ(schema_hash(a).size(), 16u);
}

TEST(Bronze, CursorText) {
  EXPECT_EQ(format_cursor(LogicalType::timestamptz(), 0), "1970-01-01 00:00:00+00");
  EXPECT_EQ(format_cursor(LogicalType::timestamp(), -1), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(format_cursor(LogicalType::timestamp(), 1704067200500000), "2024-01-01 00:00:00.500000");
  EXPECT_EQ(format_cursor(LogicalType::date(), 19723), "2024-01-01");
  EXPECT_EQ(format_cursor(LogicalType::int64(), -42), "-42");
  EXPECT_EQ(format_cursor(LogicalType::timestamptz(), sql::kTimestampInfinity), "infinity");
  // Years before 1 are astronomical (DuckDB's form); PostgreSQL gets its era form.
  const int64_t ides = days_from_civil(-43, 3, 15);
  EXPECT_EQ(format_cursor(LogicalType::date(), ides), "-0043-03-15");
  EXPECT_EQ(postgres_cursor_text(format_cursor(LogicalType::date(), ides)), "0044-03-15 BC");
  EXPECT_EQ(postgres_cursor_text(format_cursor(LogicalType::timestamptz(), ides * 86400000000LL + 1)),
            "0044-03-15 00:00:00.000001+00 BC");
  EXPECT_EQ(postgres_cursor_text("0000-12-31"), "0001-12-31 BC");
  EXPECT_EQ(postgres_cursor_text("0001-01-01"), "0001-01-01");
  EXPECT_EQ(postgres_cursor_text("-42"), "-42");
  EXPECT_EQ(postgres_cursor_text("-infinity"), "-infinity");
  EXPECT_EQ(postgres_cursor_text("2024-01-31 13:45:00+00"), "2024-01-31 13:45:00+00");
  EXPECT_TRUE(cursor_type_supported(LogicalType::date()));
  EXPECT_FALSE(cursor_type_supported(LogicalType::varchar()));
}

}  // namespace
}  // namespace strata::ingest
