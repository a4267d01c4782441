// replication: cdc against a real PostgreSQL (wal_level=logical) and a real warehouse: the first
// sync's snapshot in the slot's exported snapshot, then inserts, updates (also of the key) and
// deletes read through pgoutput with binary values, for incremental_dedup and incremental_append;
// a sync that fails before its commit reading the same changes again; the slot confirmed only
// after the commit; and the located configuration errors.

#include <signal.h>

#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

class Cdc : public IngestTest {
 protected:
  void SetUp() override {
    IngestTest::SetUp();
    slot_ = "s_" + db_name_;
  }
  void TearDown() override {
    // A database with a logical slot cannot be dropped: the next run's create_database needs it gone
    // (a walsender still holding one, e.g. of a killed sync, is ended first).
    const std::string slots = "FROM pg_replication_slots WHERE database = '" + db_name_ + "'";
    pg_->execute("SELECT pg_terminate_backend(active_pid) " + slots + " AND active_pid IS NOT NULL");
    for (int attempt = 0; attempt < 50; ++attempt) {
      try {
        pg_->execute("SELECT pg_drop_replication_slot(slot_name) " + slots);
        break;
      } catch (const std::exception&) {
        ::usleep(100000);
      }
    }
    IngestTest::TearDown();
  }
  // The items table (5 rows) and a publication of it.
  void make_items() {
    source("CREATE TABLE items (id int PRIMARY KEY, name text, qty int);"
           "INSERT INTO items SELECT g, 'n' || g, g FROM generate_series(1, 5) g;"
           "CREATE PUBLICATION pub FOR TABLE items;");
  }
  std::string cdc_source() const { return "  replication: cdc\n  replication_slot: " + slot_ + "\n  publication: pub\n"; }
  std::string items_connection(const std::string& mode) {
    return write_connection("streams:\n  - name: public.items\n    sync_mode: " + mode + "\n", "src", cdc_source());
  }
  SyncReport sync_ok(const std::string& conn) {
    auto r = sync(conn);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    if (!r.ok()) return {};
    EXPECT_TRUE(r->ok()) << report_to_text(*r);
    return *r;
  }
  std::string confirmed_flush() {
    Rows r = source_rows("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot_ + "'");
    return r.size() == 1 ? r[0][0] : "<no slot>";
  }
  std::string state_lsn() {
    Rows r = bronze_rows("SELECT cursor_value FROM bronze._strata_state WHERE stream = 'public.items'");
    return r.size() == 1 ? r[0][0] : "<no state>";
  }
  // Inserts, updates (one row twice, one key), deletes.
  void change_items() {
    source("INSERT INTO items VALUES (6, 'n6', 6);"
           "UPDATE items SET name = 'two' WHERE id = 2;"
           "UPDATE items SET qty = 30 WHERE id = 3;"
           "UPDATE items SET qty = 31 WHERE id = 3;"
           "DELETE FROM items WHERE id = 4;"
           "UPDATE items SET id = 50 WHERE id = 5;");
  }
  // See Cdc.UnchangedToastedValuesComeFromThePreviousVersion.
  void check_unchanged_toast() {
    // ~13 KB of md5 text per value: too random to compress below the TOAST threshold.
    const std::string big = "(SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 400) g)";
    source("CREATE TABLE docs (id int PRIMARY KEY, n int, body text, doc jsonb, tags text[], raw bytea);"
           "CREATE TABLE nokey (k int NOT NULL, n int, body text); CREATE UNIQUE INDEX nokey_k ON nokey (k);"
           "ALTER TABLE nokey REPLICA IDENTITY USING INDEX nokey_k;"
           "INSERT INTO docs SELECT i, 0, " + big + ", jsonb_build_object('b', " + big + "), ARRAY[" + big + ", 'x'], "
           "decode(" + big + ", 'hex') FROM generate_series(1, 4) i;"
           "INSERT INTO nokey VALUES (1, 0, " + big + ");"
           "CREATE PUBLICATION pub FOR TABLE docs, nokey;");
    const std::string docs =
        "SELECT id, n, md5(body), md5(doc::text), md5(array_to_string(tags, ',')), md5(encode(raw, 'hex'))";
    const std::string bronze =
        std::string("SELECT id, n, md5(body), md5(CAST(doc AS VARCHAR)), md5(array_to_string(tags, ',')), md5(") +
        (postgres_destination() ? "encode(raw, 'hex'))" : "lower(hex(raw)))");
    int round = 0;
    for (const std::string mode : {"incremental_dedup", "incremental_append"}) {
      SCOPED_TRACE(mode);
      source("UPDATE docs SET n = 0");
      const std::string conn = write_connection("streams:\n  - name: public.docs\n    sync_mode: " + mode +
                                                    "\n  - name: public.nokey\n    sync_mode: incremental_append\n",
                                                "src", "  replication: cdc\n  replication_slot: " + slot_ +
                                                    std::to_string(++round) + "\n  publication: pub\n");
      sync_ok(conn);
      // 1: updated twice; 2: a new body, then an update that leaves it; 3: updated in this sync
      // and the next; 4: deleted, inserted again with new values, then updated.
      source("UPDATE docs SET n = 1 WHERE id = 1; UPDATE docs SET n = 2 WHERE id = 1;"
             "UPDATE docs SET body = " + big + " WHERE id = 2; UPDATE docs SET n = 3 WHERE id = 2;"
             "UPDATE docs SET n = 4 WHERE id = 3;"
             "DELETE FROM docs WHERE id = 4; INSERT INTO docs SELECT 4, 5, " + big + ", '{\"a\": 1}', ARRAY[" + big +
             "], decode(" + big + ", 'hex'); UPDATE docs SET n = 6 WHERE id = 4;"
             "UPDATE nokey SET n = 1;");
      SyncReport second = sync_ok(conn);
      ASSERT_EQ(second.streams.size(), 2u);
      EXPECT_TRUE(second.streams[0].warnings.empty()) << report_to_text(second);
      ASSERT_EQ(second.streams[1].warnings.size(), 1u) << report_to_text(second);
      EXPECT_NE(second.streams[1].warnings[0].find("unchanged TOASTed values"), std::string::npos);
      const std::string latest = mode == "incremental_dedup" ? " WHERE _strata_deleted_at IS NULL"
                                                             : " WHERE (id, _strata_lsn) IN (SELECT id, max(_strata_lsn) "
                                                               "FROM bronze.docs GROUP BY id)";
      expect_same(docs + " FROM docs ORDER BY id", bronze + " FROM bronze.docs" + latest + " ORDER BY id", 0);
      // Every version has its values: only the delete's row lacks them.
      EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.docs WHERE (body IS NULL OR doc IS NULL OR tags IS NULL OR "
                            "raw IS NULL) AND _strata_deleted_at IS NULL")[0][0], "0");
      EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.nokey WHERE body IS NULL")[0][0], "1");
      // The stage's flags column never reaches bronze.
      EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.columns WHERE column_name = "
                            "'_strata_unchanged_toast'")[0][0], "0");
      // The next sync finds 3's previous version in bronze (a dedup stream's is now merge-on-read).
      source("UPDATE docs SET n = 7 WHERE id = 3; UPDATE docs SET n = 8 WHERE id = 2");
      sync_ok(conn);
      expect_same(docs + " FROM docs ORDER BY id", bronze + " FROM bronze.docs" + latest + " ORDER BY id", 0);
      bronze_rows("DROP SCHEMA bronze CASCADE");
    }
  }
  std::string slot_;
};

TEST_F(Cdc, DedupSnapshotThenInsertsUpdatesAndDeletes) {
  make_items();
  const std::string conn = items_connection("incremental_dedup");
  SyncReport first = sync_ok(conn);
  ASSERT_EQ(first.streams.size(), 1u);
  EXPECT_EQ(first.streams[0].rows, 5u);
  // The snapshot's rows carry the slot's consistent point, which the state records and the slot
  // has confirmed since its creation.
  const std::string snapshot_lsn = state_lsn();
  EXPECT_EQ(snapshot_lsn, confirmed_flush());
  EXPECT_EQ(dump(bronze_rows("SELECT id, name, qty, _strata_deleted_at FROM bronze.items ORDER BY id")),
            "1 | n1 | 1 | <NULL> | \n2 | n2 | 2 | <NULL> | \n3 | n3 | 3 | <NULL> | \n4 | n4 | 4 | <NULL> | \n"
            "5 | n5 | 5 | <NULL> | \n");

  change_items();
  SyncReport second = sync_ok(conn);
  EXPECT_EQ(second.streams[0].rows, 7u);  // 1 insert, 3 updates, 1 delete, a key update as delete + insert
  EXPECT_EQ(second.streams[0].cursor_before, snapshot_lsn);
  EXPECT_EQ(dump(bronze_rows("SELECT id, name, qty, _strata_deleted_at IS NOT NULL FROM bronze.items ORDER BY id")),
            "1 | n1 | 1 | false | \n2 | two | 2 | false | \n3 | n3 | 31 | false | \n4 | <NULL> | <NULL> | true | \n"
            "5 | <NULL> | <NULL> | true | \n6 | n6 | 6 | false | \n50 | n5 | 5 | false | \n");
  // The position moved, and the slot was told only of what bronze committed.
  const std::string after = state_lsn();
  EXPECT_NE(after, snapshot_lsn);
  EXPECT_EQ(after, confirmed_flush());
  // The changes' LSNs rank the versions: the update of 3 came after the snapshot's row.
  Rows lsns = bronze_rows("SELECT count(DISTINCT _strata_lsn) FROM bronze.items WHERE id IN (3, 6, 50)");
  EXPECT_EQ(lsns[0][0], "3");

  // Nothing new: nothing read, nothing changed.
  SyncReport third = sync_ok(conn);
  EXPECT_EQ(third.streams[0].rows, 0u);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "7");
  EXPECT_EQ(state_lsn(), confirmed_flush());
}

TEST_F(Cdc, AppendKeepsEveryChangeAsARow) {
  make_items();
  const std::string conn = items_connection("incremental_append");
  sync_ok(conn);
  change_items();
  SyncReport second = sync_ok(conn);
  EXPECT_EQ(second.streams[0].rows, 7u);
  EXPECT_EQ(dump(bronze_rows("SELECT id, count(*), count(_strata_deleted_at), max(qty) FROM bronze.items GROUP BY id "
                             "ORDER BY id")),
            "1 | 1 | 0 | 1 | \n2 | 2 | 0 | 2 | \n3 | 3 | 0 | 31 | \n4 | 2 | 1 | 4 | \n5 | 2 | 1 | 5 | \n"
            "6 | 1 | 0 | 6 | \n50 | 1 | 0 | 5 | \n");
  // Within one key the versions are ordered by LSN, the delete last.
  EXPECT_EQ(dump(bronze_rows("SELECT qty FROM bronze.items WHERE id = 3 ORDER BY _strata_lsn")), "3 | \n30 | \n31 | \n");
  // A TRUNCATE is reported, and bronze keeps its rows (as Airbyte's CDC does).
  source("TRUNCATE items");
  SyncReport truncated = sync_ok(conn);
  ASSERT_EQ(truncated.streams[0].warnings.size(), 1u);
  EXPECT_NE(truncated.streams[0].warnings[0].find("the source table was truncated"), std::string::npos);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "12");
}

// A stream added to the connection after the slot's first sync is read alone in a temporary
// slot's snapshot, then follows the connection's slot: every change once. A --stream sync leaves
// the slot confirmed no further than the position of a stream it left out.
TEST_F(Cdc, AStreamAddedLaterIsReadAloneThenFollowsTheSlot) {
  make_items();
  source("CREATE TABLE orders (id int PRIMARY KEY, amount int);"
         "INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 3) g;"
         "ALTER PUBLICATION pub ADD TABLE orders;");
  const std::string items_only = items_connection("incremental_dedup");
  sync_ok(items_only);
  // Changes to both tables before orders joins the connection: the snapshot holds orders'.
  change_items();
  source("INSERT INTO orders VALUES (4, 40); UPDATE orders SET amount = 11 WHERE id = 1;");
  const std::string both = write_connection(
      "streams:\n  - name: public.items\n    sync_mode: incremental_dedup\n"
      "  - name: public.orders\n    sync_mode: incremental_dedup\n",
      "src", cdc_source());
  SyncReport second = sync_ok(both);
  ASSERT_EQ(second.streams.size(), 2u);
  EXPECT_EQ(second.streams[0].rows, 7u);  // items' changes, from the slot
  EXPECT_EQ(second.streams[1].rows, 4u);  // orders' snapshot
  const std::string orders_sql = "SELECT id, amount, _strata_deleted_at IS NOT NULL FROM bronze.orders ORDER BY id";
  EXPECT_EQ(dump(bronze_rows(orders_sql)), "1 | 11 | false | \n2 | 20 | false | \n3 | 30 | false | \n4 | 40 | false | \n");
  // The temporary slot went with its connection.
  EXPECT_EQ(source_rows("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()")[0][0], "1");
  auto position = [&](const std::string& stream) {
    Rows r = bronze_rows("SELECT cursor_value FROM bronze._strata_state WHERE stream = '" + stream + "'");
    return r.size() == 1 ? r[0][0] : "<no state>";
  };
  auto lsn_value = [&](const std::string& lsn) {
    return std::stoull(source_rows("SELECT '" + lsn + "'::pg_lsn - '0/0'::pg_lsn")[0][0]);
  };
  const std::string orders_snapshot = position("public.orders");
  EXPECT_GT(lsn_value(orders_snapshot), lsn_value(position("public.items")) - 1);

  // Later changes to orders come from the connection's slot, each once.
  source("UPDATE orders SET amount = 22 WHERE id = 2; DELETE FROM orders WHERE id = 3; INSERT INTO orders VALUES (5, 50);");
  SyncReport third = sync_ok(both);
  EXPECT_EQ(third.streams[0].rows, 0u);
  EXPECT_EQ(third.streams[1].rows, 3u);
  EXPECT_EQ(third.streams[1].cursor_before, orders_snapshot);
  EXPECT_EQ(dump(bronze_rows(orders_sql)),
            "1 | 11 | false | \n2 | 22 | false | \n3 | <NULL> | true | \n4 | 40 | false | \n5 | 50 | false | \n");
  EXPECT_EQ(confirmed_flush(), std::min(position("public.items"), position("public.orders"),
                                        [&](const std::string& a, const std::string& b) {
                                          return lsn_value(a) < lsn_value(b);
                                        }));

  // A sync of items alone confirms the slot no further than orders' position, so orders' change
  // made meanwhile is still there for the next full sync.
  source("UPDATE orders SET amount = 44 WHERE id = 4;");
  source("UPDATE items SET qty = 7 WHERE id = 1;");
  SyncOptions only_items;
  only_items.only_streams = {"public.items"};
  auto fourth = sync(both, only_items);
  ASSERT_TRUE(fourth.ok()) << fourth.error().to_string();
  ASSERT_EQ(fourth->streams.size(), 1u);
  EXPECT_EQ(fourth->streams[0].rows, 1u);
  EXPECT_LE(lsn_value(confirmed_flush()), lsn_value(position("public.orders")));
  SyncReport fifth = sync_ok(both);
  EXPECT_EQ(fifth.streams[0].rows, 0u);
  EXPECT_EQ(fifth.streams[1].rows, 1u);
  EXPECT_EQ(bronze_rows("SELECT amount FROM bronze.orders WHERE id = 4")[0][0], "44");
  EXPECT_EQ(bronze_rows("SELECT qty FROM bronze.items WHERE id = 1")[0][0], "7");
}

// A sync that fails before its warehouse commit (here: bronze refuses a row) commits nothing and
// confirms nothing: the next sync reads the same changes again, once.
TEST_F(Cdc, AFailureBeforeTheCommitReadsTheSameChangesAgain) {
  use_postgres_destination();
  make_items();
  const std::string conn = items_connection("incremental_dedup");
  sync_ok(conn);
  const std::string before = state_lsn();
  warehouse_pg_->execute("ALTER TABLE bronze.items ADD CONSTRAINT small CHECK (qty < 1000)", warehouse_db_);
  source("INSERT INTO items VALUES (7, 'big', 5000); UPDATE items SET name = 'one' WHERE id = 1;");
  auto failed = sync(conn);
  ASSERT_TRUE(failed.ok()) << failed.error().to_string();
  ASSERT_FALSE(failed->ok());
  EXPECT_NE(failed->streams[0].error.find("small"), std::string::npos) << failed->streams[0].error;
  EXPECT_EQ(state_lsn(), before);
  EXPECT_EQ(confirmed_flush(), before);
  EXPECT_EQ(bronze_rows("SELECT name FROM bronze.items WHERE id = 1")[0][0], "n1");

  warehouse_pg_->execute("ALTER TABLE bronze.items DROP CONSTRAINT small", warehouse_db_);
  SyncReport again = sync_ok(conn);
  EXPECT_EQ(again.streams[0].rows, 2u);
  EXPECT_EQ(dump(bronze_rows("SELECT id, name, qty FROM bronze.items WHERE id IN (1, 7) ORDER BY id")),
            "1 | one | 1 | \n7 | big | 5000 | \n");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "6");
  EXPECT_NE(state_lsn(), before);
  EXPECT_EQ(state_lsn(), confirmed_flush());
}

// `strata sync` killed (SIGKILL) after it read the changes, while its merge waits for a lock in
// bronze: nothing committed, nothing confirmed; the next sync reads the same changes, once.
TEST_F(Cdc, AKilledSyncReadsTheSameChangesAgain) {
  use_postgres_destination();
  make_items();
  const std::string conn = items_connection("incremental_dedup");
  sync_ok(conn);
  const std::string before = state_lsn();
  source("INSERT INTO items VALUES (8, 'n8', 8); DELETE FROM items WHERE id = 1;");
  auto locker = pg::Connection::connect(warehouse_pg_->conninfo(warehouse_db_));
  ASSERT_TRUE(locker.ok());
  ASSERT_TRUE(locker->execute("BEGIN; LOCK TABLE bronze.items IN ACCESS EXCLUSIVE MODE").ok());
  const pid_t child = spawn_strata({"sync", conn}, dir_.file("killed.out"), dir_.file("killed.err"));
  ASSERT_GT(child, 0);
  const std::string waiting = "SELECT pid FROM pg_stat_activity WHERE datname = '" + warehouse_db_ +
                              "' AND wait_event_type = 'Lock'";
  bool blocked = false;
  // Watched from a session of its own: one inside a transaction sees pg_stat_activity as it was
  // when the transaction began.
  auto watcher = pg::Connection::connect(warehouse_pg_->conninfo(warehouse_db_));
  ASSERT_TRUE(watcher.ok());
  for (int i = 0; i < 300 && !blocked; ++i) {
    auto r = watcher->exec(waiting);
    blocked = r.ok() && r->rows() > 0;
    if (!blocked) ::usleep(100000);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(blocked) << "the sync never reached its merge (status " << status
                       << "): " << slurp(dir_.file("killed.out")) << slurp(dir_.file("killed.err"));
  // The killed client's session would go on once the lock is free: end it as a lost client's ends.
  ASSERT_TRUE(watcher->execute("SELECT pg_terminate_backend(pid) FROM (" + waiting + ") w").ok());
  ASSERT_TRUE(locker->execute("ROLLBACK").ok());
  EXPECT_EQ(state_lsn(), before);
  EXPECT_EQ(confirmed_flush(), before);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items WHERE id = 8")[0][0], "0");

  SyncReport again = sync_ok(conn);
  EXPECT_EQ(again.streams[0].rows, 2u);
  EXPECT_EQ(dump(bronze_rows("SELECT id, name, _strata_deleted_at IS NOT NULL FROM bronze.items WHERE id IN (1, 8) "
                             "ORDER BY id")),
            "1 | <NULL> | true | \n8 | n8 | false | \n");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.items")[0][0], "6");
  EXPECT_EQ(state_lsn(), confirmed_flush());
}

// Every type the binary decoder reads, inserted after the snapshot so that it arrives through
// pgoutput (binary 'true'), equals the source value by value; the types it cannot decode from
// their binary form are left out with columns: […], as the error says.
TEST_F(Cdc, EveryDecodedTypeRoundTripsThroughPgoutput) {
  create_scalars_schema();
  source("CREATE PUBLICATION pub FOR TABLE t");
  const std::string columns =
      "id, b, i2, i4, i8, f4, f8, n, n2, nu, m, tx, vc, ch, nm, e, p, bya, d, tm, ttz, ts, tstz, iv, u, j, jb";
  std::string path = write_connection("streams:\n  - name: public.t\n    columns: [" + columns + "]\n", "src", cdc_source());
  sync_ok(path);
  insert_scalars_rows();  // extremes, NULLs and 1 MB values
  SyncReport changes = sync_ok(path);
  EXPECT_EQ(changes.streams[0].rows, 4u);
  expect_same(
      "SELECT id, CASE WHEN b THEN 'true' WHEN NOT b THEN 'false' END, i2, i4, i8, n, n2, nu, m::numeric, tx, vc, ch, nm,"
      " e::text, p, encode(bya, 'hex'), d, tm, ttz, ts, tstz, iv, u, j, jb FROM t WHERE id <> 2 ORDER BY id",
      "SELECT id, b, i2, i4, i8, n, n2, nu, m, tx, vc, ch, nm, e, p, lower(hex(bya)), d, tm, ttz, ts, tstz, iv, u, j, jb"
      " FROM bronze.t WHERE id <> 2 ORDER BY id", 21);
  expect_same(
      "SELECT id, i2, i4, i8, n, n2, nu, m::numeric, tx, d, tm, ttz, tstz, iv, u, j, jb FROM t WHERE id = 2",
      "SELECT id, i2, i4, i8, n, n2, nu, m, tx, d, tm, ttz, tstz, iv, u, j, jb FROM bronze.t WHERE id = 2", 13);
  EXPECT_EQ(dump(bronze_rows("SELECT f4 = 1.5, f8 = -2.25e300 FROM bronze.t WHERE id = 1")), "true | true | \n");
  // An update that leaves a TOASTed value alone: PostgreSQL does not send it, and the value is
  // carried over from bronze's row.
  source("UPDATE t SET i2 = 7 WHERE id = 4");
  SyncReport update = sync_ok(path);
  EXPECT_TRUE(update.streams[0].warnings.empty()) << report_to_text(update);
  expect_same("SELECT id, i2, md5(tx), md5(encode(bya, 'hex')) FROM t WHERE id = 4",
              "SELECT id, i2, md5(tx), md5(lower(hex(bya))) FROM bronze.t WHERE id = 4", 0);
}

// Updates that leave TOASTed values (text, jsonb, text[], bytea, stored out of line) alone: pgoutput
// sends them as "unchanged", and bronze gets them from the key's previous version, in the same
// read (an earlier update, a re-insert) or in bronze (a table, then a merge-on-read base and
// delta), for incremental_dedup and incremental_append, in DuckDB and in a PostgreSQL warehouse.
// Without a key they stay NULL and the report warns.
TEST_F(Cdc, UnchangedToastedValuesComeFromThePreviousVersion) { check_unchanged_toast(); }
TEST_F(Cdc, UnchangedToastedValuesComeFromThePreviousVersionInPostgres) {
  use_postgres_destination();
  check_unchanged_toast();
}

// A sync of several streams decodes the WAL once: the first stream's read records what the slot
// sends, from the smallest of the streams' positions, and the others replay it, each from its own
// position (here one stream is ahead after a --stream sync): every change lands once, in its
// stream only. PostgreSQL's pg_stat_replication_slots counts the transactions the slot decoded.
TEST_F(Cdc, ASyncDecodesTheWalOnceForAllStreams) {
  source("CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text);"
         "CREATE TABLE c (id int PRIMARY KEY, v text); CREATE PUBLICATION pub FOR TABLE a, b, c;");
  std::string streams = "streams:\n";
  for (const char* t : {"a", "b", "c"}) streams += std::string("  - name: public.") + t + "\n    sync_mode: incremental_append\n";
  const std::string conn = write_connection(streams, "src", cdc_source());
  sync_ok(conn);
  auto change = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string n = std::to_string(i);
      source("INSERT INTO a VALUES (" + n + ", 'a" + n + "'); INSERT INTO b VALUES (" + n + ", 'b" + n +
             "'); INSERT INTO c VALUES (" + n + ", 'c" + n + "')");
    }
  };
  change(0, 3);
  SyncOptions only_a;
  only_a.only_streams = {"public.a"};
  ASSERT_TRUE(sync(conn, only_a).ok());
  change(3, 10);
  // The slot's decoded transactions, once the walsender's statistics reached the view.
  auto decoded = [&] {
    std::string last = "?";
    for (int i = 0; i < 50; ++i) {
      Rows r = source_rows("SELECT coalesce(sum(total_txns), 0) FROM pg_stat_replication_slots WHERE slot_name = '" +
                           slot_ + "'");
      const std::string now = r.empty() ? "" : r[0][0];
      if (now == last) break;
      last = now;
      ::usleep(100000);
    }
    return std::stoll(last);
  };
  const long long before = decoded();
  SyncReport report = sync_ok(conn);
  ASSERT_EQ(report.streams.size(), 3u);
  EXPECT_EQ(report.streams[0].rows, 7u);  // a: after its own --stream sync
  EXPECT_EQ(report.streams[1].rows, 10u);
  EXPECT_EQ(report.streams[2].rows, 10u);
  for (const char* t : {"a", "b", "c"}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(dump(bronze_rows(std::string("SELECT count(*), count(DISTINCT id), min(v), max(v) FROM bronze.") + t)),
              std::string("10 | 10 | ") + t + "0 | " + t + "9 | \n");
  }
  // 10 transactions (3 of them before a's position) and the sync's marker: read three times,
  // once per stream, they would count about 33.
  const long long txns = decoded() - before;
  EXPECT_GE(txns, 11);
  EXPECT_LE(txns, 14);
}

// Types the snapshot read turns into text on the source (inet, cidr, macaddr, tsvector, ranges,
// geometric, citext, xml, bit strings, domains over them, arrays of them) arrive from pgoutput in
// their binary send form; the source turns them into the same text, so a value gives the same
// bronze value whether the snapshot or a change brought it.
TEST_F(Cdc, TextReadTypesGiveTheSnapshotsValues) {
  create_scalars_schema();
  source("CREATE DOMAIN ipd AS inet;"
         "CREATE TABLE net (id int PRIMARY KEY, ips inet[], d ipd, r tstzrange[], x xml, bits varbit, ci citext);"
         "CREATE PUBLICATION pub FOR TABLE t, net");
  const std::string net_row =
      "'{10.0.0.1,::1,192.168.0.0/16,NULL}', '10.1.2.3/8', '{\"[2024-01-01 00:00+00,2024-02-01 00:00+00)\",empty}',"
      " '<a b=\"1\">x &amp; y</a>', B'1011001', 'MiXeD'";
  source("INSERT INTO net VALUES (1, " + net_row + "), (2, NULL, NULL, '{}', NULL, B'', NULL)");
  const std::string path = write_connection(
      "streams:\n  - name: public.t\n  - name: public.net\n", "src", cdc_source());
  sync_ok(path);
  // The same values again, as changes: inserts, and an update of the snapshot's row 2.
  insert_scalars_rows();
  source("INSERT INTO net VALUES (3, " + net_row + "); UPDATE net SET bits = B'0', ci = 'x' WHERE id = 2");
  SyncReport changes = sync_ok(path);
  ASSERT_EQ(changes.streams.size(), 2u);
  EXPECT_EQ(changes.streams[0].rows, 4u);
  EXPECT_EQ(changes.streams[1].rows, 2u);
  for (const StreamReport& stream : changes.streams) EXPECT_TRUE(stream.warnings.empty()) << report_to_text(changes);
  expect_same("SELECT id, ci::text, abbrev(ip), cidr_::text, mac::text, tsv::text, pt::text, rng::text FROM t ORDER BY id",
              "SELECT id, ci, ip, cidr_, mac, tsv, pt, rng FROM bronze.t ORDER BY id", 4);
  // A change's values equal the snapshot's for the same source values.
  EXPECT_EQ(dump(bronze_rows("SELECT a.ips = b.ips, a.d = b.d, a.r = b.r, a.x = b.x, a.bits = b.bits, a.ci = b.ci "
                             "FROM bronze.net a, bronze.net b WHERE a.id = 1 AND b.id = 3")),
            "true | true | true | true | true | true | \n");
  EXPECT_EQ(dump(bronze_rows("SELECT ips, d, bits FROM bronze.net WHERE id = 3")),
            "[10.0.0.1, ::1, 192.168.0.0/16, NULL] | 10.1.2.3/8 | 1011001 | \n");
  EXPECT_EQ(dump(bronze_rows("SELECT ips IS NULL, r, bits, ci FROM bronze.net WHERE id = 2")), "true | [] | 0 | x | \n");
}

TEST_F(Cdc, ConfigurationErrorsAreLocated) {
  make_items();
  source("CREATE TABLE nokey (a int); CREATE TABLE unpublished (id int PRIMARY KEY);"
         "ALTER PUBLICATION pub ADD TABLE nokey");
  // In the file alone: a mode that is not incremental, a cursor, no streams list.
  auto bad_mode = load_connection_config(
      write_connection("streams:\n  - name: public.items\n    sync_mode: full_refresh_overwrite\n", "a", cdc_source()));
  ASSERT_FALSE(bad_mode.ok());
  EXPECT_EQ(bad_mode.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(bad_mode.error().where().line, 16) << bad_mode.error().to_string();
  auto cursor = load_connection_config(write_connection(
      "streams:\n  - name: public.items\n    cursor_field: qty\n", "b", cdc_source()));
  ASSERT_FALSE(cursor.ok());
  EXPECT_NE(cursor.error().message().find("no cursor_field"), std::string::npos);
  // Against the source, through the binary: exit code 2 and file:line:col.
  auto expect_error = [&](const std::string& name, const std::string& streams, const std::string& source_extra,
                          const std::string& message, int line) {
    const std::string path = write_connection(streams, name, source_extra);
    std::string out, err;
    EXPECT_EQ(run_strata({"sync", path}, &out, &err), 2) << err;
    EXPECT_NE(err.find(message), std::string::npos) << err;
    EXPECT_NE(err.find(name + ".yml:" + std::to_string(line) + ":"), std::string::npos) << err;
  };
  const std::string items = "streams:\n  - name: public.items\n";
  expect_error("nopub", items, "  replication: cdc\n  publication: nope\n", "publication 'nope' does not exist", 9);
  expect_error("notin", "streams:\n  - name: public.unpublished\n", cdc_source(), "is not in publication 'pub'", 15);
  expect_error("nokey", "streams:\n  - name: public.nokey\n    sync_mode: incremental_append\n", cdc_source(),
               "has no primary key", 15);
  // A slot dropped under streams that recorded positions in it: their changes since are lost.
  const std::string conn = items_connection("incremental_dedup");
  sync_ok(conn);
  source("SELECT pg_drop_replication_slot('" + slot_ + "')");
  std::string out, err;
  EXPECT_EQ(run_strata({"sync", conn}, &out, &err), 2) << err;
  EXPECT_NE(err.find("replication slot '" + slot_ + "' does not exist"), std::string::npos) << err;
  EXPECT_NE(err.find("--full-refresh"), std::string::npos) << err;
  // The hint works: a full refresh creates the slot again and reads every stream again.
  EXPECT_EQ(run_strata({"sync", conn, "--full-refresh"}, &out, &err), 0) << err;
  EXPECT_EQ(state_lsn(), confirmed_flush());
}

TEST(CdcWalLevel, ASourceWithoutLogicalWalLevelIsAConfigurationError) {
  // A cluster of its own: the shared one runs with wal_level = logical.
  strata::testing::PgCluster replica_level(strata::testing::PgCluster::Settings{"replica"});
  replica_level.create_database("src");
  replica_level.execute("CREATE TABLE items (id int PRIMARY KEY)", "src");
  strata::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/connections");
  const std::string path = dir.path() + "/connections/src.yml";
  std::ofstream(path) << "source:\n  type: postgres\n  host: 127.0.0.1\n  port: " << replica_level.port()
                      << "\n  database: src\n  user: postgres\n  sslmode: disable\n  replication: cdc\n"
                         "destination:\n  duckdb_path: w.duckdb\nstreams:\n  - public.items\n";
  auto config = load_connection_config(path);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  auto db = warehouse::open_duckdb(dir.path() + "/w.duckdb");
  ASSERT_TRUE(db.ok());
  auto r = run_sync(*config, **db, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(r.error().where().line, 8) << r.error().to_string();
  EXPECT_NE(r.error().message().find("wal_level is replica"), std::string::npos) << r.error().to_string();
}

}  // namespace
}  // namespace strata::ingest::testing
