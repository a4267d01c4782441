// The PostgreSQL warehouse adapter against a real server: every LogicalType written with binary
// COPY and read back through the query path value by value, PostgreSQL's own text forms of what
// was written, query shapes (repeated names, text-read types, statements COPY cannot wrap),
// streaming, transactions, introspection with hostile names, interrupts and connection errors.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/pg_cluster.h"
#include "support/temp_dir.h"
#include "warehouse/all_types_batch.h"
#include "warehouse/batch_compare.h"
#include "warehouse/profile.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {
namespace {

using namespace testing_types;

// Every type of all_types_schema() except the nested list, whose rows are ragged ([[1,2],[]]):
// PostgreSQL's multidimensional arrays are rectangular (see RaggedNestedListsAreRefused…).
constexpr size_t kColumnsWithoutNested = 21;

sql::Schema flat_schema() {
  sql::Schema schema = all_types_schema();
  schema.resize(kColumnsWithoutNested);
  return schema;
}

sql::ColumnBatch flat_batch() {
  sql::ColumnBatch all = all_types_batch();
  sql::ColumnBatch out;
  for (size_t c = 0; c < kColumnsWithoutNested; ++c) out.add_column(all.name(c), all.column(c).type());
  for (size_t c = 0; c < kColumnsWithoutNested; ++c) out.column(c) = all.column(c);
  return out;
}

class PostgresWarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = &strata::testing::shared_pg_cluster();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    db_name_ = "wh_" + std::string(info->name()).substr(0, 50);
    for (char& c : db_name_) c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    pg_->create_database(db_name_);
    auto db = open_postgres(pg_->conninfo(db_name_));
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(*db);
    auto session = db_->connect();
    ASSERT_TRUE(session.ok()) << session.error().to_string();
    wh_ = std::move(*session);
    ASSERT_TRUE(wh_->execute("SET TimeZone = 'UTC'").ok());
  }
  void TearDown() override {
    wh_.reset();
    db_.reset();
  }

  std::string text(const std::string& sql, size_t row = 0, size_t col = 0) {
    auto r = wh_->query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << (r.ok() ? "" : r.error().to_string());
    if (!r.ok() || r->num_rows() <= row) return "<no row>";
    return r->is_null(row, col) ? "<NULL>" : r->cell_text(row, col);
  }

  Status write(const Relation& rel, const sql::Schema& schema, const sql::ColumnBatch& batch, bool through_load) {
    if (through_load) {
      bool given = false;
      return wh_->load(rel, schema, [&]() -> Result<std::optional<sql::ColumnBatch>> {
        if (given) return std::optional<sql::ColumnBatch>();
        given = true;
        return std::optional<sql::ColumnBatch>(batch);
      });
    }
    STRATA_ASSIGN(auto writer, wh_->writer(rel, schema));
    STRATA_TRY(writer->append(batch));
    return writer->finish();
  }

  strata::testing::PgCluster* pg_ = nullptr;
  std::string db_name_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Warehouse> wh_;
};

TEST_F(PostgresWarehouseTest, EveryLogicalTypeRoundTripsValueByValue) {
  for (bool through_load : {false, true}) {
    SCOPED_TRACE(through_load ? "load()" : "writer()");
    Relation rel{"", "public", through_load ? "all_loaded" : "all_written"};
    ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, flat_schema())).ok());
    const sql::ColumnBatch written = flat_batch();
    Status st = write(rel, flat_schema(), written, through_load);
    ASSERT_TRUE(st.ok()) << st.error().to_string();

    auto result = wh_->query("SELECT * FROM public." + rel.name + " ORDER BY (i16 IS NULL), i16");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    ASSERT_EQ(result->num_rows(), static_cast<size_t>(kRows));
    ASSERT_EQ(result->schema.size(), kColumnsWithoutNested);
    // Row order by i16: min (0), ordinary -1 (4), 12 (3), max (1), NULL (2).
    const size_t order[] = {0, 4, 3, 1, 2};
    for (size_t c = 0; c < kColumnsWithoutNested; ++c) {
      EXPECT_EQ(result->schema[c].name, written.name(c));
      EXPECT_EQ(result->schema[c].type, written.column(c).type()) << written.name(c);
    }
    for (size_t r = 0; r < static_cast<size_t>(kRows); ++r) {
      auto [batch, br] = result->locate(r);
      for (size_t c = 0; c < kColumnsWithoutNested; ++c) {
        if (written.name(c) == "j") continue;  // JSONB normalises spacing: checked below
        std::string why;
        EXPECT_TRUE(strata::testing::same_value(written.column(c), order[r], batch->column(c), br, &why))
            << "row " << order[r] << " column " << written.name(c) << ": " << why;
      }
    }
    EXPECT_EQ(text("SELECT count(*) FROM public." + rel.name +
                   " WHERE j = ANY (ARRAY['{}', '[1,2,3]', '{\"b\": null, \"a\": [1, 2, \"ü\"]}', '\"text\"']::jsonb[])"),
              "4");
  }
}

TEST_F(PostgresWarehouseTest, WrittenValuesReadAsPostgresqlsOwnText) {
  Relation rel{"", "", "all_types"};
  ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, flat_schema())).ok());
  ASSERT_TRUE(write(rel, flat_schema(), flat_batch(), false).ok());
  // Columns whose cell_text format is PostgreSQL's own text output.
  for (const char* col : {"i16", "i32", "i64", "d4", "d9", "d18", "d38", "v", "dt", "tm", "ts", "tstz", "u"}) {
    auto r = wh_->query(std::string("SELECT ") + col + ", " + col + "::text FROM all_types");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    for (size_t row = 0; row < r->num_rows(); ++row) {
      EXPECT_EQ(r->is_null(row, 0), r->is_null(row, 1));
      EXPECT_EQ(r->cell_text(row, 0), r->cell_text(row, 1)) << col << " row " << row;
    }
  }
  EXPECT_EQ(text("SELECT d38::text FROM all_types WHERE i16 = 32767"), "9999999999999999999999999999.9999999999");
  EXPECT_EQ(text("SELECT d38::text FROM all_types WHERE i16 = 12"), "42.0000000005");
  EXPECT_EQ(text("SELECT ts::text FROM all_types WHERE i16 = -32768"), "-infinity");
  EXPECT_EQ(text("SELECT dt::text FROM all_types WHERE i16 = -32768"), "0001-01-01");
  EXPECT_EQ(text("SELECT iv::text FROM all_types WHERE i16 = 12"), "1 year 2 mons 3 days 04:05:06");
  EXPECT_EQ(text("SELECT u::text FROM all_types WHERE i16 = -1"), "80000000-0000-0000-7fff-ffffffffffff");
  EXPECT_EQ(text("SELECT j ->> 'b' IS NULL AND j -> 'a' ->> 2 = 'ü' FROM all_types WHERE i16 = 12"), "true");
  EXPECT_EQ(text("SELECT array_to_string(li, ',', 'null') FROM all_types WHERE i16 = 32767"), "1,null,3");
  EXPECT_EQ(text("SELECT cardinality(li) FROM all_types WHERE i16 = -1"), "0");
  EXPECT_EQ(text("SELECT octet_length(bl) FROM all_types WHERE i16 = 32767"), std::to_string(1 << 20));
  EXPECT_EQ(text("SELECT f32::text FROM all_types WHERE i16 = -1"), "-Infinity");
}

TEST_F(PostgresWarehouseTest, RectangularNestedListsRoundTripAndRaggedOnesAreRefusedWithNothingWritten) {
  sql::Schema schema{{"id", sql::LogicalType::int32()},
                     {"m", sql::LogicalType::list(sql::LogicalType::list(sql::LogicalType::int64()))}};
  ASSERT_TRUE(wh_->execute("CREATE TABLE grid (id INTEGER, m BIGINT[][])").ok());
  auto make = [&](bool ragged) {
    sql::ColumnBatch batch(schema);
    batch.column(0).append<int32_t>(1);
    sql::Column& inner = batch.column(1).child();
    for (int64_t row = 0; row < 2; ++row) {
      for (int64_t k = 0; k < (ragged && row == 1 ? 1 : 3); ++k) inner.child().append<int64_t>(row * 10 + k);
      inner.append_list();
    }
    batch.column(1).append_list();
    batch.column(0).append<int32_t>(2);
    batch.column(1).append_list();  // []
    return batch;
  };
  ASSERT_TRUE(write({"", "", "grid"}, schema, make(false), false).ok());
  EXPECT_EQ(text("SELECT m::text FROM grid WHERE id = 1"), "{{0,1,2},{10,11,12}}");
  EXPECT_EQ(text("SELECT m FROM grid WHERE id = 1"), "[[0, 1, 2], [10, 11, 12]]");
  EXPECT_EQ(text("SELECT m FROM grid WHERE id = 2"), "[]");

  Status st = write({"", "", "grid"}, schema, make(true), false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("column m, row 1"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().message().find("different lengths"), std::string::npos) << st.error().message();
  EXPECT_EQ(text("SELECT count(*) FROM grid"), "2");
}

TEST_F(PostgresWarehouseTest, QueriesOfEveryShape) {
  // Repeated and unnamed columns, and types read as text (inet, ranges), through COPY.
  auto r = wh_->query("SELECT 1 AS a, 2 AS a, 1 + 1, '10.0.0.1/32'::inet AS ip, int4range(1, 3) AS r;  ");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->schema.size(), 5u);
  EXPECT_EQ(r->schema[1].name, "a");
  EXPECT_EQ(r->schema[2].name, "?column?");
  EXPECT_EQ(r->cell_text(0, 1), "2");
  EXPECT_EQ(r->schema[3].type, sql::LogicalType::varchar());
  EXPECT_EQ(r->cell_text(0, 3), "10.0.0.1");
  EXPECT_EQ(r->cell_text(0, 4), "[1,3)");
  // A trailing line comment, a leading block comment, WITH and VALUES.
  EXPECT_EQ(text("/* hello */ WITH x AS (SELECT 5 AS n) SELECT n FROM x -- done"), "5");
  EXPECT_EQ(text("VALUES (1, 'a'), (2, 'b')", 1, 1), "b");
  // Several statements: the ones before the last run first, the last one's rows come back.
  EXPECT_EQ(text("SET application_name = 'a;b'; SELECT current_setting('application_name');"), "a;b");
  // Statements COPY cannot wrap run as one prepared statement.
  EXPECT_EQ(text("SHOW TimeZone"), "UTC");
  ASSERT_TRUE(wh_->execute("CREATE TABLE t (n INTEGER, s TEXT)").ok());
  EXPECT_EQ(text("INSERT INTO t VALUES (7, 'x') RETURNING n * 2"), "14");
  // Statements without rows, and errors with the server's message.
  auto none = wh_->query("UPDATE t SET s = 'y'");
  ASSERT_TRUE(none.ok()) << none.error().to_string();
  EXPECT_EQ(none->schema.size(), 0u);
  EXPECT_EQ(text("SELECT s FROM t"), "y");
  auto bad = wh_->query("SELECT * FROM no_such_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("no_such_table"), std::string::npos) << bad.error().message();
  // Sums of integers are numeric without a scale: exact text.
  EXPECT_EQ(text("SELECT sum(x) FROM generate_series(1, 100000) x"), "5000050000");
}

TEST_F(PostgresWarehouseTest, StreamsLargeResultsInOrderAndWritesManyBatches) {
  sql::Schema schema{{"n", sql::LogicalType::int64()}, {"s", sql::LogicalType::varchar()},
                     {"l", sql::LogicalType::list(sql::LogicalType::varchar())}, {"d", sql::LogicalType::decimal(5, 1)}};
  ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), {"", "", "chunks"}, schema)).ok());
  auto writer = wh_->writer({"", "", "chunks"}, schema);
  ASSERT_TRUE(writer.ok()) << writer.error().to_string();
  int64_t n = 0;
  for (int b = 0; b < 3; ++b) {
    sql::ColumnBatch batch(schema);
    for (int i = 0; i < 5000; ++i, ++n) {
      batch.column(0).append<int64_t>(n);
      if (n % 7 == 0) batch.column(1).append_null(); else batch.column(1).append_bytes("row " + std::to_string(n));
      for (int k = 0; k < n % 4; ++k) batch.column(2).child().append_bytes(std::to_string(n * 10 + k));
      batch.column(2).append_list();
      batch.column(3).append<int64_t>(n % 10000 - 5000);
    }
    ASSERT_TRUE((*writer)->append(batch).ok());
  }
  ASSERT_TRUE((*writer)->finish().ok());
  EXPECT_EQ(text("SELECT count(*), sum(n), count(s), sum(cardinality(l)) FROM chunks"), "15000");
  EXPECT_EQ(text("SELECT sum(n) FROM chunks"), std::to_string(14999LL * 15000 / 2));
  EXPECT_EQ(text("SELECT count(s) FROM chunks"), std::to_string(15000 - (14999 / 7 + 1)));
  int64_t next = 0;
  size_t batches = 0;
  Status s = wh_->query_stream("SELECT n, s, l FROM chunks ORDER BY n", [&](const sql::ColumnBatch& batch) -> Status {
    ++batches;
    for (size_t i = 0; i < batch.num_rows(); ++i, ++next) {
      EXPECT_EQ(batch.column(0).get<int64_t>(i), next);
      auto [b, e] = batch.column(2).list_range(i);
      EXPECT_EQ(static_cast<int64_t>(e - b), next % 4);
    }
    return ok_status();
  });
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(next, 15000);
  EXPECT_GT(batches, 1u);  // streamed, not one batch
  // A callback's error stops the stream, and the session stays usable.
  Status stopped = wh_->query_stream("SELECT n FROM chunks", [](const sql::ColumnBatch&) -> Status {
    return Error(ErrorCode::kFailed, "enough");
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().message(), "enough");
  EXPECT_EQ(text("SELECT 1"), "1");
}

TEST_F(PostgresWarehouseTest, TransactionsAndWritersByNameWithDefaults) {
  ASSERT_TRUE(wh_->execute("CREATE TABLE t (n BIGINT, s TEXT, tag TEXT DEFAULT 'synced', e JSONB)").ok());
  sql::Schema schema{{"s", sql::LogicalType::varchar()}, {"n", sql::LogicalType::int64()}};
  sql::ColumnBatch batch(schema);
  batch.column(0).append_bytes("a");
  batch.column(1).append<int64_t>(1);
  ASSERT_TRUE(wh_->begin().ok());
  ASSERT_TRUE(write({"", "", "t"}, schema, batch, false).ok());
  EXPECT_EQ(text("SELECT count(*) FROM t"), "1");
  ASSERT_TRUE(wh_->rollback().ok());
  EXPECT_EQ(text("SELECT count(*) FROM t"), "0");
  ASSERT_TRUE(wh_->begin().ok());
  ASSERT_TRUE(write({"", "", "t"}, schema, batch, true).ok());
  ASSERT_TRUE(wh_->commit().ok());
  EXPECT_EQ(text("SELECT n || s || tag FROM t"), "1asynced");

  // A type that cannot be written into the column, and a missing table: clear errors.
  sql::Schema wrong{{"n", sql::LogicalType::varchar()}};
  auto w = wh_->writer({"", "", "t"}, wrong);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message().find("column n of \"t\" is bigint; a VARCHAR cannot be written into it"),
            std::string::npos)
      << w.error().message();
  auto missing = wh_->writer({"", "", "nope"}, schema);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  // Widening: an INTEGER into BIGINT, a VARCHAR into JSONB, a SMALLINT into NUMERIC.
  ASSERT_TRUE(wh_->execute("CREATE TABLE w (n BIGINT, e JSONB, x NUMERIC)").ok());
  sql::Schema narrow{{"n", sql::LogicalType::int32()}, {"e", sql::LogicalType::varchar()},
                     {"x", sql::LogicalType::int16()}};
  sql::ColumnBatch nb(narrow);
  nb.column(0).append<int32_t>(-5);
  nb.column(1).append_bytes("{\"k\": 1}");
  nb.column(2).append<int16_t>(-32768);
  ASSERT_TRUE(write({"", "", "w"}, narrow, nb, false).ok());
  EXPECT_EQ(text("SELECT n::text || ' ' || (e ->> 'k') || ' ' || x::text FROM w"), "-5 1 -32768");
}

TEST_F(PostgresWarehouseTest, IntrospectionWithHostileNames) {
  const std::string schema = "we\"ird; sch ëma";
  const auto& d = wh_->dialect();
  const std::string q_schema = d.quote_identifier(schema);
  ASSERT_TRUE(wh_->execute("CREATE SCHEMA " + q_schema + "; CREATE TABLE " + q_schema +
                           ".\"tab'le\" (\"a \"\"b\" NUMERIC(12,3) NOT NULL, \"ü\" TEXT[], r INT4RANGE, j JSONB); "
                           "CREATE VIEW " + q_schema + ".v AS SELECT 1 AS one; CREATE MATERIALIZED VIEW " + q_schema +
                           ".mv AS SELECT 2 AS two")
                  .ok());
  auto rels = wh_->relations(schema);
  ASSERT_TRUE(rels.ok()) << rels.error().to_string();
  ASSERT_EQ(rels->size(), 3u);
  EXPECT_EQ((*rels)[0].relation.name, "mv");
  EXPECT_EQ((*rels)[0].kind, RelationKind::kView);
  EXPECT_EQ((*rels)[1].relation.name, "tab'le");
  EXPECT_EQ((*rels)[1].kind, RelationKind::kTable);
  EXPECT_EQ((*rels)[1].relation.schema, schema);
  EXPECT_EQ((*rels)[2].kind, RelationKind::kView);

  auto cols = wh_->columns({"", schema, "tab'le"});
  ASSERT_TRUE(cols.ok()) << cols.error().to_string();
  ASSERT_EQ(cols->size(), 4u);
  EXPECT_EQ((*cols)[0].name, "a \"b");
  EXPECT_EQ((*cols)[0].type, sql::LogicalType::decimal(12, 3));
  EXPECT_EQ((*cols)[0].native_type, "numeric(12,3)");
  EXPECT_FALSE((*cols)[0].nullable);
  EXPECT_EQ((*cols)[1].type, sql::LogicalType::list(sql::LogicalType::varchar()));
  EXPECT_EQ((*cols)[2].type, sql::LogicalType::varchar());
  EXPECT_EQ((*cols)[3].type, sql::LogicalType::json());
  auto none = wh_->columns({"", schema, "missing"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(*wh_->table_exists({"", schema, "tab'le"}));
  EXPECT_FALSE(*wh_->table_exists({"", schema, "v"}));
  EXPECT_FALSE(*wh_->table_exists({"", schema, "missing"}));
  EXPECT_FALSE(*wh_->table_exists({"", "no such schema", "t"}));
}

TEST_F(PostgresWarehouseTest, InterruptStopsARunningQuery) {
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    wh_->interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = wh_->query("SELECT pg_sleep(30)");
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(text("SELECT 2"), "2");
}

TEST_F(PostgresWarehouseTest, ProfilesOpenPostgresTargetsAndUnreachableServersFailClearly) {
  strata::testing::TempDir dir;
  {
    std::ofstream f(dir.file("profiles.yml"));
    f << "p:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: 127.0.0.1\n      port: " << pg_->port()
      << "\n      user: " << pg_->password_user() << "\n      password: \"{{ env_var('PGW_SECRET') }}\"\n      dbname: "
      << db_name_ << "\n      schema: public\n    gone:\n      type: postgres\n      host: 127.0.0.1\n      port: 1\n"
      << "      user: u\n      password: \"{{ env_var('PGW_SECRET') }}\"\n      dbname: x\n      schema: s\n";
  }
  ProfileOptions options;
  options.profiles_dir = dir.path();
  options.profile_name = "p";
  options.env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "PGW_SECRET") return pg_->password();
    return std::nullopt;
  };
  auto target = load_target(options);
  ASSERT_TRUE(target.ok()) << target.error().to_string();
  auto db = open_target(*target);
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto session = (*db)->connect();
  ASSERT_TRUE(session.ok());
  auto who = (*session)->query("SELECT current_user");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->cell_text(0, 0), pg_->password_user());

  options.target = "gone";
  auto gone = load_target(options);
  ASSERT_TRUE(gone.ok()) << gone.error().to_string();
  auto refused = open_target(*gone);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kConnection);
  EXPECT_NE(refused.error().to_string().find("profiles.yml"), std::string::npos) << refused.error().to_string();
  EXPECT_EQ(refused.error().to_string().find(pg_->password()), std::string::npos);
}

}  // namespace
}  // namespace strata::warehouse
