// Round trip of every LogicalType through a DuckDB file: written with the bulk writer, read back
// with query(), compared value by value; DuckDB's own text casts check the physical encodings.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/temp_dir.h"
#include "warehouse/all_types_batch.h"
#include "warehouse/batch_compare.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {
namespace {

using namespace testing_types;
using sql::LogicalType;

// Writes the batches into rel through a bulk writer, or through Warehouse::load().
Status write_batches(Warehouse& wh, const Relation& rel, const sql::Schema& schema,
                     std::vector<sql::ColumnBatch> batches, bool through_load) {
  if (through_load) {
    size_t next = 0;
    return wh.load(rel, schema, [&]() -> Result<std::optional<sql::ColumnBatch>> {
      if (next == batches.size()) return std::optional<sql::ColumnBatch>();
      return std::optional<sql::ColumnBatch>(std::move(batches[next++]));
    });
  }
  STRATA_ASSIGN(std::unique_ptr<BulkWriter> writer, wh.writer(rel, schema));
  for (sql::ColumnBatch& batch : batches) {
    STRATA_TRY(writer->append(batch));
    batch = sql::ColumnBatch();  // the writer must have copied every value
  }
  return writer->finish();
}

// The totals of the 15,000 rows ManyBatchesAndChunkBoundaries writes into `table`.
void expect_chunk_totals_in(Warehouse& wh, const std::string& table) {
  auto r = wh.query(
      "SELECT count(*), sum(n), count(s), sum(len(l)), sum(d), "
      "bool_and(l[1] IS NULL OR l[1] = CAST(n * 10 AS VARCHAR)) FROM " + table);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(0, 0), "15000");
  EXPECT_EQ(r->cell_text(0, 1), std::to_string(14999LL * 15000 / 2));
  EXPECT_EQ(r->cell_text(0, 2), std::to_string(15000 - (14999 / 7 + 1)));
  int64_t lens = 0, dsum = 0;
  for (int64_t i = 0; i < 15000; ++i) {
    lens += i % 4;
    dsum += i % 10000 - 5000;
  }
  EXPECT_EQ(r->cell_text(0, 3), std::to_string(lens));
  EXPECT_EQ(r->cell_text(0, 4), std::to_string(dsum / 10) + "." + std::to_string(std::abs(dsum % 10)));
  EXPECT_EQ(r->cell_text(0, 5), "true");
}

class DuckDbRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = open_duckdb(dir_.file("wh.duckdb"));
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(*db);
    auto session = db_->connect();
    ASSERT_TRUE(session.ok()) << session.error().to_string();
    wh_ = std::move(*session);
  }
  void TearDown() override {
    wh_.reset();
    db_.reset();
  }

  void expect_every_type_round_trips(bool through_load);
  void expect_chunk_totals(const std::string& table) { expect_chunk_totals_in(*wh_, table); }
  void expect_strings_survive(const std::string& table, bool through_load);

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Warehouse> wh_;
};

TEST_F(DuckDbRoundTrip, EveryLogicalTypeValueByValue) {
  for (bool through_load : {false, true}) {
    SCOPED_TRACE(through_load ? "load()" : "writer()");
    expect_every_type_round_trips(through_load);
  }
}

void DuckDbRoundTrip::expect_every_type_round_trips(bool through_load) {
  sql::ColumnBatch written = all_types_batch();
  ASSERT_EQ(written.num_rows(), static_cast<size_t>(kRows));
  Relation rel{"", "main", through_load ? "all_types_loaded" : "all_types"};
  ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, all_types_schema())).ok());
  std::vector<sql::ColumnBatch> batches;
  batches.push_back(all_types_batch());
  Status appended = write_batches(*wh_, rel, all_types_schema(), std::move(batches), through_load);
  ASSERT_TRUE(appended.ok()) << appended.error().to_string();

  auto result = wh_->query("SELECT * FROM main." + rel.name);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_EQ(result->num_rows(), static_cast<size_t>(kRows));
  ASSERT_EQ(result->schema.size(), written.num_columns());
  for (size_t c = 0; c < written.num_columns(); ++c) {
    EXPECT_EQ(result->schema[c].name, written.name(c));
    EXPECT_EQ(result->schema[c].type, written.column(c).type()) << written.name(c);
  }
  for (size_t r = 0; r < static_cast<size_t>(kRows); ++r) {
    auto [batch, br] = result->locate(r);
    for (size_t c = 0; c < written.num_columns(); ++c) {
      std::string why;
      EXPECT_TRUE(testing::same_value(written.column(c), r, batch->column(c), br, &why))
          << "row " << r << " column " << written.name(c) << ": " << why;
    }
  }
}

TEST_F(DuckDbRoundTrip, PhysicalEncodingsMatchDuckDbsOwnText) {
  Relation rel{"", "", "all_types"};
  ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, all_types_schema())).ok());
  auto writer = wh_->writer(rel, all_types_schema());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->append(all_types_batch()).ok());
  ASSERT_TRUE((*writer)->finish().ok());

  // Columns whose cell_text format is DuckDB's own VARCHAR cast.
  const char* same_format[] = {"i16", "i32", "i64", "d4", "d9", "d18", "d38", "v", "dt", "tm", "ts", "u"};
  for (const char* col : same_format) {
    auto r = wh_->query(std::string("SELECT ") + col + ", CAST(" + col + " AS VARCHAR) FROM all_types");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    for (size_t row = 0; row < r->num_rows(); ++row) {
      EXPECT_EQ(r->is_null(row, 0), r->is_null(row, 1));
      EXPECT_EQ(r->cell_text(row, 0), r->cell_text(row, 1)) << col << " row " << row;
    }
  }
  auto r = wh_->query(
      "SELECT CAST(u AS VARCHAR), CAST(d38 AS VARCHAR), CAST(ts AS VARCHAR), isinf(tstz), CAST(dt AS VARCHAR),"
      " CAST(iv AS VARCHAR), json_extract_string(j, '$.a[2]'), li[1], lli[1][2], CAST(b AS VARCHAR)"
      " FROM all_types");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(3, 0), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(r->cell_text(4, 0), "80000000-0000-0000-7fff-ffffffffffff");
  EXPECT_EQ(r->cell_text(1, 1), "9999999999999999999999999999.9999999999");
  EXPECT_EQ(r->cell_text(0, 1), "-9999999999999999999999999999.9999999999");
  EXPECT_EQ(r->cell_text(3, 1), "42.0000000005");
  EXPECT_EQ(r->cell_text(0, 2), "-infinity");
  EXPECT_EQ(r->cell_text(1, 2), "infinity");
  EXPECT_EQ(r->cell_text(3, 2), "2024-01-31 13:45:00.123456");
  EXPECT_EQ(r->cell_text(0, 3), "true");
  EXPECT_EQ(r->cell_text(3, 4), "2024-01-31");
  EXPECT_EQ(r->cell_text(0, 4), "0001-01-01");
  EXPECT_EQ(r->cell_text(3, 5), "1 year 2 months 3 days 04:05:06");
  EXPECT_EQ(r->cell_text(3, 6), "ü");
  EXPECT_EQ(r->cell_text(0, 7), "-2147483648");
  EXPECT_TRUE(r->is_null(2, 7));
  EXPECT_EQ(r->cell_text(0, 8), "2");  // lli[1] = [1, 2]
  EXPECT_EQ(r->cell_text(0, 9), "false");
}

TEST_F(DuckDbRoundTrip, ManyBatchesAndChunkBoundaries) {
  // 3 batches of 5000 rows: not multiples of DuckDB's vector size, lists crossing chunk borders.
  sql::Schema schema{{"n", LogicalType::int64()}, {"s", LogicalType::varchar()},
                     {"l", LogicalType::list(LogicalType::varchar())}, {"d", LogicalType::decimal(5, 1)}};
  for (bool through_load : {true, false}) {  // the writer's table is read further below
    SCOPED_TRACE(through_load ? "load()" : "writer()");
    Relation rel{"", "", through_load ? "chunks_loaded" : "chunks"};
    ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, schema)).ok());
    std::vector<sql::ColumnBatch> batches;
    int64_t n = 0;
    for (int b = 0; b < 3; ++b) {
      sql::ColumnBatch& batch = batches.emplace_back(schema);
      for (int i = 0; i < 5000; ++i, ++n) {
        batch.column(0).append<int64_t>(n);
        if (n % 7 == 0) batch.column(1).append_null(); else batch.column(1).append_bytes("row " + std::to_string(n));
        for (int k = 0; k < n % 4; ++k) batch.column(2).child().append_bytes(std::to_string(n * 10 + k));
        batch.column(2).append_list();
        batch.column(3).append<int64_t>(n % 10000 - 5000);
      }
    }
    Status written = write_batches(*wh_, rel, schema, std::move(batches), through_load);
    ASSERT_TRUE(written.ok()) << written.error().to_string();
    expect_chunk_totals(rel.name);
  }

  // query() and query_stream() see the same rows in order.
  int64_t next = 0;
  Status s = wh_->query_stream("SELECT n, s, l FROM chunks ORDER BY n", [&](const sql::ColumnBatch& batch) -> Status {
    for (size_t i = 0; i < batch.num_rows(); ++i, ++next) {
      EXPECT_EQ(batch.column(0).get<int64_t>(i), next);
      auto [b, e] = batch.column(2).list_range(i);
      EXPECT_EQ(static_cast<int64_t>(e - b), next % 4);
    }
    return ok_status();
  });
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(next, 15000);
}

TEST_F(DuckDbRoundTrip, StringsAroundTheInlineLimitSurviveTheirBatch) {
  // Writer and load point DuckDB's strings into the batch (≤ 12 bytes are inlined); the batch is
  // destroyed right after append() (or once load() moved on to the next), so every value must
  // have been copied by then.
  for (bool through_load : {false, true}) {
    SCOPED_TRACE(through_load ? "load()" : "writer()");
    expect_strings_survive(through_load ? "inline_limit_loaded" : "inline_limit", through_load);
  }
}

void DuckDbRoundTrip::expect_strings_survive(const std::string& table, bool through_load) {
  sql::Schema schema{{"n", LogicalType::int64()}, {"s", LogicalType::varchar()}, {"b", LogicalType::blob()}};
  Relation rel{"", "", table};
  ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, schema)).ok());
  auto text = [](int64_t n) { return std::string(static_cast<size_t>(n % 30), static_cast<char>('a' + n % 26)); };
  std::vector<sql::ColumnBatch> batches;
  for (int64_t base = 0; base < 6000; base += 3000) {
    sql::ColumnBatch& batch = batches.emplace_back(schema);
    for (int64_t n = base; n < base + 3000; ++n) {
      batch.column(0).append<int64_t>(n);
      batch.column(1).append_bytes(text(n));
      batch.column(2).append_bytes(std::string(static_cast<size_t>(n % 17), '\0'));
    }
  }
  Status written = write_batches(*wh_, rel, schema, std::move(batches), through_load);
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  int64_t next = 0;
  Status s = wh_->query_stream("SELECT n, s, b FROM " + table + " ORDER BY n", [&](const sql::ColumnBatch& batch) -> Status {
    for (size_t i = 0; i < batch.num_rows(); ++i, ++next) {
      EXPECT_EQ(batch.column(1).get_bytes(i), text(next)) << next;
      EXPECT_EQ(batch.column(2).get_bytes(i), std::string(static_cast<size_t>(next % 17), '\0')) << next;
    }
    return ok_status();
  });
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(next, 6000);
  // DuckDB's own comparisons agree (an inlined string's unused bytes must be zero for that).
  auto r = wh_->query("SELECT count(*) FROM " + table +
                      " WHERE s = repeat(chr(CAST(97 + n % 26 AS INTEGER)), CAST(n % 30 AS BIGINT))");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(0, 0), "6000");
}

TEST_F(DuckDbRoundTrip, LoadFillsLeftOutColumnsAndStopsAtTheSourcesError) {
  ASSERT_TRUE(wh_->execute("CREATE TABLE t (n BIGINT, s VARCHAR, tag VARCHAR DEFAULT 'synced')").ok());
  sql::Schema schema{{"n", LogicalType::int64()}, {"s", LogicalType::varchar()}};
  auto batch_of = [&](int64_t first, int64_t rows) {
    sql::ColumnBatch batch(schema);
    for (int64_t n = first; n < first + rows; ++n) {
      batch.column(0).append<int64_t>(n);
      batch.column(1).append_bytes("value number " + std::to_string(n));
    }
    return batch;
  };
  int calls = 0;
  Status loaded = wh_->load({"", "", "t"}, schema, [&]() -> Result<std::optional<sql::ColumnBatch>> {
    if (++calls > 3) return std::optional<sql::ColumnBatch>();
    return std::optional<sql::ColumnBatch>(batch_of((calls - 1) * 3000, 3000));
  });
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  auto r = wh_->query("SELECT count(*), count(DISTINCT n), min(tag), max(tag), max(s) FROM t");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(0, 0), "9000");
  EXPECT_EQ(r->cell_text(0, 1), "9000");
  EXPECT_EQ(r->cell_text(0, 2), "synced");
  EXPECT_EQ(r->cell_text(0, 3), "synced");
  EXPECT_EQ(r->cell_text(0, 4), "value number 999");

  // The source's error comes back as it was (code and message); the transaction is rolled back.
  ASSERT_TRUE(wh_->begin().ok());
  calls = 0;
  Status stopped = wh_->load({"", "", "t"}, schema, [&]() -> Result<std::optional<sql::ColumnBatch>> {
    if (++calls == 1) return std::optional<sql::ColumnBatch>(batch_of(100000, 5000));
    return Error(ErrorCode::kCancelled, "read stopped");
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(stopped.error().message(), "read stopped");
  ASSERT_TRUE(wh_->rollback().ok());
  // A batch that does not fit the schema is refused.
  Status wrong = wh_->load({"", "", "t"}, schema, [&, sent = false]() mutable -> Result<std::optional<sql::ColumnBatch>> {
    if (std::exchange(sent, true)) return std::optional<sql::ColumnBatch>();
    sql::ColumnBatch batch({{"n", LogicalType::int32()}, {"s", LogicalType::varchar()}});
    batch.column(0).append<int32_t>(1);
    batch.column(1).append_bytes("x");
    return std::optional<sql::ColumnBatch>(std::move(batch));
  });
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kInternal);
  auto count = wh_->query("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->cell_text(0, 0), "9000");
  // strata_load() is not for SQL users: without a load in progress it is a clean error.
  auto direct = wh_->query("SELECT * FROM strata_load(1)");
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.error().message().find("no bulk load"), std::string::npos) << direct.error().message();
}

TEST_F(DuckDbRoundTrip, SessionsLoadAtTheSameTime) {
  ASSERT_TRUE(wh_->execute("CREATE TABLE a (n BIGINT, s VARCHAR); CREATE TABLE b (n BIGINT, s VARCHAR)").ok());
  sql::Schema schema{{"n", LogicalType::int64()}, {"s", LogicalType::varchar()}};
  auto load_into = [&](const std::string& table, std::string* error) {
    auto session = db_->connect();
    if (!session.ok()) {
      *error = session.error().to_string();
      return;
    }
    int64_t sent = 0;
    Status st = (*session)->load({"", "", table}, schema, [&]() -> Result<std::optional<sql::ColumnBatch>> {
      if (sent == 50000) return std::optional<sql::ColumnBatch>();
      sql::ColumnBatch batch(schema);
      for (int i = 0; i < 1000; ++i, ++sent) {
        batch.column(0).append<int64_t>(sent);
        batch.column(1).append_bytes(table + " row " + std::to_string(sent));
      }
      return std::optional<sql::ColumnBatch>(std::move(batch));
    });
    if (!st.ok()) *error = st.error().to_string();
  };
  std::string error_a, error_b;
  std::thread ta(load_into, "a", &error_a), tb(load_into, "b", &error_b);
  ta.join();
  tb.join();
  EXPECT_EQ(error_a, "");
  EXPECT_EQ(error_b, "");
  auto r = wh_->query(
      "SELECT (SELECT count(*) FROM a WHERE s = 'a row ' || n), (SELECT count(*) FROM b WHERE s = 'b row ' || n)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(0, 0), "50000");
  EXPECT_EQ(r->cell_text(0, 1), "50000");
}

}  // namespace
}  // namespace strata::warehouse
