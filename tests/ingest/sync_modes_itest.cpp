// Sync modes against a real PostgreSQL and a real DuckDB file: full refresh (overwrite, append),
// incremental append and dedup, with updates between syncs, equal cursor values, tables without a
// primary key, schema changes and the exactly-once state.

#include <algorithm>
#include <functional>

#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

class SyncModesBase : public IngestTest {
 protected:
  void make_orders() {
    source(
        "CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2), note text, updated_at timestamptz NOT NULL);"
        "INSERT INTO orders SELECT g, g * 1.5, 'n' || g, timestamptz '2024-01-01 00:00:00+00' + (g % 5) * interval '1 hour'"
        " FROM generate_series(1, 50) g;");
  }
  std::string orders_stream(const std::string& mode) {
    return "streams:\n  - name: public.orders\n    sync_mode: " + mode + "\n    cursor_field: updated_at\n";
  }
  Rows source_orders() { return source_rows("SELECT id, amount, note, updated_at FROM orders ORDER BY id"); }
  // Runs a sync with `options` on the destination opened once, as a process that owns it does
  // (strata sync), and reads `settings` (current_setting()s) through another session of it before
  // and after; `while_open` runs before the destination closes.
  Result<SyncReport> sync_owning(const std::string& conn, const SyncOptions& options, const std::string& settings,
                                 Rows& before, Rows& after, const std::function<void()>& while_open = {}) {
    STRATA_ASSIGN(ConnectionConfig config, load_connection_config(conn));
    STRATA_ASSIGN(auto db, warehouse::open_duckdb(duckdb_path()));
    STRATA_ASSIGN(auto wh, db->connect());
    before = rows_of(*wh, settings);
    auto report = run_sync(config, *db, options);
    after = rows_of(*wh, settings);
    if (while_open) while_open();
    return report;
  }
  Rows bronze_orders() { return bronze_rows("SELECT id, amount, note, updated_at FROM bronze.orders ORDER BY id"); }
};

enum class Destination { kDuckDb, kPostgres };

// The modes on both warehouses: an embedded DuckDB file, and a PostgreSQL database.
class SyncModes : public SyncModesBase, public ::testing::WithParamInterface<Destination> {
 protected:
  void SetUp() override {
    SyncModesBase::SetUp();
    if (GetParam() == Destination::kPostgres) use_postgres_destination();
  }
  // information_schema's data_type of a column as each warehouse spells it.
  std::string data_type(const std::string& duckdb, const std::string& postgres) const {
    return postgres_destination() ? postgres : duckdb;
  }
};

INSTANTIATE_TEST_SUITE_P(Warehouses, SyncModes, ::testing::Values(Destination::kDuckDb, Destination::kPostgres),
                         [](const auto& info) { return info.param == Destination::kDuckDb ? "DuckDb" : "Postgres"; });

// What only DuckDB has: its threads, checkpoints and memory limit.
using SyncModesDuckDb = SyncModesBase;

TEST_P(SyncModes, FullRefreshOverwriteReplacesAndKeepsState) {
  make_orders();
  std::string conn = write_connection(orders_stream("full_refresh_overwrite"));
  auto r1 = sync(conn);
  ASSERT_TRUE(r1.ok()) << r1.error().to_string();
  ASSERT_TRUE(r1->ok()) << report_to_text(*r1);
  EXPECT_EQ(r1->streams[0].rows, 50u);
  EXPECT_EQ(bronze_orders(), source_orders());
  source("DELETE FROM orders WHERE id > 40; UPDATE orders SET note = 'changed' WHERE id = 1");
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok());
  EXPECT_EQ(bronze_orders(), source_orders());
  Rows state = bronze_rows("SELECT stream, mode, sync_id, \"rows\" FROM bronze._strata_state");
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0][0], "public.orders");
  EXPECT_EQ(state[0][2], r2->sync_id);
  EXPECT_EQ(state[0][3], "40");
  Rows meta = bronze_rows("SELECT count(*), count(DISTINCT _strata_sync_id), min(_strata_sync_id) FROM bronze.orders"
                          " WHERE _strata_extracted_at IS NOT NULL");
  EXPECT_EQ(meta[0][0], "40");
  EXPECT_EQ(meta[0][1], "1");
  EXPECT_EQ(meta[0][2], r2->sync_id);
  // The stage's DEFAULTs for the constant columns do not survive into bronze.
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'"
                        " AND column_default IS NOT NULL")[0][0], "0");
  // No staging table is left behind.
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_strata_stage%'")[0][0],
            "0");
}

TEST_P(SyncModes, FullRefreshAppendAddsEverySync) {
  make_orders();
  std::string conn = write_connection(orders_stream("full_refresh_append"));
  ASSERT_TRUE(sync(conn).ok());
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok());
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id), count(DISTINCT _strata_sync_id) FROM bronze.orders")[0],
            (std::vector<std::string>{"100", "50", "2"}));
}

TEST_P(SyncModes, IncrementalDedupKeepsLatestPerKey) {
  make_orders();
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  auto r1 = sync(conn);
  ASSERT_TRUE(r1.ok() && r1->ok());
  EXPECT_EQ(r1->streams[0].cursor_after.value_or(""), "2024-01-01 04:00:00+00");
  EXPECT_EQ(bronze_orders(), source_orders());
  // Updates move rows to the current max cursor value (equal cursors) and beyond; inserts too.
  source("UPDATE orders SET note = 'same-cursor', updated_at = '2024-01-01 04:00:00+00' WHERE id IN (1, 2);"
         "UPDATE orders SET note = 'later', updated_at = '2024-01-02 00:00:00+00' WHERE id = 3;"
         "INSERT INTO orders VALUES (51, 7.25, 'new', '2024-01-01 04:00:00+00');");
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok()) << report_to_text(*r2);
  EXPECT_EQ(r2->streams[0].cursor_before.value_or(""), "2024-01-01 04:00:00+00");
  EXPECT_EQ(r2->streams[0].cursor_after.value_or(""), "2024-01-02 00:00:00+00");
  // Only rows at or after the cursor were read: 10 at 04:00 + ids 1, 2 moved there + 51 + id 3.
  EXPECT_EQ(r2->streams[0].rows, 14u);
  EXPECT_EQ(bronze_orders(), source_orders());
  // A third sync with no change re-reads the boundary row only and changes nothing.
  auto r3 = sync(conn);
  ASSERT_TRUE(r3.ok() && r3->ok());
  EXPECT_EQ(r3->streams[0].rows, 1u);
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(bronze_rows("SELECT cursor_value FROM bronze._strata_state")[0][0], "2024-01-02 00:00:00+00");
}

// Sync ids are numbers that read as their UTC start time, stored in bronze as BIGINT. A bronze
// table whose sync id column is text (written by an earlier Strata) keeps that column until a full
// refresh rebuilds it.
TEST_P(SyncModes, SyncIdsAreTimestampNumbersAndTextColumnsStayUsable) {
  make_orders();
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  auto sync_id_type = [&] {
    return bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_name = 'orders'"
                       " AND column_name = '_strata_sync_id'")[0][0];
  };
  auto r1 = sync(conn);
  ASSERT_TRUE(r1.ok() && r1->ok());
  ASSERT_EQ(r1->sync_id.size(), 19u) << r1->sync_id;
  EXPECT_EQ(r1->sync_id.find_first_not_of("0123456789"), std::string::npos) << r1->sync_id;
  std::string started = r1->started_at;  // 2026-11-29T12:55:00...
  started.erase(std::remove_if(started.begin(), started.end(), [](char c) { return c == '-'; }), started.end());
  EXPECT_EQ(r1->sync_id.substr(0, 8), started.substr(0, 8));
  EXPECT_EQ(sync_id_type(), data_type("BIGINT", "bigint"));
  EXPECT_EQ(bronze_rows("SELECT DISTINCT _strata_sync_id FROM bronze.orders")[0][0], r1->sync_id);

  bronze_rows("ALTER TABLE bronze.orders ALTER COLUMN _strata_sync_id TYPE VARCHAR");
  source("UPDATE orders SET note = 'later', updated_at = '2024-01-02 00:00:00+00' WHERE id = 3");
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok()) << (r2.ok() ? report_to_text(*r2) : r2.error().to_string());
  EXPECT_GT(r2->sync_id, r1->sync_id);
  EXPECT_EQ(bronze_orders(), source_orders());
  EXPECT_EQ(sync_id_type(), data_type("VARCHAR", "character varying"));
  EXPECT_EQ(bronze_rows("SELECT _strata_sync_id FROM bronze.orders WHERE id = 3")[0][0], r2->sync_id);

  SyncOptions full;
  full.full_refresh = true;
  auto r3 = sync(conn, full);
  ASSERT_TRUE(r3.ok() && r3->ok()) << (r3.ok() ? report_to_text(*r3) : r3.error().to_string());
  EXPECT_EQ(sync_id_type(), data_type("BIGINT", "bigint"));
  EXPECT_EQ(bronze_orders(), source_orders());
}

// strata sync's options (the process owns the database): the merge runs on one DuckDB thread and
// the last stream's commit checkpoints, leaving no WAL behind; the settings come back afterwards.
TEST_F(SyncModesDuckDb, ProcessOwnedDatabaseCheckpointsAtTheLastCommit) {
  make_orders();
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  SyncOptions options;
  options.staging_threads = 1;
  ASSERT_TRUE(sync(conn, options).ok());
  source("UPDATE orders SET note = 'later', updated_at = '2024-01-02 00:00:00+00' WHERE id IN (3, 30);"
         "INSERT INTO orders VALUES (51, 7.25, 'new', '2024-01-03 00:00:00+00');");
  Rows before, after;
  uintmax_t wal_bytes = 1;
  auto report = sync_owning(conn, options, "SELECT current_setting('threads'), current_setting('checkpoint_threshold')",
                            before, after, [&] {
                              std::error_code ec;
                              const std::string wal = duckdb_path() + ".wal";
                              wal_bytes = std::filesystem::exists(wal, ec) ? std::filesystem::file_size(wal, ec) : 0;
                            });
  ASSERT_TRUE(report.ok() && report->ok());
  EXPECT_EQ(report->streams[0].rows, 13u);  // 10 at the old cursor (re-read), ids 3, 30 and 51
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(after, before);
  EXPECT_EQ(wal_bytes, 0u);
  EXPECT_EQ(bronze_orders(), source_orders());
}

// strata sync's memory limit while staging (SyncOptions::staging_memory): rows beyond it spill to
// DuckDB's temporary folder, and rows too wide for it raise it (DuckDB pins a whole vector of
// strings while it compresses them: without the raise, 300 rows of 256 KB fail the commit's
// checkpoint under 8 MiB); the setting comes back afterwards.
TEST_F(SyncModesDuckDb, TheStagingMemoryLimitSpillsNarrowRowsAndGrowsForWideOnes) {
  source("CREATE TABLE narrow (id int PRIMARY KEY, body text);"
         "INSERT INTO narrow SELECT g, repeat(md5(g::text), 16) FROM generate_series(1, 100000) g;"
         "CREATE TABLE wide (id int PRIMARY KEY, body text);"
         "INSERT INTO wide SELECT g, repeat(md5(g::text), 8192) FROM generate_series(1, 300) g;");
  std::string conn = write_connection("streams:\n  - name: public.narrow\n  - name: public.wide\n");
  SyncOptions options;
  options.staging_threads = 1;
  options.staging_memory = uint64_t{8} << 20;
  Rows before, after;
  auto report = sync_owning(conn, options, "SELECT current_setting('memory_limit')", before, after);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_TRUE(report->ok()) << report_to_text(*report);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(after, before);
  for (const std::string table : {"narrow", "wide"}) {
    const std::string digest = "SELECT count(*), sum(length(body)), md5(string_agg(md5(body), ',' ORDER BY id)) FROM ";
    EXPECT_EQ(bronze_rows(digest + "bronze." + table), source_rows(digest + table)) << table;
  }
}

TEST_P(SyncModes, IncrementalAppendNeverDuplicatesBoundaryRows) {
  make_orders();
  std::string conn = write_connection(orders_stream("incremental_append"));
  ASSERT_TRUE(sync(conn).ok());
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "50");
  // Same sync again: the 10 rows at the boundary are read again but not appended again.
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok());
  EXPECT_EQ(r2->streams[0].rows, 10u);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "50");
  // A new row at the boundary value and an update after it are appended (history is kept).
  source("INSERT INTO orders VALUES (60, 1, 'at-boundary', '2024-01-01 04:00:00+00');"
         "UPDATE orders SET note = 'v2', updated_at = '2024-01-03 00:00:00+00' WHERE id = 7;");
  auto r3 = sync(conn);
  ASSERT_TRUE(r3.ok() && r3->ok());
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.orders")[0],
            (std::vector<std::string>{"52", "51"}));
  EXPECT_EQ(bronze_rows("SELECT note FROM bronze.orders WHERE id = 7 ORDER BY updated_at"),
            (Rows{{"n7"}, {"v2"}}));
}

TEST_P(SyncModes, IncrementalAppendWithoutPrimaryKey) {
  source("CREATE TABLE events (kind text, seq bigint, payload jsonb);"
         "INSERT INTO events SELECT 'k' || (g % 3), g / 4, jsonb_build_object('g', g) FROM generate_series(1, 40) g;");
  std::string conn = write_connection(
      "streams:\n  - name: public.events\n    sync_mode: incremental_append\n    cursor_field: seq\n");
  ASSERT_TRUE(sync(conn).ok());
  source("INSERT INTO events VALUES ('k9', 10, '{\"g\": 99}'), ('k9', 11, '{\"g\": 100}')");
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok()) << report_to_text(*r2);
  EXPECT_EQ(bronze_rows("SELECT kind, seq, payload FROM bronze.events ORDER BY seq, payload::varchar"),
            source_rows("SELECT kind, seq, payload FROM events ORDER BY seq, payload::text"));
}

TEST_P(SyncModes, DedupWithAGivenKeyKeepsTheLatestOfDuplicateRows) {
  // No primary key in the source: the configured key may repeat within one read; the row with
  // the highest cursor wins, also against what bronze already holds.
  source("CREATE TABLE readings (sensor text, v int, at timestamp NOT NULL);"
         "INSERT INTO readings VALUES ('a', 1, '2024-01-01 00:00'), ('a', 2, '2024-01-01 02:00'),"
         " ('b', 3, '2024-01-01 01:00'), ('a', 9, '2024-01-01 01:00')");
  std::string conn = write_connection("streams:\n  - name: public.readings\n    sync_mode: incremental_dedup\n"
                                      "    cursor_field: at\n    primary_key: [sensor]\n");
  auto r1 = sync(conn);
  ASSERT_TRUE(r1.ok()) << r1.error().to_string();
  ASSERT_TRUE(r1->ok()) << report_to_text(*r1);
  EXPECT_EQ(bronze_rows("SELECT sensor, v FROM bronze.readings ORDER BY sensor"), (Rows{{"a", "2"}, {"b", "3"}}));
  source("INSERT INTO readings VALUES ('b', 4, '2024-01-01 03:00'), ('b', 5, '2024-01-01 02:30')");
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok());
  EXPECT_EQ(bronze_rows("SELECT sensor, v FROM bronze.readings ORDER BY sensor"), (Rows{{"a", "2"}, {"b", "4"}}));
  SyncOptions full;
  full.full_refresh = true;
  auto r3 = sync(conn, full);
  ASSERT_TRUE(r3.ok() && r3->ok());
  EXPECT_EQ(bronze_rows("SELECT sensor, v FROM bronze.readings ORDER BY sensor"), (Rows{{"a", "2"}, {"b", "4"}}));
}

TEST_P(SyncModes, DedupWithoutKeyIsAConfigError) {
  source("CREATE TABLE nokey (a int, ts timestamp)");
  std::string conn = write_connection(
      "streams:\n  - name: public.nokey\n    sync_mode: incremental_dedup\n    cursor_field: ts\n");
  auto r = sync(conn);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code(), 2);
  EXPECT_EQ(r.error().where().line, 13);
  EXPECT_NE(r.error().message().find("primary key"), std::string::npos);
}

TEST_P(SyncModes, SchemaChangesPropagateOrFail) {
  make_orders();
  std::string conn = write_connection(orders_stream("incremental_dedup"));
  ASSERT_TRUE(sync(conn).ok());
  source("ALTER TABLE orders ADD COLUMN region text; ALTER TABLE orders DROP COLUMN note;"
         "ALTER TABLE orders ALTER COLUMN id TYPE bigint;"
         "UPDATE orders SET region = 'eu', updated_at = '2024-02-01 00:00:00+00' WHERE id = 5;");
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok()) << report_to_text(*r2);
  ASSERT_FALSE(r2->streams[0].schema_changes.empty());
  // A widening type change (int → bigint) is applied to bronze.
  EXPECT_EQ(bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_name = 'orders'"
                        " AND column_name = 'id'")[0][0], data_type("BIGINT", "bigint"));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.orders")[0][0], "50");
  Rows rows = bronze_rows("SELECT id, region, note FROM bronze.orders WHERE id IN (1, 5) ORDER BY id");
  EXPECT_EQ(rows, (Rows{{"1", kNull, "n1"}, {"5", "eu", kNull}}));
  // A type change bronze can neither widen to nor already hold stops the stream with a clear
  // message; nothing is committed.
  source("ALTER TABLE orders ALTER COLUMN amount TYPE text USING amount::text;"
         "ALTER TABLE orders ALTER COLUMN region TYPE bytea USING 'x'::bytea;");
  auto r3 = sync(conn);
  ASSERT_TRUE(r3.ok());
  ASSERT_FALSE(r3->ok());
  EXPECT_NE(r3->streams[0].error.find("region"), std::string::npos) << r3->streams[0].error;
  EXPECT_NE(r3->streams[0].error.find("cannot widen"), std::string::npos) << r3->streams[0].error;
  // schema_changes: fail stops on a new column.
  std::string strict = write_connection(orders_stream("incremental_dedup") + "schema_changes: fail\n", "strict");
  source("ALTER TABLE orders DROP COLUMN region; ALTER TABLE orders ADD COLUMN extra int");
  auto r4 = sync(strict);
  ASSERT_TRUE(r4.ok());
  ASSERT_FALSE(r4->ok());
  EXPECT_NE(r4->streams[0].error.find("schema_changes is fail"), std::string::npos) << r4->streams[0].error;
}

TEST_P(SyncModes, NoStreamsListSyncsEveryTableAndViews) {
  source("CREATE SCHEMA sales; CREATE TABLE sales.items (id int PRIMARY KEY, v int);"
         "INSERT INTO sales.items SELECT g, g FROM generate_series(1, 10) g;"
         "CREATE VIEW sales.big_items AS SELECT * FROM sales.items WHERE v > 5;"
         "CREATE MATERIALIZED VIEW sales.item_count AS SELECT count(*) AS n FROM sales.items;"
         "CREATE TABLE sales.parted (id int, d date) PARTITION BY RANGE (d);"
         "CREATE TABLE sales.parted_a PARTITION OF sales.parted FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');"
         "CREATE TABLE sales.parted_b PARTITION OF sales.parted FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');"
         "INSERT INTO sales.parted VALUES (1, '2020-05-05'), (2, '2021-05-05');");
  std::string conn = write_connection("", "src", "  schemas: [sales]\n");
  auto r = sync(conn);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->ok()) << report_to_text(*r);
  ASSERT_EQ(r->streams.size(), 4u);  // items, big_items, item_count, parted (not its partitions)
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.sales_big_items")[0][0], "5");
  EXPECT_EQ(bronze_rows("SELECT n FROM bronze.sales_item_count")[0][0], "10");
  EXPECT_EQ(bronze_rows("SELECT id, d FROM bronze.sales_parted ORDER BY id"),
            (Rows{{"1", "2020-05-05"}, {"2", "2021-05-05"}}));
}

}  // namespace
}  // namespace strata::ingest::testing
