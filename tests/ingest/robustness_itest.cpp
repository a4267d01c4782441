// Consistency and failure handling: a parallel read under concurrent updates, SIGKILL of the sync
// process at many points, hostile names, bad configuration files (located errors, exit code 2), and
// the source going away mid-sync.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ingest_fixture.h"

extern char** environ;

namespace strata::ingest::testing {
namespace {

class Robustness : public IngestTest {
 protected:
  void sigkill_trials();
  void hostile_names();
  void source_gone_mid_sync();
};

TEST_F(Robustness, ParallelReadUnderConcurrentUpdatesEqualsOneSnapshot) {
  constexpr int kRows = 60000;
  source("CREATE TABLE accounts (id int PRIMARY KEY, bal int NOT NULL, seq int NOT NULL, pad text);"
         "INSERT INTO accounts SELECT g, 1000, 0, repeat('p', 200) FROM generate_series(1, " + std::to_string(kRows) +
         ") g;");
  source("VACUUM ANALYZE accounts");
  std::string conn = write_connection("streams:\n  - name: public.accounts\n    parallelism: 4\n");
  // One writer moves money between random accounts, one transfer per transaction, stamping both
  // rows with the transfer's number (so rows also move to other pages while the parallel read
  // runs). A consistent read sees exactly transfers 1..N for some N.
  std::atomic<bool> stop{false};
  std::vector<std::pair<int, int>> transfers;  // written by the writer thread, read after join()
  std::thread writer([&] {
    auto c = pg::Connection::connect(pg_->conninfo(db_name_));
    ASSERT_TRUE(c.ok());
    unsigned seed = 7;
    while (!stop.load()) {
      int a = static_cast<int>(rand_r(&seed) % kRows) + 1, b = static_cast<int>(rand_r(&seed) % kRows) + 1;
      std::string k = std::to_string(transfers.size() + 1);
      auto s = c->execute("BEGIN; UPDATE accounts SET bal = bal - 1, seq = " + k + " WHERE id = " + std::to_string(a) +
                          "; UPDATE accounts SET bal = bal + 1, seq = " + k + " WHERE id = " + std::to_string(b) +
                          "; COMMIT;");
      if (s.ok()) transfers.emplace_back(a, b);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto r = sync(conn);
  stop = true;
  writer.join();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->ok()) << report_to_text(*r);
  EXPECT_EQ(r->streams[0].parallelism, 4);
  // Replay transfers 1..N (N = the newest one bronze saw) and compare every row exactly.
  const int seen = std::stoi(bronze_rows("SELECT max(seq) FROM bronze.accounts")[0][0]);
  EXPECT_GT(static_cast<int>(transfers.size()), seen) << "the writer made no update after the read's snapshot";
  EXPECT_GT(seen, 0) << "the writer made no update before the read's snapshot";
  std::vector<int> bal(kRows + 1, 1000), seq(kRows + 1, 0);
  for (int k = 1; k <= seen && k <= static_cast<int>(transfers.size()); ++k) {
    auto [a, b] = transfers[static_cast<size_t>(k - 1)];
    bal[a] -= 1;
    bal[b] += 1;
    seq[a] = seq[b] = k;
  }
  Rows want;
  for (int id = 1; id <= kRows; ++id) want.push_back({std::to_string(id), std::to_string(bal[id]), std::to_string(seq[id])});
  Rows got = bronze_rows("SELECT id, bal, seq FROM bronze.accounts ORDER BY id");
  ASSERT_EQ(got.size(), want.size());
  size_t differ = 0;
  for (size_t i = 0; i < want.size(); ++i) differ += got[i] == want[i] ? 0 : 1;
  EXPECT_EQ(differ, 0u) << "rows differ from the snapshot after transfer " << seen;
}

TEST_F(Robustness, SigkillAtManyPointsLosesAndDuplicatesNothing) { sigkill_trials(); }

TEST_F(Robustness, SigkillAtManyPointsIntoPostgresLosesAndDuplicatesNothing) {
  use_postgres_destination();
  sigkill_trials();
}

void Robustness::sigkill_trials() {
  source("CREATE TABLE items (id int PRIMARY KEY, v int, note text, updated_at timestamptz NOT NULL DEFAULT now());"
         "INSERT INTO items SELECT g, g, repeat('n', 50), now() FROM generate_series(1, 40000) g;"
         "CREATE TABLE log (id int PRIMARY KEY, v int, updated_at timestamptz NOT NULL DEFAULT now());"
         "INSERT INTO log SELECT g, g, now() FROM generate_series(1, 20000) g;"
         "CREATE TABLE snap (id int, v int); INSERT INTO snap SELECT g, g FROM generate_series(1, 20000) g;");
  std::string conn = write_connection(
      "streams:\n"
      "  - name: public.items\n    sync_mode: incremental_dedup\n    cursor_field: updated_at\n"
      "  - name: public.log\n    sync_mode: incremental_append\n    cursor_field: updated_at\n"
      "  - name: public.snap\n    sync_mode: full_refresh_overwrite\n");
  const std::vector<std::string> args = {"sync", conn};
  // How long an uninterrupted sync takes (the first one loads everything).
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run_strata(args), 0);
  double full_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  constexpr int kTrials = 22;
  int killed_running = 0;
  int checked_views = 0;  // checks that found bronze.items merge-on-read
  for (int trial = 0; trial < kTrials; ++trial) {
    // Change the source: updates, inserts, deletes, and a full table rewrite for the snapshot stream.
    // items: about 2 % of the rows per trial, so its bronze goes through every merge-on-read step
    // (a table becoming base and delta, appends to the delta, compactions, full refreshes).
    source("UPDATE items SET v = v + 1, updated_at = clock_timestamp() WHERE id % 53 = " + std::to_string(trial) +
           "; INSERT INTO items VALUES (" + std::to_string(100000 + trial) + ", 0, 'new', clock_timestamp());"
           "UPDATE log SET v = v + 1, updated_at = clock_timestamp() WHERE id % 11 = " + std::to_string(trial % 11) +
           "; UPDATE snap SET v = v + 1 WHERE id % 5 = " + std::to_string(trial % 5) + ";");
    // A fresh full refresh every few trials so the kill also lands in the longer phases.
    std::vector<std::string> a = args;
    if (trial % 4 == 3) a.push_back("--full-refresh");
    pid_t pid = spawn_strata(a);
    int delay_ms = static_cast<int>(full_ms * (0.05 + 0.95 * trial / kTrials));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    if (::kill(pid, SIGKILL) == 0) ++killed_running;
    int status = 0;
    ::waitpid(pid, &status, 0);
    // Every few kills, re-run to completion and check; otherwise the next trial runs on top.
    if (trial % 2 == 1 || trial == kTrials - 1) {
      std::string out, err;
      ASSERT_EQ(run_strata(args, &out, &err), 0) << "trial " << trial << "\n" << out << err;
      checked_views += bronze_rows("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'"
                                   " AND table_name = 'items' AND table_type = 'VIEW'")[0][0] == "1";
      EXPECT_EQ(bronze_rows("SELECT id, v FROM bronze.items ORDER BY id"),
                source_rows("SELECT id, v FROM items ORDER BY id")) << "trial " << trial;
      EXPECT_EQ(bronze_rows("SELECT count(*) - count(DISTINCT (id, updated_at)) FROM bronze.log")[0][0], "0")
          << "duplicate rows in the append stream, trial " << trial;
      EXPECT_EQ(bronze_rows("SELECT count(*) FROM (SELECT DISTINCT id, v FROM bronze.log) t")[0][0],
                bronze_rows("SELECT count(*) FROM bronze.log")[0][0]);
      EXPECT_EQ(bronze_rows("SELECT id, v FROM bronze.snap ORDER BY id"),
                source_rows("SELECT id, v FROM snap ORDER BY id")) << "trial " << trial;
      // Every current source version of the append stream is in bronze (nothing lost).
      Rows latest = bronze_rows("SELECT id, max(v) FROM bronze.log GROUP BY id ORDER BY id");
      EXPECT_EQ(latest, source_rows("SELECT id, v FROM log ORDER BY id")) << "trial " << trial;
    }
  }
  EXPECT_GE(killed_running, 20) << "too few kills hit a running sync";
  // DuckDB keeps incremental_dedup bronze merge-on-read; PostgreSQL merges in place.
  if (!postgres_destination()) {
    EXPECT_GT(checked_views, 0) << "bronze.items was never merge-on-read when checked";
  }
}

TEST_F(Robustness, AnInterruptStopsTheReadAndKeepsTheReportOfWhatCommitted) {
  source("CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small SELECT generate_series(1, 10);"
         "CREATE TABLE big (id int PRIMARY KEY, pad text);"
         "INSERT INTO big SELECT g, repeat('x', 500) FROM generate_series(1, 400000) g;");
  const std::string conn = write_connection("streams:\n  - name: public.small\n  - name: public.big\n");
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
    const std::string out_file = dir_.file("int.out"), err_file = dir_.file("int.err");
    pid_t pid = spawn_strata({"sync", conn, "--full-refresh"}, out_file, err_file);
    // Interrupt once big's COPY runs (small is committed by then).
    bool copying = false;
    for (int i = 0; i < 600 && !copying; ++i) {
      copying = source_rows("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%big%' AND pid <> "
                            "pg_backend_pid()")[0][0] != "0";
      if (!copying) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(copying) << slurp(err_file);
    ASSERT_EQ(::kill(pid, sig), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    const std::string out = slurp(out_file), err = slurp(err_file);
    ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status) << "\n" << out << err;
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig) << out << err;  // 130 or 143, as a shell reports it
    EXPECT_NE(out.find("public.small -> bronze.small  [full_refresh_overwrite]  10 rows"), std::string::npos) << out;
    EXPECT_NE(out.find("public.big -> bronze.big  [full_refresh_overwrite]  FAILED"), std::string::npos) << out;
    EXPECT_NE(err.find("sync interrupted: 1 of 2 streams committed"), std::string::npos) << err;
    // The report is stored with the stream that committed.
    const std::string sync_id = out.substr(5, out.find(' ', 5) - 5);
    EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/.strata/syncs/" + sync_id + ".json")) << sync_id;
  }
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.tables WHERE table_name = 'big'")[0][0], "0");
  ASSERT_EQ(run_strata({"sync", conn}), 0);
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.big")[0],
            (std::vector<std::string>{"400000", "400000"}));
}

TEST_F(Robustness, AnInterruptStopsASyncThatPostgresMakesWait) {
  source("CREATE TABLE held (id int); INSERT INTO held VALUES (1)");
  const std::string conn = write_connection("streams:\n  - name: public.held\n");
  // Another session holds the table: discovery (its size) and the read would wait for it.
  auto holder = pg::Connection::connect(pg_->conninfo(db_name_));
  ASSERT_TRUE(holder.ok()) << holder.error().to_string();
  ASSERT_TRUE(holder->execute("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE").ok());
  const std::string out_file = dir_.file("held.out"), err_file = dir_.file("held.err");
  pid_t pid = spawn_strata({"sync", conn}, out_file, err_file);
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {
    waiting = source_rows("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                          "application_name LIKE 'strata%'")[0][0] != "0";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(waiting) << slurp(err_file);
  const auto interrupted = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  // It stopped while the lock is still held, in far less than the watcher's 20 s grace.
  EXPECT_LT(std::chrono::steady_clock::now() - interrupted, std::chrono::seconds(10));
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(out_file) << slurp(err_file);
  EXPECT_NE(slurp(err_file).find("cancel"), std::string::npos) << slurp(err_file);
  ASSERT_TRUE(holder->execute("COMMIT").ok());
  ASSERT_EQ(run_strata({"sync", conn}), 0);
}

TEST_F(Robustness, ATerminalShowsProgressAndItsLinesEnd) {
  source("CREATE TABLE items (id int PRIMARY KEY, ts timestamptz NOT NULL);"
         "INSERT INTO items SELECT g, '2024-01-01'::timestamptz + g * interval '1 s' FROM generate_series(1, 3000) g;"
         "ANALYZE items");
  const std::string conn = write_connection(
      "streams:\n  - name: public.items\n    sync_mode: incremental_append\n    cursor_field: ts\n");
  // script(1) gives the command a terminal; its output is what the terminal shows.
  auto on_terminal = [&](const std::string& args) {
    const std::string out_file = dir_.file("tty.out");
    const std::string cmd = "script -qec \"" + std::string(STRATA_BINARY_DIR) + "/strata sync '" + conn + "' " +
                            args + "\" /dev/null >" + out_file + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << slurp(out_file);
    return slurp(out_file);
  };
  std::string first = on_terminal("");
  // Each progress line is rewritten in place, ends with the stream, and the report follows it.
  EXPECT_NE(first.find("\r\033[Kpublic.items  3000 rows  "), std::string::npos) << first;
  EXPECT_NE(first.find(" MB/s\r\nsync "), std::string::npos) << first;
  // An incremental read shows no share of the table's estimate.
  source("INSERT INTO items VALUES (3001, '2025-01-01')");
  std::string second = on_terminal("");
  EXPECT_NE(second.find("public.items  2 rows"), std::string::npos) << second;
  EXPECT_EQ(second.find('%'), std::string::npos) << second;
}

TEST_F(Robustness, HostileNames) { hostile_names(); }

TEST_F(Robustness, HostileNamesIntoPostgres) {
  use_postgres_destination();
  hostile_names();
}

void Robustness::hostile_names() {
  source(R"sql(
    CREATE SCHEMA "we""ird; sch";
    CREATE TABLE "we""ird; sch"."tab le;""x""" ("co""l ü;" int PRIMARY KEY, "Sel ect" text, "upd;at" timestamp);
    INSERT INTO "we""ird; sch"."tab le;""x""" VALUES (1, 'a', '2024-01-01'), (2, 'b''; DROP TABLE x; --', '2024-01-02');
  )sql");
  std::string conn = write_connection(
      "streams:\n  - name: \"we\\\"ird; sch.tab le;\\\"x\\\"\"\n    sync_mode: incremental_dedup\n"
      "    cursor_field: \"upd;at\"\n");
  auto r = sync(conn);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->ok()) << report_to_text(*r);
  source(R"sql(UPDATE "we""ird; sch"."tab le;""x""" SET "Sel ect" = 'c', "upd;at" = '2024-02-01' WHERE "co""l ü;" = 1)sql");
  auto r2 = sync(conn);
  ASSERT_TRUE(r2.ok() && r2->ok());
  EXPECT_EQ(bronze_rows(R"sql(SELECT "co""l ü;", "Sel ect", "upd;at" FROM bronze."we""ird; sch_tab le;""x""" ORDER BY 1)sql"),
            source_rows(R"sql(SELECT "co""l ü;", "Sel ect", "upd;at" FROM "we""ird; sch"."tab le;""x""" ORDER BY 1)sql"));
}

struct BadConfig {
  std::string body;
  std::string message;  // expected in stderr
  int line;             // expected position
};

TEST_F(Robustness, BadConfigsAreLocatedErrorsWithExitCode2) {
  source("CREATE TABLE t (id int PRIMARY KEY, ts timestamptz, n text); CREATE TABLE nokey (a int, ts timestamptz);"
         "CREATE SCHEMA other; CREATE TABLE other.orders (id int); CREATE TABLE other_orders (id int);"
         "CREATE TABLE \"Camel\" (id int); CREATE TABLE camel (id int); CREATE TABLE meta (id int, _Strata_meta text);"
         "CREATE TABLE rid (rowid int PRIMARY KEY, ts timestamptz)");
  const std::vector<BadConfig> cases = {
      // Two streams landing in one bronze table (the second one's rows would replace the first's).
      {"streams:\n  - name: public.other_orders\n  - name: other.orders\n",
       "would both land in bronze table other_orders", 13},
      {"streams:\n  - name: public.Camel\n  - name: camel\n", "would both land in bronze table camel", 13},
      {"streams:\n  - name: public.meta\n", "is named like Strata's own bronze columns", 12},
      {"streams:\n  - name: public.t\n    bronze_table: _strata_state\n", "bronze_table '_strata_state' is not allowed",
       13},
      {"streams:\n  - name: public.rid\n    sync_mode: incremental_dedup\n    cursor_field: ts\n",
       "hides DuckDB's rowid", 13},
      {"streams:\n  - name: public.t\n    sync_mode: incremental_dedup\n    cursor_field: ts\n    primary_key: []\n",
       "primary_key is empty", 15},
      {"streams: []\n", "streams: lists no table", 11},
      {"streams:\n  - name: public.missing\n", "unknown table public.missing", 12},
      {"streams:\n  - name: public.nokye\n", "did you mean public.nokey?", 12},
      {"streams:\n  - name: public.t\n    sync_mode: incremental_append\n    cursor_field: nope\n",
       "cursor_field 'nope' is not a column", 14},
      {"streams:\n  - name: public.nokey\n    sync_mode: incremental_dedup\n    cursor_field: ts\n",
       "needs a primary key", 13},
      {"streams:\n  - name: public.t\n    sync_mode: incremental_sometimes\n", "unknown sync_mode", 13},
      {"streams:\n  - name: public.t\n    sync_mod: full_refresh_append\n",
       "hint: did you mean 'sync_mode'?", 13},
      {"streams:\n  - name: public.t\n    sync_mode: Incremental_Append\n", "did you mean 'incremental_append'?", 13},
      {"streams:\n  - name: public.t\n    sync_mode: incremental_append\n", "needs a cursor_field", 12},
      {"streams:\n  - name: public.t\n    sync_mode: incremental_append\n    cursor_field: n\n",
       "a cursor must be an integer, date or timestamp", 14},
      {"schema_changes: sometimes\n", "unknown schema_changes", 11},
  };
  for (const BadConfig& c : cases) {
    std::string path = write_connection(c.body);
    std::string out, err;
    EXPECT_EQ(run_strata({"sync", path}, &out, &err), 2) << c.body << err;
    // The warehouse it would have created is not left behind, empty.
    EXPECT_FALSE(std::filesystem::exists(duckdb_path())) << c.body;
    EXPECT_NE(err.find(c.message), std::string::npos) << err;
    EXPECT_NE(err.find("src.yml:" + std::to_string(c.line) + ":"), std::string::npos) << c.body << "\n" << err;
    EXPECT_EQ(err.find("terminate"), std::string::npos) << err;
  }
  // CDC without a streams list: an error at replication: (source block, line 8).
  {
    std::string path = write_connection("", "cdc", "  replication: cdc\n");
    std::string out, err;
    EXPECT_EQ(run_strata({"sync", path}, &out, &err), 2) << err;
    EXPECT_NE(err.find("replication: cdc needs a streams: list"), std::string::npos) << err;
    EXPECT_NE(err.find("cdc.yml:8:"), std::string::npos) << err;
  }
  // A broken env_var call is an error at its value, not a database name.
  {
    std::string path = write_connection("", "tpl", "  password: \"{{ env_var('PGPASS' }}\"\n");
    std::string out, err;
    EXPECT_EQ(run_strata({"sync", path}, &out, &err), 2) << err;
    EXPECT_NE(err.find("is not a valid env_var call"), std::string::npos) << err;
    EXPECT_NE(err.find("tpl.yml:8:"), std::string::npos) << err;
  }
  // A schema the source does not have is an error at schemas:, also beside one it has.
  {
    std::string path = write_connection("", "none", "  schemas: [public, othre]\n");
    std::string out, err;
    EXPECT_EQ(run_strata({"sync", path}, &out, &err), 2) << err;
    EXPECT_NE(err.find("none.yml:8:12: error: schema 'othre' is not in the source"), std::string::npos) << err;
    EXPECT_NE(err.find("did you mean other?"), std::string::npos) << err;
  }
  // Schemas that hold no table: nothing to sync is an error, not a success.
  {
    source("CREATE SCHEMA empty");
    std::string path = write_connection("", "empty", "  schemas: [empty]\n");
    std::string out, err;
    EXPECT_EQ(run_strata({"sync", path}, &out, &err), 2) << err;
    EXPECT_NE(err.find("the source has no table to sync"), std::string::npos) << err;
  }
  // A password never shows, even in a connection error.
  std::string bad_port = dir_.file("connections/bad.yml");
  {
    std::ofstream f(bad_port);
    f << "source:\n  type: postgres\n  host: 127.0.0.1\n  port: 1\n  database: x\n  user: u\n"
         "  password: \"{{ env_var('STRATA_TEST_PG_PASSWORD') }}\"\n"
         "destination:\n  duckdb_path: new/deeper/w.duckdb\n";
  }
  ::setenv("STRATA_TEST_PG_PASSWORD", "s3cret-Pa55word", 1);
  std::string out, err;
  EXPECT_EQ(run_strata({"sync", bad_port}, &out, &err), 3) << err;
  EXPECT_EQ((out + err).find("s3cret-Pa55word"), std::string::npos) << err;
  // The warehouse opened (and was created) while the source was being reached: it is removed
  // again, with the folders made for it.
  EXPECT_FALSE(std::filesystem::exists(dir_.file("new"))) << err;
}

// The streams of a sync share the connection that discovered the catalog; one that the server
// dropped between two streams (a restart) is replaced, not reported as a failure.
TEST_F(Robustness, ASourceRestartBetweenStreamsIsNotAFailure) {
  source("CREATE TABLE first (id int PRIMARY KEY); INSERT INTO first SELECT generate_series(1, 10);"
         "CREATE TABLE second (id int PRIMARY KEY); INSERT INTO second SELECT generate_series(1, 20);");
  std::string conn = write_connection("streams:\n  - name: public.first\n  - name: public.second\n");
  SyncOptions options;
  int restarts = 0;
  options.on_progress = [&](const std::string& stream, uint64_t, uint64_t, double, double, bool done) {
    if (stream == "public.first" && done && restarts++ == 0) pg_->restart();
  };
  auto report = sync(conn, options);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_TRUE(report->ok()) << report_to_text(*report);
  EXPECT_EQ(restarts, 1);
  EXPECT_EQ(bronze_rows("SELECT (SELECT count(*) FROM bronze.first), (SELECT count(*) FROM bronze.second)")[0],
            (std::vector<std::string>{"10", "20"}));
}

// strata sync opens the destination while the source is discovered: both halves' errors surface
// (the destination's first), and a good sync hands the opened database back to the caller.
TEST_F(Robustness, OpeningTheDestinationWhileDiscoveringReportsEitherFailure) {
  source("CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 5);");
  auto config = load_connection_config(write_connection("streams:\n  - name: public.items\n"));
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  const ingest::DatabaseOpener open = [&] { return warehouse::open_duckdb(duckdb_path()); };
  const ingest::DatabaseOpener fail = [] {
    return Result<std::unique_ptr<warehouse::Database>>(Error(ErrorCode::kConfig, "no destination here"));
  };
  std::unique_ptr<warehouse::Database> db;
  auto good = run_sync(*config, open, {}, db);
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_TRUE(good->ok());
  ASSERT_NE(db, nullptr);
  auto session = db->connect();
  ASSERT_TRUE(session.ok());
  auto rows = (*session)->query("SELECT count(*) FROM bronze.items");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->cell_text(0, 0), "5");
  session->reset();
  db.reset();

  auto no_destination = run_sync(*config, fail, {}, db);
  ASSERT_FALSE(no_destination.ok());
  EXPECT_EQ(no_destination.error().message(), "no destination here");
  config->source.port = 1;  // nothing listens there
  auto neither = run_sync(*config, fail, {}, db);
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.error().message(), "no destination here");
  auto no_source = run_sync(*config, open, {}, db);
  ASSERT_FALSE(no_source.ok());
  EXPECT_EQ(no_source.error().code(), ErrorCode::kConnection) << no_source.error().to_string();
}

TEST_F(Robustness, SourceGoneMidSyncCommitsNothingForThatStream) { source_gone_mid_sync(); }

TEST_F(Robustness, SourceGoneMidSyncIntoPostgresCommitsNothingForThatStream) {
  strata::testing::PgCluster warehouse;  // the source's server restarts; the warehouse's does not
  use_postgres_destination(&warehouse);
  source_gone_mid_sync();
}

void Robustness::source_gone_mid_sync() {
  source("CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small SELECT generate_series(1, 10);"
         "CREATE TABLE big (id int PRIMARY KEY, pad text);"
         "INSERT INTO big SELECT g, repeat('x', 500) FROM generate_series(1, 300000) g;");
  std::string conn = write_connection("streams:\n  - name: public.small\n  - name: public.big\n");
  std::mutex m;
  std::condition_variable cv;
  bool reading_big = false;
  SyncOptions options;
  options.on_progress = [&](const std::string& stream, uint64_t rows, uint64_t, double, double, bool done) {
    if (stream == "public.big" && rows > 0 && !done) {
      std::lock_guard lock(m);
      reading_big = true;
      cv.notify_all();
    }
  };
  Result<SyncReport> report = Error(ErrorCode::kInternal, "not run");
  std::thread syncer([&] { report = sync(conn, options); });
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return reading_big; }));
  }
  pg_->restart();
  syncer.join();
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_EQ(report->streams.size(), 2u);
  EXPECT_TRUE(report->streams[0].ok);
  EXPECT_FALSE(report->streams[1].ok);
  EXPECT_FALSE(report->streams[1].error.empty());
  // A lost source (strata sync exits 3 when every failed stream lost it).
  EXPECT_TRUE(report->streams[1].unreachable) << report->streams[1].error;
  EXPECT_FALSE(report->streams[0].unreachable);
  // The small stream's commit stands; nothing of the big one was committed.
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.small")[0][0], "10");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'"
                        " AND table_name = 'big'")[0][0], "0");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze._strata_state WHERE stream = 'public.big'")[0][0], "0");
  auto again = sync(conn);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  ASSERT_TRUE(again->ok()) << report_to_text(*again);
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.big")[0],
            (std::vector<std::string>{"300000", "300000"}));
}

// Two syncs of one connection into one PostgreSQL bronze at once (two workers, or a CLI sync beside
// a scheduler's): the second fails at once, naming the first's session, and writes nothing; the
// first lands whole, and a sync after it succeeds.
TEST_F(Robustness, ASecondSyncOfAConnectionIntoPostgresFailsWhileTheFirstRuns) {
  use_postgres_destination();
  source("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;"
         "CREATE FUNCTION slow(i int) RETURNS int AS 'SELECT pg_sleep(0.02); SELECT i' LANGUAGE sql;"
         "CREATE VIEW slow_t AS SELECT slow(id) AS id, v FROM t;");
  const std::string conn = write_connection("streams:\n  - name: public.slow_t\n");
  Result<SyncReport> first = Error(ErrorCode::kInternal, "not run");
  std::thread running([&] { first = sync(conn); });
  auto watcher = pg::Connection::connect(warehouse_pg_->conninfo(warehouse_db_));
  ASSERT_TRUE(watcher.ok()) << watcher.error().to_string();
  auto locks = [&] {
    auto held = watcher->exec("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted");
    return held.ok() ? std::string(held->value(0, 0)) : held.error().to_string();
  };
  for (int waited = 0; waited < 10000 && locks() == "0"; waited += 20)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string held = locks();
  Result<SyncReport> second = held == "1" ? sync(conn) : Error(ErrorCode::kInternal, "not run");
  running.join();
  ASSERT_EQ(held, "1") << "the first sync never took its lock";
  ASSERT_FALSE(second.ok()) << "two syncs of one connection ran at once";
  EXPECT_NE(second.error().message().find("another sync of connection 'src' into schema 'bronze' is running "
                                          "(PostgreSQL backend "),
            std::string::npos)
      << second.error().to_string();
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_TRUE(first->ok()) << report_to_text(*first);
  EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id) FROM bronze.slow_t"),
            (Rows{{"100", "100"}}));
  auto again = sync(conn);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_TRUE(again->ok()) << report_to_text(*again);
}

}  // namespace
}  // namespace strata::ingest::testing
