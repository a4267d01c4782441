// DuckDB sessions against a real file: bulk write of 5 million rows, hostile identifiers,
// transactions, interrupt from another thread, introspection, types Strata cannot hold.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "support/temp_dir.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {
namespace {

using sql::LogicalType;

class DuckDbSession : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = open_duckdb(dir_.file("session.duckdb"));
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
  std::string scalar(const std::string& sql) {
    auto r = wh_->query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << (r.ok() ? "" : r.error().to_string());
    if (!r.ok() || r->num_rows() == 0) return "<none>";
    return r->cell_text(0, 0);
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Warehouse> wh_;
};

TEST_F(DuckDbSession, BulkWriteOfFiveMillionRows) {
  constexpr int64_t kTotal = 5'000'000;
  sql::Schema schema{{"id", LogicalType::int64()}, {"k", LogicalType::int32()}, {"x", LogicalType::float64()},
                     {"s", LogicalType::varchar()}};
  Relation rel{"", "main", "big"};
  ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, schema)).ok());
  auto writer = wh_->writer(rel, schema);
  ASSERT_TRUE(writer.ok()) << writer.error().to_string();
  sql::ColumnBatch batch(schema);
  int64_t sum_k = 0, sum_len = 0, nulls = 0;
  double sum_x = 0;
  for (int64_t id = 0; id < kTotal; ++id) {
    batch.column(0).append<int64_t>(id);
    int32_t k = static_cast<int32_t>(id % 1000) - 500;
    batch.column(1).append<int32_t>(k);
    sum_k += k;
    double x = static_cast<double>(id % 97) * 0.5;
    batch.column(2).append<double>(x);
    sum_x += x;
    if (id % 11 == 0) {
      batch.column(3).append_null();
      ++nulls;
    } else {
      std::string s = "value-" + std::to_string(id);
      sum_len += static_cast<int64_t>(s.size());
      batch.column(3).append_bytes(s);
    }
    if (batch.num_rows() == sql::kBatchRows) {
      ASSERT_TRUE((*writer)->append(batch).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE((*writer)->append(batch).ok());
  Status finished = (*writer)->finish();
  ASSERT_TRUE(finished.ok()) << finished.error().to_string();

  auto r = wh_->query("SELECT count(*), sum(id), sum(k), sum(x), sum(length(s)), count(*) - count(s) FROM big");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(0, 0), std::to_string(kTotal));
  EXPECT_EQ(r->cell_text(0, 1), std::to_string((kTotal - 1) * kTotal / 2));
  EXPECT_EQ(r->cell_text(0, 2), std::to_string(sum_k));
  EXPECT_EQ(std::stod(r->cell_text(0, 3)), sum_x);  // multiples of 0.5: exact in any order
  EXPECT_EQ(r->cell_text(0, 4), std::to_string(sum_len));
  EXPECT_EQ(r->cell_text(0, 5), std::to_string(nulls));
}

TEST_F(DuckDbSession, HostileIdentifiersAreQuotedEverywhere) {
  const sql::Dialect& d = wh_->dialect();
  ASSERT_TRUE(wh_->execute("CREATE TABLE x (a INTEGER); INSERT INTO x VALUES (7)").ok());
  const std::string schema_name = "sch \"ëma\"; x";
  Relation rel{"", schema_name, "we\"ird; drop table x; --"};
  sql::Schema schema{{"col \"1\"", LogicalType::int32()},
                     {"spaced name", LogicalType::varchar()},
                     {"ünïcödé ✓", LogicalType::float64()},
                     {"semi;colon'--", LogicalType::list(LogicalType::int16())}};
  Status created = wh_->execute(create_schema_sql(d, "", schema_name) + ";\n" + create_table_sql(d, rel, schema));
  ASSERT_TRUE(created.ok()) << created.error().to_string();

  auto writer = wh_->writer(rel, schema);
  ASSERT_TRUE(writer.ok()) << writer.error().to_string();
  sql::ColumnBatch batch(schema);
  for (int i = 0; i < 3; ++i) {
    batch.column(0).append<int32_t>(i);
    batch.column(1).append_bytes("'); drop table x; -- " + std::to_string(i));
    batch.column(2).append<double>(i * 1.25);
    batch.column(3).child().append<int16_t>(static_cast<int16_t>(i));
    batch.column(3).append_list();
  }
  ASSERT_TRUE((*writer)->append(batch).ok());
  ASSERT_TRUE((*writer)->finish().ok());

  auto r = wh_->query("SELECT * FROM " + qualified_name(d, rel) + " ORDER BY 1");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->num_rows(), 3u);
  ASSERT_EQ(r->schema.size(), 4u);
  for (size_t c = 0; c < schema.size(); ++c) EXPECT_EQ(r->schema[c].name, schema[c].name);
  EXPECT_EQ(r->cell_text(2, 1), "'); drop table x; -- 2");
  EXPECT_EQ(r->cell_text(1, 2), "1.25");
  EXPECT_EQ(r->cell_text(2, 3), "[2]");
  EXPECT_EQ(scalar("SELECT a FROM x"), "7");  // nothing was injected

  auto rels = wh_->relations(schema_name);
  ASSERT_TRUE(rels.ok()) << rels.error().to_string();
  ASSERT_EQ(rels->size(), 1u);
  EXPECT_EQ((*rels)[0].relation.name, rel.name);
  EXPECT_EQ((*rels)[0].relation.schema, schema_name);
  EXPECT_EQ((*rels)[0].kind, RelationKind::kTable);

  auto cols = wh_->columns(rel);
  ASSERT_TRUE(cols.ok()) << cols.error().to_string();
  ASSERT_EQ(cols->size(), 4u);
  for (size_t c = 0; c < schema.size(); ++c) {
    EXPECT_EQ((*cols)[c].name, schema[c].name);
    EXPECT_EQ((*cols)[c].type, schema[c].type);
  }
  EXPECT_EQ((*cols)[3].native_type, "SMALLINT[]");
}

TEST_F(DuckDbSession, RollbackDiscardsAppendedRowsCommitKeepsThem) {
  sql::Schema schema{{"n", LogicalType::int32()}};
  Relation rel{"", "", "tx"};
  ASSERT_TRUE(wh_->execute(create_table_sql(wh_->dialect(), rel, schema)).ok());
  auto write_rows = [&](int count) {
    auto writer = wh_->writer(rel, schema);
    ASSERT_TRUE(writer.ok());
    sql::ColumnBatch batch(schema);
    for (int i = 0; i < count; ++i) batch.column(0).append<int32_t>(i);
    ASSERT_TRUE((*writer)->append(batch).ok());
    ASSERT_TRUE((*writer)->finish().ok());
  };
  ASSERT_TRUE(wh_->begin().ok());
  write_rows(3000);
  EXPECT_EQ(scalar("SELECT count(*) FROM tx"), "3000");
  ASSERT_TRUE(wh_->rollback().ok());
  EXPECT_EQ(scalar("SELECT count(*) FROM tx"), "0");

  ASSERT_TRUE(wh_->begin().ok());
  write_rows(10);
  ASSERT_TRUE(wh_->commit().ok());
  // Another session sees committed rows only.
  auto other = db_->connect();
  ASSERT_TRUE(other.ok());
  auto r = (*other)->query("SELECT count(*) FROM tx");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cell_text(0, 0), "10");
  EXPECT_FALSE(wh_->commit().ok());  // no transaction open
}

TEST_F(DuckDbSession, InterruptStopsALongQueryFromAnotherThread) {
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    while (!done.load()) {  // repeat in case the first call lands before the query starts
      wh_->interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto started = std::chrono::steady_clock::now();
  auto r = wh_->query("SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b");
  done = true;
  stopper.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled) << r.error().to_string();
  EXPECT_LT(seconds, 20.0);
  EXPECT_EQ(scalar("SELECT 41 + 1"), "42");  // the session still works
}

TEST_F(DuckDbSession, IntrospectionListsTablesViewsAndColumns) {
  ASSERT_TRUE(wh_->execute("CREATE SCHEMA s; CREATE TABLE s.t (id INTEGER NOT NULL, amount DECIMAL(12,2), "
                           "tags VARCHAR[], at_ts TIMESTAMPTZ, doc JSON, tiny TINYINT, big HUGEINT);"
                           "CREATE VIEW s.v AS SELECT id FROM s.t")
                  .ok());
  auto rels = wh_->relations("s");
  ASSERT_TRUE(rels.ok());
  ASSERT_EQ(rels->size(), 2u);
  EXPECT_EQ((*rels)[0].relation.name, "t");
  EXPECT_EQ((*rels)[0].kind, RelationKind::kTable);
  EXPECT_EQ((*rels)[1].relation.name, "v");
  EXPECT_EQ((*rels)[1].kind, RelationKind::kView);
  EXPECT_EQ((*rels)[1].relation.database, "session");

  auto cols = wh_->columns({"", "s", "t"});
  ASSERT_TRUE(cols.ok()) << cols.error().to_string();
  ASSERT_EQ(cols->size(), 7u);
  EXPECT_FALSE((*cols)[0].nullable);
  EXPECT_TRUE((*cols)[1].nullable);
  EXPECT_EQ((*cols)[1].type, LogicalType::decimal(12, 2));
  EXPECT_EQ((*cols)[1].native_type, "DECIMAL(12,2)");
  EXPECT_EQ((*cols)[2].type, LogicalType::list(LogicalType::varchar()));
  EXPECT_EQ((*cols)[3].type, LogicalType::timestamptz());
  EXPECT_EQ((*cols)[4].type, LogicalType::json());
  EXPECT_EQ((*cols)[5].type, LogicalType::int16());
  EXPECT_EQ((*cols)[6].type, LogicalType::decimal(38, 0));

  auto missing = wh_->columns({"", "s", "nope"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  auto view_cols = wh_->columns({"", "s", "v"});
  ASSERT_TRUE(view_cols.ok());
  EXPECT_EQ(view_cols->size(), 1u);
}

// table_exists: a table, not a view, nor a missing name or schema; inside a transaction it sees
// the transaction's own tables.
TEST_F(DuckDbSession, TableExistsTellsTablesFromViewsAndMissingNames) {
  ASSERT_TRUE(wh_->execute("CREATE SCHEMA s; CREATE TABLE s.t (a INTEGER); CREATE VIEW s.v AS SELECT 1 AS x").ok());
  auto exists = [&](const Relation& r) {
    auto found = wh_->table_exists(r);
    EXPECT_TRUE(found.ok()) << found.error().to_string();
    return found.ok() && *found;
  };
  EXPECT_TRUE(exists({"", "s", "t"}));
  EXPECT_TRUE(exists({"session", "s", "t"}));
  EXPECT_FALSE(exists({"", "s", "v"}));
  EXPECT_FALSE(exists({"", "s", "nope"}));
  EXPECT_FALSE(exists({"", "no_such_schema", "t"}));
  EXPECT_FALSE(exists({"", "s", "T "}));
  ASSERT_TRUE(wh_->begin().ok());
  ASSERT_TRUE(wh_->execute("CREATE TABLE s.\"new one\" (a INTEGER)").ok());
  EXPECT_TRUE(exists({"", "s", "new one"}));
  ASSERT_TRUE(wh_->rollback().ok());
  EXPECT_FALSE(exists({"", "s", "new one"}));
}

TEST_F(DuckDbSession, TypesWithoutAStrataEquivalentAreReadAsText) {
  auto r = wh_->query(
      "SELECT {'a': 1, 'b': 'x'} AS st, MAP {'k': 2} AS m, 7::UTINYINT AS small, 18446744073709551615::UBIGINT AS big,"
      " 'b'::ENUM('a', 'b') AS e, [1, 2, 3]::INTEGER[3] AS arr, TIMESTAMP_MS '2024-01-02 03:04:05.678' AS ms;");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->schema[0].type, LogicalType::varchar());
  EXPECT_EQ(r->schema[0].name, "st");
  EXPECT_EQ(r->cell_text(0, 0), "{'a': 1, 'b': x}");
  EXPECT_EQ(r->cell_text(0, 1), "{k=2}");
  EXPECT_EQ(r->cell_text(0, 2), "7");
  EXPECT_EQ(r->schema[3].type, LogicalType::decimal(20, 0));
  EXPECT_EQ(r->cell_text(0, 3), "18446744073709551615");
  EXPECT_EQ(r->cell_text(0, 4), "b");
  EXPECT_EQ(r->schema[5].type, LogicalType::list(LogicalType::int32()));
  EXPECT_EQ(r->cell_text(0, 5), "[1, 2, 3]");
  EXPECT_EQ(r->cell_text(0, 6), "2024-01-02 03:04:05.678");

  auto multi = wh_->query("CREATE TABLE st AS SELECT {'a': 1} AS s; SELECT s FROM st");
  ASSERT_FALSE(multi.ok());
  EXPECT_NE(multi.error().hint().find("CAST"), std::string::npos);
}

TEST_F(DuckDbSession, ErrorsAreReportedNotThrown) {
  auto bad = wh_->query("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kFailed);
  EXPECT_NE(bad.error().message().find("syntax error"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(wh_->execute("SELECT * FROM missing_table").ok());
  auto writer = wh_->writer({"", "", "missing_table"}, {{"a", LogicalType::int32()}});
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message().find("missing_table"), std::string::npos);

  ASSERT_TRUE(wh_->execute("CREATE TABLE two (a INTEGER, b INTEGER)").ok());
  auto narrow = wh_->writer({"", "", "two"}, {{"a", LogicalType::int32()}});
  ASSERT_FALSE(narrow.ok());
  EXPECT_NE(narrow.error().message().find("2 columns"), std::string::npos) << narrow.error().message();

  auto ok_writer = wh_->writer({"", "", "two"}, {{"a", LogicalType::int32()}, {"b", LogicalType::int32()}});
  ASSERT_TRUE(ok_writer.ok());
  sql::ColumnBatch wrong({{"a", LogicalType::int32()}, {"b", LogicalType::varchar()}});
  EXPECT_FALSE((*ok_writer)->append(wrong).ok());
  // A stream stopped by its consumer returns the consumer's error.
  Status stopped = wh_->query_stream("SELECT * FROM range(100000)", [](const sql::ColumnBatch&) -> Status {
    return Error(ErrorCode::kFailed, "enough");
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().message(), "enough");
  EXPECT_EQ(scalar("SELECT 1"), "1");
}

TEST(DuckDbOpen, BadPathAndBadSettingAreClearErrors) {
  // A missing folder is created; one that cannot be (a file is in the way) is a clear error.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("strata_open_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(open_duckdb((dir / "new" / "w.duckdb").string()).ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "new" / "w.duckdb"));
  std::ofstream(dir / "plain") << "x";
  const std::string blocked = (dir / "plain" / "x" / "y.duckdb").string();
  auto missing = open_duckdb(blocked);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kConnection);
  EXPECT_NE(missing.error().message().find("cannot create folder " + (dir / "plain" / "x").string() +
                                           " for DuckDB database " + blocked),
            std::string::npos)
      << missing.error().to_string();
  std::filesystem::remove_all(dir);

  DuckDbOptions options;
  options.settings["no_such_setting"] = "1";
  auto bad = open_duckdb(":memory:", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kConfig);

  options.settings.clear();
  options.threads = 2;
  options.memory_limit = "512MB";
  auto mem = open_duckdb(":memory:", options);
  ASSERT_TRUE(mem.ok()) << mem.error().to_string();
  auto s = (*mem)->connect();
  ASSERT_TRUE(s.ok());
  auto r = (*s)->query(
      "SELECT current_setting('threads'), current_setting('autoinstall_known_extensions'),"
      " current_setting('autoload_known_extensions')");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(0, 0), "2");
  EXPECT_EQ(r->cell_text(0, 1), "false");
  EXPECT_EQ(r->cell_text(0, 2), "false");
  EXPECT_EQ(duckdb_library_version(), "v1.4.4");
}

// The compression DuckDB chose for a table's string column `s` (one method, or several joined).
std::string string_compression(Warehouse& wh, const std::string& table) {
  auto r = wh.query("SELECT string_agg(DISTINCT compression, ',' ORDER BY compression) FROM pragma_storage_info('" +
                    table + "') WHERE column_name = 's' AND compression <> 'Constant'");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() && r->num_rows() == 1 ? r->cell_text(0, 0) : "<none>";
}

TEST(DuckDbOpen, NewFilesGetTheNewerStorageFormatExistingFilesKeepTheirs) {
  testing::TempDir dir;
  const std::string fill = "CREATE TABLE t AS SELECT 'customer-' || (i % 50) AS s FROM range(20000) r(i); CHECKPOINT";
  {
    auto db = open_duckdb(dir.file("new.duckdb"));
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    auto s = (*db)->connect();
    ASSERT_TRUE((*s)->execute(fill).ok());
    EXPECT_EQ(string_compression(**s, "t"), "DICT_FSST");  // the 1.3 format's string compression
  }
  DuckDbOptions old_format;
  old_format.settings["storage_compatibility_version"] = "v0.10.2";
  {
    auto db = open_duckdb(dir.file("old.duckdb"), old_format);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    auto s = (*db)->connect();
    ASSERT_TRUE((*s)->execute(fill).ok());
    EXPECT_EQ(string_compression(**s, "t"), "Dictionary");
  }
  auto db = open_duckdb(dir.file("old.duckdb"));
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto s = (*db)->connect();
  ASSERT_TRUE((*s)->execute("CREATE TABLE u AS SELECT * FROM t; CHECKPOINT").ok());
  EXPECT_EQ(string_compression(**s, "u"), "Dictionary");  // still readable by DuckDB 0.10.2
}

TEST(DuckDbOpen, ReadOnlyRefusesWrites) {
  testing::TempDir dir;
  {
    auto db = open_duckdb(dir.file("ro.duckdb"));
    ASSERT_TRUE(db.ok());
    auto s = (*db)->connect();
    ASSERT_TRUE((*s)->execute("CREATE TABLE t AS SELECT 1 AS a").ok());
  }
  DuckDbOptions options;
  options.read_only = true;
  auto db = open_duckdb(dir.file("ro.duckdb"), options);
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto s = (*db)->connect();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->query("SELECT a FROM t").ok());
  EXPECT_FALSE((*s)->execute("INSERT INTO t VALUES (2)").ok());
}

}  // namespace
}  // namespace strata::warehouse
