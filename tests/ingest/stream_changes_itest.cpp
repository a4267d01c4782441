// Streams whose configuration or source changed in ways a sync must not paper over, against a real
// PostgreSQL and a real DuckDB file: a mode or cursor the earlier syncs' bronze cannot continue
// from, NULL cursors, bronze names (renamed with bronze_table, schemas holding dots), generated
// columns, a full refresh that keeps dropped columns, rows at an append stream's cursor boundary,
// column names that differ in case only, and types that narrow into bronze's wider column.

#include <map>

#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

class StreamChanges : public IngestTest {
 protected:
  // One stream of public.items with `mode`, cursor `ts` and `extra` keys.
  std::string items(const std::string& mode, const std::string& extra = "", const std::string& name = "src") {
    return write_connection("streams:\n  - name: public.items\n    sync_mode: " + mode + "\n    cursor_field: ts\n" +
                                extra,
                            name);
  }
  // Syncs and expects every stream to succeed.
  void sync_ok(const std::string& conn, SyncOptions options = {}) {
    auto r = sync(conn, options);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->ok()) << report_to_text(*r);
  }
  // A --full-refresh sync that must succeed.
  void full_refresh_ok(const std::string& conn) {
    SyncOptions full;
    full.full_refresh = true;
    sync_ok(conn, full);
  }
  // bronze.items holds the source's items, compared on `columns` by id.
  void expect_items_match(const std::string& columns) {
    EXPECT_EQ(bronze_rows("SELECT " + columns + " FROM bronze.items ORDER BY id"),
              source_rows("SELECT " + columns + " FROM items ORDER BY id"));
  }
  // Syncs and returns the one stream's error ("" when it succeeded).
  std::string sync_error(const std::string& conn) {
    auto r = sync(conn);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() && !r->streams.empty() ? r->streams[0].error : "no report";
  }
};

TEST_F(StreamChanges, AnAppendedBronzeCannotTurnIntoDedupWithoutAFullRefresh) {
  source("CREATE TABLE items (id int PRIMARY KEY, v text, ts timestamptz NOT NULL);"
         "INSERT INTO items SELECT g, 'a', '2024-01-01' FROM generate_series(1, 20) g");
  sync_ok(items("incremental_append"));
  source("UPDATE items SET v = 'b', ts = '2024-02-01' WHERE id <= 5");
  sync_ok(items("incremental_append"));
  const Rows appended = bronze_rows("SELECT id, v FROM bronze.items ORDER BY id, v");
  ASSERT_EQ(appended.size(), 25u);  // five keys hold two versions
  // incremental_dedup would keep both versions of the keys it does not read again.
  std::string error = sync_error(items("incremental_dedup", "", "dedup"));
  EXPECT_NE(error.find("written by incremental_append"), std::string::npos) << error;
  EXPECT_NE(error.find("--full-refresh --stream public.items"), std::string::npos) << error;
  EXPECT_EQ(bronze_rows("SELECT id, v FROM bronze.items ORDER BY id, v"), appended);
  full_refresh_ok(items("incremental_dedup", "", "dedup"));
  expect_items_match("id, v");
  // From dedup on, incremental syncs go on as usual.
  source("UPDATE items SET v = 'c', ts = '2024-03-01' WHERE id = 7");
  sync_ok(items("incremental_dedup", "", "dedup"));
  expect_items_match("id, v");
}

TEST_F(StreamChanges, AnotherKeyForIncrementalDedupAsksForAFullRefresh) {
  source("CREATE TABLE items (id int PRIMARY KEY, grp int, ts timestamptz NOT NULL);"
         "INSERT INTO items SELECT g, g % 3, '2024-01-01' FROM generate_series(1, 12) g");
  sync_ok(items("incremental_dedup"));
  // A state table from before the key was recorded gets the column back on the next read.
  bronze_rows("ALTER TABLE bronze._strata_state DROP COLUMN primary_key");
  source("UPDATE items SET ts = '2024-02-01' WHERE id = 1");
  sync_ok(items("incremental_dedup"));
  EXPECT_EQ(bronze_rows("SELECT primary_key FROM bronze._strata_state")[0][0], "[\"id\"]");
  // Merged on grp from now on, bronze would show every row of a group the sync did not read.
  std::string error = sync_error(items("incremental_dedup", "    primary_key: [grp]\n", "by_group"));
  EXPECT_NE(error.find("primary_key changed from [\"id\"] to [\"grp\"]"), std::string::npos) << error;
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "12");
  full_refresh_ok(items("incremental_dedup", "    primary_key: [grp]\n", "by_group"));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "3");
}

TEST_F(StreamChanges, AnotherCursorForIncrementalAppendAsksForAFullRefresh) {
  source("CREATE TABLE items (id int PRIMARY KEY, ts timestamptz NOT NULL, ts2 timestamptz NOT NULL);"
         "INSERT INTO items SELECT g, '2024-01-01', '2024-01-01' FROM generate_series(1, 10) g");
  sync_ok(items("incremental_append"));
  std::string other = write_connection(
      "streams:\n  - name: public.items\n    sync_mode: incremental_append\n    cursor_field: ts2\n", "other");
  std::string error = sync_error(other);
  EXPECT_NE(error.find("cursor_field changed from 'ts' to 'ts2'"), std::string::npos) << error;
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "10");
}

TEST_F(StreamChanges, IncrementalAppendReadsNullCursorsOnce) {
  source("CREATE TABLE items (id int PRIMARY KEY, ts timestamptz);"
         "INSERT INTO items SELECT g, NULL FROM generate_series(1, 30) g");
  sync_ok(items("incremental_append"));
  sync_ok(items("incremental_append"));
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.items")[0],
            (std::vector<std::string>{"30", "30"}));
  // Rows that get a cursor afterwards are read as any new row.
  source("INSERT INTO items VALUES (31, '2024-01-01')");
  sync_ok(items("incremental_append"));
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.items")[0],
            (std::vector<std::string>{"31", "31"}));
}

TEST_F(StreamChanges, IncrementalAppendKeepsRowsWhoseCursorIsBeyondTheWarehousesRange) {
  // DuckDB's timestamps end in 294247: such a cursor lands as NULL (with a note) and is no
  // position, so every sync reads the row again; it is appended once, with or without a key.
  for (const std::string key : {"", " PRIMARY KEY"}) {
    SCOPED_TRACE(key.empty() ? "no key" : "key");
    source("DROP TABLE IF EXISTS items; CREATE TABLE items (id int" + key + ", ts timestamp);"
           "INSERT INTO items VALUES (1, '2024-01-01'), (2, '294270-01-01')");
    const std::string conn = items("incremental_append");
    full_refresh_ok(conn);
    source("INSERT INTO items VALUES (3, '2025-01-01'), (4, '294271-01-01')");
    sync_ok(conn);
    source("INSERT INTO items VALUES (5, '2026-01-01'), (6, '294273-01-01')");
    sync_ok(conn);
    sync_ok(conn);
    EXPECT_EQ(bronze_rows("SELECT id, ts IS NULL, _strata_meta IS NOT NULL FROM bronze.items ORDER BY id"),
              (Rows{{"1", "false", "false"},
                    {"2", "true", "true"},
                    {"3", "false", "false"},
                    {"4", "true", "true"},
                    {"5", "false", "false"},
                    {"6", "true", "true"}}));
  }
}

TEST_F(StreamChanges, CursorsBeforeYearOneResume) {
  // PostgreSQL writes these years with BC; a cursor saved as "-0043-…" used to fail every later read.
  for (const std::string type : {"date", "timestamptz"}) {
    for (const std::string mode : {"incremental_append", "incremental_dedup"}) {
      SCOPED_TRACE(type + " " + mode);
      const std::string table = (type == "date" ? "d_" : "t_") + mode;
      source("CREATE TABLE " + table + " (id int PRIMARY KEY, v int, ts " + type + " NOT NULL);"
             "INSERT INTO " + table + " VALUES (1, 0, '0044-03-15 BC'), (2, 0, '0044-03-14 BC')");
      std::string conn = write_connection("streams:\n  - name: public." + table + "\n    sync_mode: " + mode +
                                              "\n    cursor_field: ts\n",
                                          table);
      sync_ok(conn);
      // A row at the saved cursor (read again, not appended twice) and one after it.
      source("INSERT INTO " + table + " VALUES (3, 0, '0044-03-15 BC'), (4, 0, '0001-01-01 BC')");
      auto r = sync(conn);
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      ASSERT_TRUE(r->ok()) << report_to_text(*r);
      EXPECT_EQ(r->streams[0].rows, 3u);  // 1, 3 and 4: the cursor comparison is inclusive
      EXPECT_EQ(bronze_rows("SELECT id, CAST(ts AS VARCHAR) FROM bronze." + table + " ORDER BY id"),
                (Rows{{"1", "0044-03-15 (BC)" + std::string(type == "date" ? "" : " 00:00:00+00")},
                      {"2", "0044-03-14 (BC)" + std::string(type == "date" ? "" : " 00:00:00+00")},
                      {"3", "0044-03-15 (BC)" + std::string(type == "date" ? "" : " 00:00:00+00")},
                      {"4", "0001-01-01 (BC)" + std::string(type == "date" ? "" : " 00:00:00+00")}}));
    }
  }
}

TEST_F(StreamChanges, ACursorAtInfinityDoesNotStopTheStream) {
  for (const std::string type : {"timestamptz", "date"}) {
    for (const std::string mode : {"incremental_append", "incremental_dedup"}) {
      SCOPED_TRACE(type + " " + mode);
      const std::string table = type.substr(0, 1) + (mode == "incremental_append" ? "_appended" : "_deduped");
      source("CREATE TABLE " + table + " (id int PRIMARY KEY, ts " + type + " NOT NULL);"
             "INSERT INTO " + table + " VALUES (1, '2024-01-01'), (2, 'infinity'), (3, '-infinity')");
      std::string conn = write_connection("streams:\n  - name: public." + table + "\n    sync_mode: " + mode +
                                              "\n    cursor_field: ts\n",
                                          table);
      auto r1 = sync(conn);
      ASSERT_TRUE(r1.ok() && r1->ok());
      EXPECT_EQ(r1->streams[0].cursor_after, type == "date" ? "2024-01-01" : "2024-01-01 00:00:00+00");
      source("INSERT INTO " + table + " VALUES (4, '2024-02-01')");
      sync_ok(conn);
      sync_ok(conn);
      // Row 4 arrived and no row is there twice (dedup reads row 2 again each time and keeps one).
      EXPECT_EQ(bronze_rows("SELECT id, count(*) FROM bronze." + table + " GROUP BY id ORDER BY id"),
                (Rows{{"1", "1"}, {"2", "1"}, {"3", "1"}, {"4", "1"}}));
      EXPECT_EQ(bronze_rows("SELECT CAST(ts AS VARCHAR) FROM bronze." + table + " WHERE id IN (2, 3) ORDER BY id"),
                (Rows{{"infinity"}, {"-infinity"}}));
      // A cursor an older version saved at infinity: dedup reads again and goes on; append, which
      // would then append every row again, asks for a full refresh.
      bronze_rows("UPDATE bronze._strata_state SET cursor_value = 'infinity'");
      source("INSERT INTO " + table + " VALUES (5, '2024-03-01')");
      auto stuck = sync(conn);
      ASSERT_TRUE(stuck.ok());
      if (mode == "incremental_dedup") {
        ASSERT_TRUE(stuck->ok()) << report_to_text(*stuck);
        EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze." + table)[0],
                  (std::vector<std::string>{"5", "5"}));
      } else {
        EXPECT_NE(stuck->streams[0].error.find("cursor was saved at infinity"), std::string::npos)
            << stuck->streams[0].error;
      }
    }
  }
  // Only ±infinity and NULL cursors: the first sync reads them, later ones add nothing.
  source("CREATE TABLE edges (id int PRIMARY KEY, ts timestamptz);"
         "INSERT INTO edges VALUES (1, 'infinity'), (2, '-infinity'), (3, NULL)");
  std::string edges = write_connection(
      "streams:\n  - name: public.edges\n    sync_mode: incremental_append\n    cursor_field: ts\n", "edges");
  for (int i = 0; i < 3; ++i) sync_ok(edges);
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.edges")[0],
            (std::vector<std::string>{"3", "3"}));
}

TEST_F(StreamChanges, DedupAfterAFullRefreshNeedsOneRowPerKey) {
  source("CREATE TABLE items (id int PRIMARY KEY, grp int, ts timestamptz NOT NULL);"
         "INSERT INTO items SELECT g, g % 2, '2024-01-01' FROM generate_series(1, 10) g");
  // full_refresh_overwrite holds every source row: one per id, several per grp.
  sync_ok(items("full_refresh_overwrite"));
  std::string error = sync_error(items("incremental_dedup", "    primary_key: [grp]\n", "by_group"));
  EXPECT_NE(error.find("may hold several rows of the key [\"grp\"]"), std::string::npos) << error;
  // On the source's own key it goes on; the key's order does not matter afterwards.
  sync_ok(items("incremental_dedup"));
  source("UPDATE items SET grp = 7, ts = '2024-02-01' WHERE id = 3");
  sync_ok(items("incremental_dedup", "    primary_key: [id]\n", "same_key"));
  expect_items_match("id, grp");
}

TEST_F(StreamChanges, AFullRefreshOfAnAppendStreamLetsItTurnDedup) {
  source("CREATE TABLE items (id int PRIMARY KEY, v text, ts timestamptz NOT NULL);"
         "INSERT INTO items SELECT g, 'a', '2024-01-01' FROM generate_series(1, 8) g");
  sync_ok(items("incremental_append"));
  source("UPDATE items SET v = 'b', ts = '2024-02-01' WHERE id = 1");
  sync_ok(items("incremental_append"));
  full_refresh_ok(items("incremental_append"));  // one row per source row again
  EXPECT_EQ(bronze_rows("SELECT mode FROM bronze._strata_state")[0][0], "full_refresh_overwrite");
  source("UPDATE items SET v = 'c', ts = '2024-03-01' WHERE id = 2");
  sync_ok(items("incremental_dedup", "", "dedup"));
  expect_items_match("id, v");
}

TEST_F(StreamChanges, BronzeTableNamesAStreamSoCollidingTablesStaySeparate) {
  source("CREATE SCHEMA other; CREATE TABLE other.orders (id int); CREATE TABLE other_orders (id int);"
         "INSERT INTO other.orders SELECT generate_series(1, 50); INSERT INTO other_orders VALUES (1);"
         "CREATE SCHEMA \"my.sch\"; CREATE TABLE \"my.sch\".t (id int); INSERT INTO \"my.sch\".t VALUES (7)");
  std::string conn = write_connection("streams:\n  - name: public.other_orders\n  - name: other.orders\n"
                                      "    bronze_table: orders_from_other\n  - name: my.sch.t\n");
  sync_ok(conn);
  EXPECT_EQ(bronze_rows("SELECT (SELECT count(*) FROM bronze.other_orders), (SELECT count(*) FROM"
                        " bronze.orders_from_other), (SELECT max(id) FROM bronze.\"my.sch_t\")")[0],
            (std::vector<std::string>{"1", "50", "7"}));
}

TEST_F(StreamChanges, WithoutAStreamsListACollidingTableFailsAloneAndTheOthersRun) {
  source("CREATE SCHEMA other; CREATE TABLE other.orders (id int); CREATE TABLE other_orders (id int);"
         "CREATE TABLE big (id int); INSERT INTO big SELECT generate_series(1, 30);"
         "CREATE TABLE odd (id int, _strata_meta text);"
         "CREATE SCHEMA \"x.y\"; CREATE TABLE \"x.y\".z (id int); CREATE SCHEMA x; CREATE TABLE x.\"y.z\" (id int)");
  std::string conn = write_connection("");
  auto r = sync(conn);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  std::map<std::string, std::string> errors;
  std::vector<std::string> dotted;  // the two streams named x.y.z, whose state would be one row
  for (const auto& s : r->streams) {
    errors[s.stream] = s.ok ? "ok" : s.error;
    if (s.stream == "x.y.z") dotted.push_back(s.ok ? "ok" : s.error);
  }
  ASSERT_EQ(dotted.size(), 2u);
  EXPECT_EQ(dotted[0], "ok");
  EXPECT_NE(dotted[1].find("tables \"x\".\"y.z\" and \"x.y\".\"z\" are both named x.y.z"), std::string::npos) << dotted[1];
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze._strata_state WHERE stream = 'x.y.z'")[0][0], "1");
  EXPECT_NE(dotted[1].find("streams: [{name: '\"x.y\".\"z\"'}]"), std::string::npos) << dotted[1];
  // --stream x.y.z is ambiguous; quoted, it names one of them.
  SyncOptions only;
  only.only_streams = {"x.y.z"};
  auto ambiguous = sync(conn, only);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error().hint().find("\"x\".\"y.z\" or \"x.y\".\"z\""), std::string::npos)
      << ambiguous.error().to_string();
  only.only_streams = {"x.\"y.z\""};
  auto one = sync(conn, only);
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  ASSERT_EQ(one->streams.size(), 1u);
  EXPECT_TRUE(one->streams[0].ok) << report_to_text(*one);
  // Listed with quotes, the other table syncs (into bronze of its own: the two share a state key).
  source("INSERT INTO \"x.y\".z VALUES (5)");
  const std::string other = write_connection("streams:\n  - name: '\"x.y\".z'\n", "other");
  std::string text = slurp(other);
  text.replace(text.find("schema: bronze"), 14, "schema: bronze_other");
  std::ofstream(other) << text;
  auto quoted = sync(other);
  ASSERT_TRUE(quoted.ok()) << quoted.error().to_string();
  ASSERT_TRUE(quoted->ok()) << report_to_text(*quoted);
  EXPECT_EQ(bronze_rows("SELECT id FROM bronze_other.\"x.y_z\"")[0][0], "5");
  EXPECT_EQ(errors["public.big"], "ok");
  EXPECT_EQ(errors["other.orders"], "ok");
  EXPECT_NE(errors["public.other_orders"].find("would both land in bronze table other_orders"), std::string::npos)
      << errors["public.other_orders"];
  EXPECT_NE(errors["public.odd"].find("named like Strata's own"), std::string::npos) << errors["public.odd"];
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.big")[0][0], "30");
}

TEST_F(StreamChanges, GeneratedColumnsAreRead) {
  source("CREATE TABLE items (id int PRIMARY KEY, price numeric(8,2), qty int,"
         " total numeric(10,2) GENERATED ALWAYS AS (price * qty) STORED, ts timestamptz NOT NULL);"
         "INSERT INTO items (id, price, qty, ts) SELECT g, g * 1.25, g % 4, '2024-01-01' FROM generate_series(1, 40) g");
  sync_ok(items("full_refresh_overwrite"));
  expect_items_match("id, price, qty, total");
}

TEST_F(StreamChanges, AFullRefreshRebuildingByAConfiguredKeyKeepsDroppedColumns) {
  source("CREATE TABLE items (sensor text, v int, note text, ts timestamptz NOT NULL);"
         "INSERT INTO items VALUES ('a', 1, 'x', '2024-01-01'), ('a', 2, 'y', '2024-01-02'), ('b', 3, 'z', '2024-01-01')");
  std::string conn = items("incremental_dedup", "    primary_key: [sensor]\n");
  sync_ok(conn);
  source("ALTER TABLE items DROP COLUMN note");
  SyncOptions full;
  full.full_refresh = true;
  auto r = sync(conn, full);
  ASSERT_TRUE(r.ok() && r->ok());
  ASSERT_FALSE(r->streams[0].schema_changes.empty());
  EXPECT_NE(r->streams[0].schema_changes[0].find("note"), std::string::npos);
  EXPECT_EQ(bronze_rows("SELECT sensor, v, note FROM bronze.items ORDER BY sensor"),
            (Rows{{"a", "2", kNull}, {"b", "3", kNull}}));
}

TEST_F(StreamChanges, AppendKeepsEveryCopyOfARowAtTheCursorBoundary) {
  // No key: a row read again at the saved cursor is matched by its values, as many times as bronze
  // holds it, so a new identical row still arrives and an added column does not duplicate.
  source("CREATE TABLE items (a int, b text, ts timestamptz);"
         "INSERT INTO items VALUES (1, 'x', '2024-01-01'), (2, 'y', '2024-01-02')");
  const std::string conn = items("incremental_append");
  auto same_multiset = [&] {
    EXPECT_EQ(bronze_rows("SELECT a, b, count(*) FROM bronze.items GROUP BY a, b ORDER BY a, b"),
              source_rows("SELECT a, b, count(*) FROM items GROUP BY a, b ORDER BY a, b"));
  };
  sync_ok(conn);
  source("INSERT INTO items VALUES (2, 'y', '2024-01-02'), (3, 'z', '2024-01-03')");
  sync_ok(conn);
  same_multiset();
  sync_ok(conn);
  same_multiset();
  source("ALTER TABLE items ADD COLUMN c text DEFAULT 'dflt'");
  sync_ok(conn);
  same_multiset();
  sync_ok(conn);
  same_multiset();
  source("INSERT INTO items VALUES (3, 'z', '2024-01-03', 'dflt')");
  sync_ok(conn);
  same_multiset();
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "5");
}

TEST_F(StreamChanges, ColumnNamesThatDifferInCaseOnly) {
  // Bronze column names ignore case: v dropped and "V" added is the same bronze column.
  source("CREATE TABLE items (id int PRIMARY KEY, v text, ts timestamptz NOT NULL);"
         "INSERT INTO items VALUES (1, 'a', '2024-01-01')");
  const std::string conn = items("incremental_dedup");
  sync_ok(conn);
  source("ALTER TABLE items DROP COLUMN v; ALTER TABLE items ADD COLUMN \"V\" int;"
         "INSERT INTO items VALUES (2, '2024-02-01', 7)");
  sync_ok(conn);
  // Row 1 is read again (its cursor is the saved one) and has no V.
  EXPECT_EQ(bronze_rows("SELECT id, v FROM bronze.items ORDER BY id"), (Rows{{"1", kNull}, {"2", "7"}}));
  full_refresh_ok(conn);
  EXPECT_EQ(bronze_rows("SELECT id, \"V\" FROM bronze.items ORDER BY id"), (Rows{{"1", kNull}, {"2", "7"}}));
  // Two source columns that differ in case only cannot both land: a located error, unless the
  // stream keeps one of them.
  source("CREATE TABLE twins (id int PRIMARY KEY, \"ID\" int, \"Id\" int)");
  auto twins = sync(write_connection("streams:\n  - name: public.twins\n", "twins"));
  ASSERT_FALSE(twins.ok());
  EXPECT_EQ(twins.error().exit_code(), 2);
  EXPECT_NE(twins.error().message().find("columns 'id' and 'ID' of public.twins would land in one bronze column"),
            std::string::npos)
      << twins.error().to_string();
  EXPECT_GT(twins.error().where().line, 0);
  sync_ok(write_connection("streams:\n  - name: public.twins\n    columns: [id]\n", "one_twin"));
}

TEST_F(StreamChanges, ATypeThatNarrowsIntoBronzesWiderColumnKeepsLoading) {
  source("CREATE TABLE items (id int, big bigint, t text, ts timestamptz NOT NULL);"
         "INSERT INTO items VALUES (1, 9000000000, 'a', '2024-01-01')");
  const std::string conn = items("incremental_append");
  sync_ok(conn);
  source("UPDATE items SET big = 1; ALTER TABLE items ALTER COLUMN big TYPE int, ALTER COLUMN t TYPE int USING 5;"
         "INSERT INTO items VALUES (2, 2, 6, '2024-02-01')");
  auto r = sync(conn);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->ok()) << report_to_text(*r);
  EXPECT_EQ(r->streams[0].schema_changes,
            (std::vector<std::string>{"column big is INT32 in the source now; bronze keeps its wider type INT64",
                                      "column t is INT32 in the source now; bronze keeps its wider type VARCHAR"}));
  // Row 1 changed at the saved cursor: read again, compared in bronze's types, appended as a version.
  EXPECT_EQ(bronze_rows("SELECT id, big, t FROM bronze.items ORDER BY id, big DESC"),
            (Rows{{"1", "9000000000", "a"}, {"1", "1", "5"}, {"2", "2", "6"}}));
  sync_ok(conn);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "3");
  EXPECT_EQ(bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_name = 'items' AND "
                        "column_name IN ('big', 't') ORDER BY column_name"),
            (Rows{{"BIGINT"}, {"VARCHAR"}}));
  // A change bronze can neither widen to nor hold names the command that rebuilds the table.
  source("ALTER TABLE items ALTER COLUMN big TYPE bytea USING 'x'::bytea");
  std::string error = sync_error(conn);
  EXPECT_NE(error.find("strata sync src --full-refresh --stream public.items (bronze then holds the source's current "
                       "rows only"),
            std::string::npos)
      << error;
}

TEST_F(StreamChanges, ANumericWhoseScaleChangesWidensBronzeToHoldBoth) {
  source("CREATE TABLE items (id int PRIMARY KEY, amount numeric(10,2), ts timestamptz NOT NULL);"
         "INSERT INTO items VALUES (1, 12345678.91, '2024-01-01')");
  const std::string conn = items("incremental_dedup");
  sync_ok(conn);
  // Row 1 leaves the source (bronze keeps it): bronze must hold it and the new scale.
  source("DELETE FROM items; ALTER TABLE items ALTER COLUMN amount TYPE numeric(10,4);"
         "INSERT INTO items VALUES (2, 123456.7891, '2024-02-01')");
  auto r = sync(conn);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->ok()) << report_to_text(*r);
  EXPECT_EQ(r->streams[0].schema_changes, (std::vector<std::string>{"widened column amount to DECIMAL(12,4)"}));
  EXPECT_EQ(bronze_rows("SELECT id, amount FROM bronze.items ORDER BY id"),
            (Rows{{"1", "12345678.9100"}, {"2", "123456.7891"}}));
  source("INSERT INTO items VALUES (3, 1.5, '2024-03-01')");
  sync_ok(conn);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "3");
}

// A schema note that stands (a kept dropped column, a narrowed type, a column widened to a common
// DECIMAL) is reported by the sync that caused it, and not again by the later schema changes.
TEST_F(StreamChanges, StandingSchemaNotesAreReportedOnce) {
  source("CREATE TABLE items (id int PRIMARY KEY, amount numeric(10,2), big bigint, old text, ts timestamptz NOT NULL);"
         "INSERT INTO items VALUES (1, 1.5, 1, 'x', '2024-01-01')");
  const std::string conn = items("incremental_dedup");
  sync_ok(conn);
  auto changes_after = [&](const std::string& sql) {
    source(sql);
    auto r = sync(conn);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    if (!r.ok()) return std::vector<std::string>{"(sync failed)"};
    EXPECT_TRUE(r->ok()) << report_to_text(*r);
    return r->streams[0].schema_changes;
  };
  using Notes = std::vector<std::string>;
  EXPECT_EQ(changes_after("ALTER TABLE items ALTER COLUMN amount TYPE numeric(10,4), ALTER COLUMN big TYPE int;"
                          "UPDATE items SET ts = '2024-02-01'"),
            (Notes{"widened column amount to DECIMAL(12,4)",
                   "column big is INT32 in the source now; bronze keeps its wider type INT64"}));
  EXPECT_EQ(changes_after("UPDATE items SET ts = '2024-03-01'"), Notes{});
  EXPECT_EQ(changes_after("ALTER TABLE items DROP COLUMN old; UPDATE items SET ts = '2024-04-01'"),
            Notes{"kept dropped column old"});
  EXPECT_EQ(changes_after("ALTER TABLE items ADD COLUMN note text; UPDATE items SET ts = '2024-05-01'"),
            Notes{"added column note (NULL in the rows synced before; a full refresh fills them)"});
  // A standing note comes back when its cause does: big narrows to smallint.
  EXPECT_EQ(changes_after("ALTER TABLE items ALTER COLUMN big TYPE smallint; UPDATE items SET ts = '2024-06-01'"),
            Notes{"column big is INT16 in the source now; bronze keeps its wider type INT64"});
  // The latest version of row 1 was read after `old` left the source: NULL there.
  EXPECT_EQ(bronze_rows("SELECT id, amount, big, old, note FROM bronze.items"),
            (Rows{{"1", "1.5000", "1", kNull, kNull}}));
}

TEST_F(StreamChanges, ADedupKeyThatNarrowsIsMatchedInBronzesType) {
  // Bronze's key column stays VARCHAR and holds a value no integer matches ('a', deleted in the
  // source since): every comparison must happen in bronze's type, in this sync and the later ones.
  source("CREATE TABLE items (id text PRIMARY KEY, v int, ts timestamptz NOT NULL);"
         "INSERT INTO items VALUES ('a', 1, '2024-01-01'), ('7', 1, '2024-01-01')");
  for (const std::string mode : {"incremental_dedup", "incremental_append"}) {
    SCOPED_TRACE(mode);
    source("DROP TABLE IF EXISTS items; CREATE TABLE items (id text PRIMARY KEY, v int, ts timestamptz NOT NULL);"
           "INSERT INTO items VALUES ('a', 1, '2024-01-01'), ('7', 1, '2024-01-01')");
    const std::string conn = items(mode, "", "narrow_" + mode.substr(12));
    full_refresh_ok(conn);
    source("DELETE FROM items WHERE id = 'a'; ALTER TABLE items ALTER COLUMN id TYPE int USING id::int;"
           "UPDATE items SET v = 2, ts = '2024-02-01'; INSERT INTO items VALUES (8, 1, '2024-02-01')");
    auto r = sync(conn);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->ok()) << report_to_text(*r);
    EXPECT_EQ(r->streams[0].schema_changes,
              (std::vector<std::string>{"column id is INT32 in the source now; bronze keeps its wider type VARCHAR"}));
    // The next syncs find the same narrowing and say nothing; rows at the saved cursor are matched.
    source("UPDATE items SET v = 3, ts = '2024-03-01' WHERE id = 8");
    r = sync(conn);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->ok()) << report_to_text(*r);
    EXPECT_TRUE(r->streams[0].schema_changes.empty()) << report_to_text(*r);
    sync_ok(conn);
    const Rows expected = mode == "incremental_dedup"
                              ? Rows{{"7", "2"}, {"8", "3"}, {"a", "1"}}
                              : Rows{{"7", "1"}, {"7", "2"}, {"8", "1"}, {"8", "3"}, {"a", "1"}};
    EXPECT_EQ(bronze_rows("SELECT id, v FROM bronze.items ORDER BY id, v"), expected);
    EXPECT_EQ(bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_schema = 'bronze' AND "
                          "table_name = 'items' AND column_name = 'id'"),
              (Rows{{"VARCHAR"}}));
  }
}

TEST_F(StreamChanges, ADedupKeyWithMoreColumnsGoesOn) {
  source("CREATE TABLE items (id int PRIMARY KEY, sub int NOT NULL, ts timestamptz NOT NULL);"
         "INSERT INTO items SELECT g, 0, '2024-01-01' FROM generate_series(1, 5) g");
  sync_ok(items("incremental_dedup"));
  // One row per id is one row per (id, sub) too.
  source("UPDATE items SET ts = '2024-02-01' WHERE id = 2");
  sync_ok(items("incremental_dedup", "    primary_key: [sub, id]\n", "wider_key"));
  expect_items_match("id, sub");
}

TEST_F(StreamChanges, ASyncedStreamWhoseSourceDriftedFailsAloneAndTheOthersRun) {
  source("CREATE TABLE drift (id int PRIMARY KEY, a int, ts timestamptz NOT NULL);"
         "CREATE TABLE steady (id int PRIMARY KEY, v int);"
         "INSERT INTO drift VALUES (1, 1, '2024-01-01'); INSERT INTO steady VALUES (1, 1)");
  const std::string conn = write_connection(
      "streams:\n  - name: public.drift\n    sync_mode: incremental_append\n    cursor_field: ts\n"
      "    columns: [id, a]\n  - name: public.steady\n");
  sync_ok(conn);
  // The file did not change; the source did. Each drift fails the one stream, the other syncs.
  for (const std::string change : {"ALTER TABLE drift DROP COLUMN a", "ALTER TABLE drift RENAME COLUMN ts TO ts2",
                                   "ALTER TABLE drift ALTER COLUMN ts2 TYPE text", "DROP TABLE drift"}) {
    SCOPED_TRACE(change);
    source(change + "; INSERT INTO steady SELECT max(id) + 1, 0 FROM steady");
    auto r = sync(conn);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(r->streams.size(), 2u);
    EXPECT_FALSE(r->streams[0].ok);
    EXPECT_FALSE(r->streams[0].error.empty());
    EXPECT_TRUE(r->streams[1].ok) << r->streams[1].error;
    EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.steady"), source_rows("SELECT count(*) FROM steady"));
    EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.drift")[0][0], "1");
  }
  // A stream never synced with the same mistake is a configuration error (exit 2).
  auto fresh = sync(write_connection("streams:\n  - name: public.gone\n", "fresh"));
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.error().exit_code(), 2);
  // So is a synced stream whose file now names a cursor or key the source lacks: the file changed.
  source("CREATE TABLE edited (id int PRIMARY KEY, ts timestamptz NOT NULL); INSERT INTO edited VALUES (1, now())");
  sync_ok(write_connection("streams:\n  - name: public.edited\n    sync_mode: incremental_dedup\n"
                           "    cursor_field: ts\n", "edited"));
  for (const auto& [edit, line] : std::vector<std::pair<std::string, int>>{
           {"    cursor_field: tss\n", 14}, {"    cursor_field: ts\n    primary_key: [idd]\n", 15}}) {
    SCOPED_TRACE(edit);
    auto typo = sync(write_connection("streams:\n  - name: public.edited\n    sync_mode: incremental_dedup\n" + edit,
                                      "edited"));
    ASSERT_FALSE(typo.ok());
    EXPECT_EQ(typo.error().exit_code(), 2) << typo.error().to_string();
    EXPECT_EQ(typo.error().where().line, line) << typo.error().to_string();
  }
}

}  // namespace
}  // namespace strata::ingest::testing
