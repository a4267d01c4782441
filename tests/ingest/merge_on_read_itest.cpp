// Merge-on-read bronze for incremental_dedup streams on DuckDB (src/ingest/merge_on_read.h),
// against a real PostgreSQL and a real DuckDB file: after the first incremental sync bronze is a
// view over a base and a delta table; later syncs append to the delta (schema changes apply to
// both); bronze is one table again once the delta outgrows kCompactFraction of the base, when the
// stream's mode changes and on a full refresh. Every step compares bronze with the source.

#include <filesystem>

#include "ingest/merge_on_read.h"
#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

class MergeOnRead : public IngestTest {
 protected:
  // 1,000 rows with distinct cursors, so a few changed rows (and the one row re-read at the
  // previous cursor) stay below the compaction threshold.
  void make_orders() {
    source(
        "CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2), note text, updated_at timestamptz NOT NULL);"
        "INSERT INTO orders SELECT g, g * 1.5, 'n' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'"
        " FROM generate_series(1, 1000) g;");
  }
  std::string orders_stream(const std::string& mode, const std::string& extra = "") {
    return "streams:\n  - name: public.orders\n    sync_mode: " + mode + "\n    cursor_field: updated_at\n" + extra;
  }
  Rows source_orders() { return source_rows("SELECT id, amount, note, updated_at FROM orders ORDER BY id"); }
  Rows bronze_orders() { return bronze_rows("SELECT id, amount, note, updated_at FROM bronze.orders ORDER BY id"); }
  // "VIEW", "BASE TABLE" or "" for bronze.<name>, and whether its base and delta tables exist.
  std::string kind(const std::string& name = "orders") {
    Rows r = bronze_rows("SELECT table_type FROM information_schema.tables WHERE table_schema = 'bronze'"
                         " AND table_name = '" + name + "'");
    return r.empty() ? "" : r[0][0];
  }
  std::string parts(const std::string& name = "orders") {
    return bronze_rows("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name IN"
                       " ('_strata_base_" + name + "', '_strata_delta_" + name + "')")[0][0];
  }
  void sync_ok(const std::string& conn, SyncOptions options = {}) {
    auto r = sync(conn, options);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->ok()) << report_to_text(*r);
  }
  // Syncs, then closes the database without the checkpoint DuckDB runs at close: the sync's
  // commit stays in DuckDB's write-ahead log, which the next open replays, as after a crash.
  void sync_leaving_log(const std::string& conn, SyncOptions options = {}) {
    auto config = load_connection_config(conn);
    ASSERT_TRUE(config.ok()) << config.error().to_string();
    auto db = warehouse::open_duckdb(duckdb_path());
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    auto r = run_sync(*config, **db, options);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->ok()) << report_to_text(*r);
    auto wh = (*db)->connect();
    ASSERT_TRUE(wh.ok());
    ASSERT_TRUE((*wh)->execute("PRAGMA disable_checkpoint_on_shutdown").ok());
    wh->reset();
    db->reset();
    const std::string log = duckdb_path() + ".wal";
    ASSERT_TRUE(std::filesystem::exists(log) && std::filesystem::file_size(log) > 0) << "nothing left to replay";
  }
  // Loads the orders, then changes `changed` rows and syncs again: bronze is merge-on-read (the
  // caller checks). Returns the connection file.
  std::string orders_then_delta(int changed, const std::string& note) {
    make_orders();
    std::string conn = write_connection(orders_stream("incremental_dedup"));
    sync_ok(conn);
    touch(1, changed, note);
    sync_ok(conn);
    return conn;
  }
  // Moves `count` rows (ids from `first`, every 7th) past every cursor seen so far.
  void touch(int first, int count, const std::string& note) {
    source("UPDATE orders SET note = '" + note + "', updated_at = clock_timestamp() WHERE id IN (SELECT " +
           std::to_string(first) + " + 7 * g FROM generate_series(0, " + std::to_string(count - 1) + ") g)");
  }
};

TEST_F(MergeOnRead, IncrementalSyncsAppendToADeltaAndBronzeShowsTheLatestRows) {
  make_orders();
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  sync_ok(conn);
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(bronze_orders(), source_orders());

  // A few changed rows: bronze becomes a view over the old table (base) and the new rows (delta).
  touch(1, 5, "first");
  source("INSERT INTO orders VALUES (1001, 1.25, 'new', clock_timestamp())");
  sync_ok(conn);
  EXPECT_EQ(kind(), "VIEW");
  EXPECT_EQ(parts(), "2");
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze._strata_base_orders")[0][0], "1000");
  // The 6 changed rows and id 1000, re-read at the previous cursor (the comparison is inclusive).
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze._strata_delta_orders")[0][0], "7");

  // The same rows change again, and others: the delta holds both versions, bronze the latest.
  touch(1, 3, "second");
  touch(2, 4, "third");
  sync_ok(conn);
  EXPECT_EQ(kind(), "VIEW");
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "1001");
  EXPECT_EQ(bronze_rows("SELECT note, count(*) FROM bronze.orders WHERE note IN ('first', 'second', 'third')"
                        " GROUP BY note ORDER BY note"),
            (Rows{{"first", "2"}, {"second", "3"}, {"third", "4"}}));
  // Every bronze row carries the sync that last wrote it.
  EXPECT_EQ(bronze_rows("SELECT count(DISTINCT _strata_sync_id) FROM bronze.orders")[0][0], "3");
  // The third sync appended straight to the delta, its constant columns from the delta's DEFAULTs.
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze._strata_delta_orders WHERE _strata_extracted_at IS NULL"
                        " OR _strata_sync_id IS NULL")[0][0], "0");
  EXPECT_EQ(bronze_rows("SELECT count(DISTINCT _strata_extracted_at), count(DISTINCT _strata_sync_id)"
                        " FROM bronze._strata_delta_orders"),
            (Rows{{"2", "2"}}));

  // A sync with no change re-reads the boundary row only; bronze stays the same.
  sync_ok(conn);
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "1001");
}

TEST_F(MergeOnRead, ADeltaAboveTheThresholdIsCompactedIntoOneTable) {
  std::string conn = orders_then_delta(20, "small");
  ASSERT_EQ(kind(), "VIEW");
  // 20 + 90 changed rows: more than kCompactFraction (10 %) of the base's 1,000.
  ASSERT_LT(kCompactFraction * 1000, 110.0);
  // What a crash between the compaction's two transactions leaves behind is replaced.
  bronze_rows("CREATE TABLE bronze._strata_rows_orders AS SELECT 1 AS leftover");
  touch(3, 90, "big");
  sync_ok(conn);
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(parts(), "0");
  EXPECT_EQ(kind("_strata_rows_orders"), "");
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.orders")[0], (std::vector<std::string>{
                                                                                           "1000", "1000"}));
  // And the next small change starts a new delta.
  touch(5, 2, "again");
  sync_ok(conn);
  EXPECT_EQ(kind(), "VIEW");
  EXPECT_EQ(bronze_orders(), source_orders());
}

// A compaction stopped between its two transactions leaves its new table (a copy of bronze's
// rows) beside the view. A rebuild of bronze (a full refresh, full_refresh_overwrite) drops it too
// instead of keeping that copy for good.
TEST_F(MergeOnRead, ARebuildDropsWhatAStoppedCompactionLeftBehind) {
  std::string conn = orders_then_delta(5, "delta");
  ASSERT_EQ(kind(), "VIEW");
  const std::string leftover = "CREATE TABLE bronze._strata_rows_orders AS SELECT * FROM bronze.orders";
  bronze_rows(leftover);
  SyncOptions full;
  full.full_refresh = true;
  sync_ok(conn, full);
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(kind("_strata_rows_orders"), "");
  EXPECT_EQ(bronze_orders(), source_orders());

  touch(2, 5, "delta again");
  sync_ok(conn);
  ASSERT_EQ(kind(), "VIEW");
  bronze_rows(leftover);
  sync_ok(write_connection(orders_stream("full_refresh_overwrite")));
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(kind("_strata_rows_orders"), "");
  EXPECT_EQ(bronze_orders(), source_orders());
}

TEST_F(MergeOnRead, SchemaChangesApplyToBaseAndDelta) {
  std::string conn = orders_then_delta(5, "before");
  ASSERT_EQ(kind(), "VIEW");
  source("ALTER TABLE orders ADD COLUMN region text; ALTER TABLE orders ALTER COLUMN id TYPE bigint;");
  source("UPDATE orders SET region = 'eu', updated_at = clock_timestamp() WHERE id = 8");
  source("UPDATE orders SET region = 'us', updated_at = clock_timestamp() WHERE id = 43");
  auto r = sync(conn);
  ASSERT_TRUE(r.ok() && r->ok()) << (r.ok() ? report_to_text(*r) : r.error().to_string());
  ASSERT_FALSE(r->streams[0].schema_changes.empty());
  EXPECT_EQ(kind(), "VIEW");  // altered in place: base and delta
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze._strata_delta_orders")[0][0], "9");
  EXPECT_EQ(bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_name = '_strata_base_orders'"
                        " AND column_name = 'id'")[0][0], "BIGINT");
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT id, region FROM bronze.orders WHERE id IN (1, 8) ORDER BY id"),
            (Rows{{"1", kNull}, {"8", "eu"}}));

  // A column dropped at the source stays in bronze, NULL in the rows read since (15, and 43
  // re-read at the previous cursor).
  source("ALTER TABLE orders DROP COLUMN region; UPDATE orders SET updated_at = clock_timestamp() WHERE id = 15");
  sync_ok(conn);
  EXPECT_EQ(kind(), "VIEW");
  EXPECT_EQ(bronze_rows("SELECT id, region FROM bronze.orders WHERE id IN (8, 15, 43) ORDER BY id"),
            (Rows{{"8", "eu"}, {"15", kNull}, {"43", kNull}}));
  EXPECT_EQ(bronze_orders(), source_orders());
}

// A column the source dropped before the delta was created is in the base (kept) but not in the
// delta; when the source brings it back, the delta gets it.
TEST_F(MergeOnRead, AColumnDroppedAndBroughtBackReachesTheDelta) {
  make_orders();
  source("ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu'");
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  sync_ok(conn);
  source("ALTER TABLE orders DROP COLUMN region");
  touch(1, 3, "without region");
  sync_ok(conn);
  ASSERT_EQ(kind(), "VIEW");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.columns WHERE table_name = '_strata_delta_orders'"
                        " AND column_name = 'region'")[0][0], "0");
  source("ALTER TABLE orders ADD COLUMN region text; UPDATE orders SET region = 'us', updated_at = clock_timestamp()"
         " WHERE id = 2");
  sync_ok(conn);
  EXPECT_EQ(kind(), "VIEW");
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT id, region FROM bronze.orders WHERE id IN (1, 2, 3) ORDER BY id"),
            (Rows{{"1", kNull}, {"2", "us"}, {"3", "eu"}}));
}

// The delta's latest row is the one of the latest sync, and sync ids only grow: a sync id above
// every one in the state (as after the clock went back) is followed, not undercut.
TEST_F(MergeOnRead, SyncIdsKeepGrowingWhenTheClockGoesBack) {
  std::string conn = orders_then_delta(2, "first");
  ASSERT_EQ(kind(), "VIEW");
  const std::string future = "2999010100000000000";
  bronze_rows("UPDATE bronze._strata_delta_orders SET _strata_sync_id = " + future + ";"
              "UPDATE bronze._strata_state SET sync_id = '" + future + "'");
  touch(1, 2, "second");
  auto r = sync(conn);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(r->sync_id, "2999010100000000001");
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders WHERE note = 'second'")[0][0], "2");
}

TEST_F(MergeOnRead, FullRefreshAndModeChangesLeaveOneTable) {
  std::string conn = orders_then_delta(5, "delta");
  ASSERT_EQ(kind(), "VIEW");
  SyncOptions full;
  full.full_refresh = true;
  sync_ok(conn, full);
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(parts(), "0");
  EXPECT_EQ(bronze_orders(), source_orders());

  touch(2, 5, "delta again");
  sync_ok(conn);
  ASSERT_EQ(kind(), "VIEW");
  // The stream becomes incremental_append, and the source gains a column: the view's rows become
  // one table, which gets the column, then rows append.
  std::string append = write_connection(orders_stream("incremental_append"));
  touch(3, 2, "appended");
  source("ALTER TABLE orders ADD COLUMN extra int DEFAULT 7");
  sync_ok(append);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders WHERE extra = 7")[0][0], "2");
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(parts(), "0");
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.orders")[0],
            (std::vector<std::string>{"1002", "1000"}));
  EXPECT_EQ(bronze_rows("SELECT id, note FROM bronze.orders WHERE note = 'appended' ORDER BY id"),
            source_rows("SELECT id, note FROM orders WHERE note = 'appended' ORDER BY id"));

  // Back to dedup on a plain table, then full_refresh_overwrite while it is a view.
  std::string dedup = write_connection(orders_stream("incremental_dedup"));
  sync_ok(dedup, full);
  touch(4, 3, "last");
  sync_ok(dedup);
  ASSERT_EQ(kind(), "VIEW");
  sync_ok(write_connection(orders_stream("full_refresh_overwrite")));
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(parts(), "0");
  EXPECT_EQ(bronze_orders(), source_orders());
}

// Every kind of transaction a sync commits on merge-on-read bronze can be replayed from DuckDB's
// log: a crash between the commit and the next checkpoint must not leave a database that cannot
// be opened (DuckDB fails to replay a table's changes made before the table was renamed onto a
// name a view held, so the compaction renames first).
TEST_F(MergeOnRead, EveryStepReplaysFromDuckDbsLog) {
  make_orders();
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  sync_ok(conn);
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"table to base and delta", "view"}, {"append to the delta", "view"},  {"schema change", "view"},
      {"compaction", "table"},             {"new delta", "view"},           {"mode change", "table"},
      {"back to dedup", "view"},           {"full refresh", "table"}};
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string& step = steps[i].first;
    std::string c = conn;
    SyncOptions options;
    if (step == "schema change") source("ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu'");
    if (step == "compaction") {
      touch(2, 120, step);
    } else {
      touch(static_cast<int>(i % 7) + 1, 3, step);
    }
    if (step == "mode change") c = write_connection(orders_stream("incremental_append"), "append");
    if (step == "back to dedup") {
      SyncOptions full;
      full.full_refresh = true;
      sync_ok(conn, full);  // a table again, checkpointed
      touch(4, 2, step);
    }
    if (step == "full refresh") options.full_refresh = true;
    sync_leaving_log(c, options);
    EXPECT_EQ(kind(), steps[i].second == "view" ? "VIEW" : "BASE TABLE") << step;
    if (step == "mode change") {
      // The three rows touched were appended as new versions.
      EXPECT_EQ(bronze_rows("SELECT count(*) - count(DISTINCT id) FROM bronze.orders")[0][0], "3") << step;
    } else {
      EXPECT_EQ(bronze_orders(), source_orders()) << step;
    }
  }
}

// Long strings are stored with ZSTD (the first batch decides), in the stage that becomes bronze,
// in the delta and through a compaction's rewrite and a mode change's; short ones keep DuckDB's
// own choice.
TEST_F(MergeOnRead, WideStringsAreStoredWithZstdThroughACompaction) {
  source("CREATE TABLE docs (id int PRIMARY KEY, title text, body text, updated_at timestamptz NOT NULL);"
         "INSERT INTO docs SELECT g, 'doc ' || g, repeat(md5(g::text), 40), timestamptz '2024-01-01 00:00:00+00'"
         " + g * interval '1 minute' FROM generate_series(1, 1000) g;");
  std::string conn = write_connection("streams:\n  - name: public.docs\n    sync_mode: incremental_dedup\n"
                                      "    cursor_field: updated_at\n");
  const std::string rows = "SELECT id, title, body FROM docs ORDER BY id";
  auto compression = [&](const std::string& table, const std::string& column) {
    bronze_rows("CHECKPOINT");
    return bronze_rows("SELECT string_agg(DISTINCT compression, ',') FROM pragma_storage_info('bronze." + table +
                       "') WHERE column_name = '" + column + "' AND segment_type = 'VARCHAR'")[0][0];
  };
  sync_ok(conn);
  EXPECT_EQ(bronze_rows("SELECT id, title, body FROM bronze.docs ORDER BY id"), source_rows(rows));
  EXPECT_EQ(compression("docs", "body"), "ZSTD");
  EXPECT_NE(compression("docs", "title"), "ZSTD");
  source("UPDATE docs SET body = upper(body), updated_at = clock_timestamp() WHERE id % 50 = 0");
  sync_ok(conn);
  ASSERT_EQ(kind("docs"), "VIEW");
  EXPECT_EQ(compression("_strata_delta_docs", "body"), "ZSTD");
  source("UPDATE docs SET body = lower(body), updated_at = clock_timestamp() WHERE id % 5 = 1");
  sync_ok(conn);
  ASSERT_EQ(kind("docs"), "BASE TABLE");
  EXPECT_EQ(bronze_rows("SELECT id, title, body FROM bronze.docs ORDER BY id"), source_rows(rows));
  EXPECT_EQ(compression("docs", "body"), "ZSTD");
  EXPECT_NE(compression("docs", "title"), "ZSTD");
  // A mode change rewrites the view into a table before its sync: bronze's own rows decide.
  source("UPDATE docs SET title = title || '!', updated_at = clock_timestamp() WHERE id % 100 = 3");
  sync_ok(conn);
  ASSERT_EQ(kind("docs"), "VIEW");
  write_connection("streams:\n  - name: public.docs\n    sync_mode: incremental_append\n"
                   "    cursor_field: updated_at\n");
  sync_ok(conn);
  ASSERT_EQ(kind("docs"), "BASE TABLE");
  EXPECT_EQ(compression("docs", "body"), "ZSTD");
  EXPECT_NE(compression("docs", "title"), "ZSTD");
}

TEST_F(MergeOnRead, AConfiguredKeyKeepsTheLatestRowAcrossTheDelta) {
  // No primary key in the source; the configured key repeats within one read and across syncs.
  source("CREATE TABLE readings (sensor int, v int, at timestamp NOT NULL);"
         "INSERT INTO readings SELECT g, g, timestamp '2024-01-01 00:00' + g * interval '1 second'"
         " FROM generate_series(1, 500) g;");
  std::string conn = write_connection("streams:\n  - name: public.readings\n    sync_mode: incremental_dedup\n"
                                      "    cursor_field: at\n    primary_key: [sensor]\n");
  sync_ok(conn);
  source("INSERT INTO readings VALUES (1, 100, '2024-01-02 00:00'), (1, 101, '2024-01-02 02:00'),"
         " (2, 200, '2024-01-02 01:00'), (NULL, 7, '2024-01-02 00:00')");
  sync_ok(conn);
  EXPECT_EQ(kind("readings"), "VIEW");
  const std::string latest =
      "SELECT sensor, v FROM (SELECT sensor, v, row_number() OVER (PARTITION BY sensor ORDER BY at DESC) AS rn"
      " FROM readings) t WHERE rn = 1 ORDER BY sensor NULLS LAST";
  EXPECT_EQ(bronze_rows("SELECT sensor, v FROM bronze.readings ORDER BY sensor NULLS LAST"), source_rows(latest));
  // A later sync's row wins over the delta's earlier one, also for the NULL key.
  source("INSERT INTO readings VALUES (1, 102, '2024-01-03 00:00'), (NULL, 8, '2024-01-03 00:00')");
  sync_ok(conn);
  EXPECT_EQ(bronze_rows("SELECT sensor, v FROM bronze.readings ORDER BY sensor NULLS LAST"), source_rows(latest));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.readings")[0][0], "501");
}

// As Airbyte's deduped mode, a sync never sees a delete: a row deleted in the source, and the old
// key of a row whose key changed, stay in bronze with their last values, in the view and through a
// compaction; a full refresh drops them.
TEST_F(MergeOnRead, DeletedAndReKeyedRowsStayUntilAFullRefresh) {
  std::string conn = orders_then_delta(3, "delta");
  ASSERT_EQ(kind(), "VIEW");
  const Rows kept = bronze_rows("SELECT id, note FROM bronze.orders WHERE id IN (1, 500) ORDER BY id");
  source("DELETE FROM orders WHERE id IN (1, 500); UPDATE orders SET id = 5000, updated_at = clock_timestamp()"
         " WHERE id = 8");
  sync_ok(conn);
  ASSERT_EQ(kind(), "VIEW");
  EXPECT_EQ(bronze_rows("SELECT id, note FROM bronze.orders WHERE id IN (1, 500) ORDER BY id"), kept);
  EXPECT_EQ(bronze_rows("SELECT id FROM bronze.orders WHERE id IN (8, 5000) ORDER BY id"), (Rows{{"8"}, {"5000"}}));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "1001");
  touch(2, 120, "compacted");
  sync_ok(conn);
  ASSERT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(bronze_rows("SELECT id, note FROM bronze.orders WHERE id IN (1, 500) ORDER BY id"), kept);
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.orders")[0],
            (std::vector<std::string>{"1001", "1001"}));
  SyncOptions full;
  full.full_refresh = true;
  sync_ok(conn, full);
  EXPECT_EQ(bronze_orders(), source_orders());
}

// The view ranks the delta's rows and hides the base's by the key it was created with. A key that
// grows (here the source's primary key gains a column) may go on without a full refresh, but the
// versions the old key superseded must not come back: the view's rows under the old key become
// one table first, then the new key applies to what is read from then on, as when merging in place.
TEST_F(MergeOnRead, AWiderKeyDoesNotBringBackSupersededVersions) {
  source(
      "CREATE TABLE orders (id int PRIMARY KEY, region text NOT NULL, updated_at timestamptz NOT NULL);"
      "INSERT INTO orders SELECT g, 'eu', timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'"
      " FROM generate_series(1, 1000) g;");
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  const std::string rows = "SELECT id, region FROM orders ORDER BY id, region";
  auto bronze = [&] { return bronze_rows("SELECT id, region FROM bronze.orders ORDER BY id, region"); };
  sync_ok(conn);
  source("UPDATE orders SET region = 'us', updated_at = clock_timestamp() WHERE id IN (1, 2)");
  sync_ok(conn);
  source("UPDATE orders SET region = 'br', updated_at = clock_timestamp() WHERE id = 2");
  sync_ok(conn);
  ASSERT_EQ(kind(), "VIEW");
  ASSERT_EQ(bronze(), source_rows(rows));
  // Bronze holds one row per id, so one per (id, region): the stream goes on.
  source("ALTER TABLE orders DROP CONSTRAINT orders_pkey; ALTER TABLE orders ADD PRIMARY KEY (id, region)");
  sync_ok(conn);
  EXPECT_EQ(bronze(), source_rows(rows));
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.orders")[0],
            (std::vector<std::string>{"1000", "1000"}));
  // From now on a row that changes region is another key: both stay, as Airbyte's dedup keeps them.
  source("UPDATE orders SET region = 'jp', updated_at = clock_timestamp() WHERE id = 3");
  sync_ok(conn);
  EXPECT_EQ(bronze_rows("SELECT region FROM bronze.orders WHERE id = 3 ORDER BY region"), (Rows{{"eu"}, {"jp"}}));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "1001");
}

// A key that gains a column the source has just added cannot be matched to bronze's rows (NULL in
// it): the stream stops and asks for a full refresh, which then rebuilds it.
TEST_F(MergeOnRead, AKeyThatTakesInANewColumnAsksForAFullRefresh) {
  source(
      "CREATE TABLE orders (id int PRIMARY KEY, updated_at timestamptz NOT NULL);"
      "INSERT INTO orders SELECT g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'"
      " FROM generate_series(1, 100) g;");
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  sync_ok(conn);
  source("ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu'; ALTER TABLE orders DROP CONSTRAINT orders_pkey;"
         "ALTER TABLE orders ADD PRIMARY KEY (id, region); UPDATE orders SET updated_at = clock_timestamp() WHERE id = 1");
  auto stopped = sync(conn);
  ASSERT_TRUE(stopped.ok()) << stopped.error().to_string();
  ASSERT_FALSE(stopped->ok());
  const std::string text = report_to_text(*stopped);
  EXPECT_NE(text.find("its primary key now includes the new column 'region'"), std::string::npos) << text;
  EXPECT_NE(text.find("--full-refresh"), std::string::npos) << text;
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "100");
  SyncOptions full;
  full.full_refresh = true;
  auto rebuilt = sync(conn, full);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().to_string();
  ASSERT_TRUE(rebuilt->ok()) << report_to_text(*rebuilt);
  EXPECT_EQ(bronze_rows("SELECT count(*), count(region) FROM bronze.orders")[0], (std::vector<std::string>{"100", "100"}));
}

// A configured key whose rows repeat within one read: the view picks each key's row by the
// cursor. Another cursor_field must not change which of an earlier sync's rows bronze shows.
TEST_F(MergeOnRead, AnotherCursorFieldKeepsTheRowsBronzeShowed) {
  source("CREATE TABLE readings (sensor int, v int, at timestamp NOT NULL, seq int NOT NULL);"
         "INSERT INTO readings SELECT g, g, timestamp '2024-01-01 00:00' + g * interval '1 second', g"
         " FROM generate_series(1, 500) g;");
  auto stream = [](const std::string& cursor) {
    return "streams:\n  - name: public.readings\n    sync_mode: incremental_dedup\n    cursor_field: " + cursor +
           "\n    primary_key: [sensor]\n";
  };
  std::string conn = write_connection(stream("at"));
  sync_ok(conn);
  // Sensor 1 twice in one read: the later `at` wins (v = 101), whose seq is the smaller.
  source("INSERT INTO readings VALUES (1, 100, '2024-01-02 00:00', 900), (1, 101, '2024-01-02 02:00', 800)");
  sync_ok(conn);
  ASSERT_EQ(kind("readings"), "VIEW");
  ASSERT_EQ(bronze_rows("SELECT v FROM bronze.readings WHERE sensor = 1"), (Rows{{"101"}}));
  // The source forgets sensor 1; the stream moves to the seq cursor.
  source("DELETE FROM readings WHERE sensor = 1");
  sync_ok(write_connection(stream("seq")));
  EXPECT_EQ(bronze_rows("SELECT v FROM bronze.readings WHERE sensor = 1"), (Rows{{"101"}}));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.readings")[0][0], "500");
}

// A configured key may be NULL, and the view keeps one row for the NULL key. When the source
// later makes that key its primary key (its NULL rows gone), the rows bronze holds for the NULL
// key still supersede each other: one stays, as merging in place leaves it.
TEST_F(MergeOnRead, ANullKeyStaysOneRowWhenTheKeyBecomesTheSourcesPrimaryKey) {
  source("CREATE TABLE readings (sensor int, v int, at timestamp NOT NULL);"
         "INSERT INTO readings SELECT g, g, timestamp '2024-01-01 00:00' + g * interval '1 second'"
         " FROM generate_series(1, 500) g; INSERT INTO readings VALUES (NULL, -1, '2024-01-01 00:00')");
  std::string conn = write_connection("streams:\n  - name: public.readings\n    sync_mode: incremental_dedup\n"
                                      "    cursor_field: at\n    primary_key: [sensor]\n");
  sync_ok(conn);
  source("UPDATE readings SET v = -2, at = '2024-01-02 00:00' WHERE sensor IS NULL");
  sync_ok(conn);
  ASSERT_EQ(kind("readings"), "VIEW");
  ASSERT_EQ(bronze_rows("SELECT v FROM bronze.readings WHERE sensor IS NULL"), (Rows{{"-2"}}));
  source("DELETE FROM readings WHERE sensor IS NULL; ALTER TABLE readings ADD PRIMARY KEY (sensor);"
         "UPDATE readings SET v = 0, at = '2024-01-03 00:00' WHERE sensor = 5");
  sync_ok(conn);
  ASSERT_EQ(kind("readings"), "VIEW");
  EXPECT_EQ(bronze_rows("SELECT v FROM bronze.readings WHERE sensor IS NULL"), (Rows{{"-2"}}));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.readings")[0][0], "501");
}

TEST_F(MergeOnRead, ABronzeTableDroppedByHandIsReadAgainInFull) {
  std::string conn = orders_then_delta(5, "x");
  bronze_rows("DROP VIEW bronze.orders; DROP TABLE bronze._strata_base_orders; DROP TABLE bronze._strata_delta_orders");
  sync_ok(conn);
  EXPECT_EQ(kind(), "BASE TABLE");
  EXPECT_EQ(bronze_orders(), source_orders());
  // The view alone dropped by hand: the next sync puts it back.
  touch(2, 5, "y");
  sync_ok(conn);
  ASSERT_EQ(kind(), "VIEW");
  bronze_rows("DROP VIEW bronze.orders");
  touch(3, 2, "z");
  sync_ok(conn);
  EXPECT_EQ(kind(), "VIEW");
  EXPECT_EQ(bronze_orders(), source_orders());
  // A view whose tables are gone, or any view of that name, is reported, not guessed at.
  for (const char* breakage : {"DROP TABLE bronze._strata_delta_orders",
                               "DROP VIEW bronze.orders; DROP TABLE bronze._strata_base_orders;"
                               " CREATE VIEW bronze.orders AS SELECT 1 AS id"}) {
    bronze_rows(breakage);
    auto r = sync(conn);
    ASSERT_TRUE(r.ok());
    ASSERT_FALSE(r->ok()) << breakage;
    EXPECT_NE(r->streams[0].error.find("is a view"), std::string::npos) << r->streams[0].error;
    EXPECT_NE(r->streams[0].error.find("drop the view"), std::string::npos) << r->streams[0].error;
  }
  // What the hint says to run brings the stream back, with nothing of the old tables left.
  auto r = sync(conn);
  ASSERT_TRUE(r.ok());
  const std::string& error = r->streams[0].error;
  const size_t statements = error.find("DROP VIEW ");
  ASSERT_NE(statements, std::string::npos) << error;
  EXPECT_EQ(error.substr(statements),
            "DROP VIEW \"bronze\".\"orders\"; DROP TABLE IF EXISTS \"bronze\".\"_strata_base_orders\"; "
            "DROP TABLE IF EXISTS \"bronze\".\"_strata_delta_orders\"");
  bronze_rows(error.substr(statements));
  sync_ok(conn);
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'"
                        " AND table_name LIKE '_strata_%_orders'"),
            (Rows{{"0"}}));
}

}  // namespace
}  // namespace strata::ingest::testing
