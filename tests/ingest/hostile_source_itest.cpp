// Sources that work against a long read: timeouts set for the database or the role, rows wide
// enough that a parallel read's queue of decoded batches must be bounded in bytes, and a server
// that refuses some readers of a parallel read their connection.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "ingest/extract.h"
#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

class HostileSource : public IngestTest {
 protected:
  // Compares bronze.<table> with the source's table: rows, distinct ids, text length.
  void expect_copied(const std::string& table) {
    const std::string digest = "SELECT count(*), count(DISTINCT id), sum(length(pad)) FROM ";
    EXPECT_EQ(bronze_rows(digest + "bronze." + table), source_rows(digest + table)) << table;
  }
  // write_connection, connecting as `user` (a role without a password) instead of postgres.
  std::string write_connection_as(const std::string& user, const std::string& body) {
    const std::string path = write_connection(body);
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    std::string yaml = text.str();
    yaml.replace(yaml.find("user: postgres"), 14, "user: " + user);
    std::ofstream(path) << yaml;
    return path;
  }
};

// A statement_timeout or idle_in_transaction_session_timeout set for the database (or the role)
// is meant for interactive sessions: it would cancel a long COPY, or end the parallel read's
// coordinator, which sits idle in its transaction (holding the exported snapshot) while the
// readers copy. Strata's source sessions turn both off, as pg_dump does.
TEST_F(HostileSource, TimeoutsSetForTheDatabaseDoNotCutAReadShort) {
  source("CREATE TABLE single (id int PRIMARY KEY, pad text);"
         "INSERT INTO single SELECT g, repeat('s', 400) FROM generate_series(1, 60000) g;"
         "CREATE TABLE ranges (id int PRIMARY KEY, pad text);"
         "INSERT INTO ranges SELECT g, repeat('r', 400) FROM generate_series(1, 60000) g;");
  source("ALTER DATABASE " + db_name_ + " SET statement_timeout = '20ms'");
  source("ALTER DATABASE " + db_name_ + " SET idle_in_transaction_session_timeout = '20ms'");
  // The settings hold for new sessions: a plain one is cut short by them.
  auto probe = pg::Connection::connect(pg_->conninfo(db_name_));
  ASSERT_TRUE(probe.ok()) << probe.error().to_string();
  EXPECT_FALSE(probe->execute("SELECT pg_sleep(0.2)").ok());

  std::string conn = write_connection("streams:\n  - name: public.single\n    parallelism: 1\n"
                                      "  - name: public.ranges\n    parallelism: 3\n");
  auto report = sync(conn);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_TRUE(report->ok()) << report_to_text(*report);
  EXPECT_EQ(report->streams[1].parallelism, 3);
  source("ALTER DATABASE " + db_name_ + " RESET ALL");  // for the checks' own queries
  expect_copied("single");
  expect_copied("ranges");
}

// Four readers of ~7 KB rows, decoding batches of 256 KB, while the consumer stalls: the batches
// decoded but not consumed stay within the queue's byte budget plus the one batch each reader
// and the consumer hold (a queue bounded only in batches held nine such batches).
TEST_F(HostileSource, AParallelReadOfWideRowsQueuesWithinItsByteBudget) {
  constexpr int kRows = 2000, kRowBytes = 7000, kReaders = 4;
  source("CREATE TABLE wide (id int, body text); ALTER TABLE wide ALTER COLUMN body SET STORAGE PLAIN;"
         "INSERT INTO wide SELECT g, repeat(chr(65 + g % 26), " + std::to_string(kRowBytes) +
         ") FROM generate_series(1, " + std::to_string(kRows) + ") g;");
  ReadPlan plan;
  plan.relation = "\"public\".\"wide\"";
  plan.expressions = {"\"id\"", "\"body\""};
  plan.columns = {{"id", pg::WireKind::kInt4, 0, sql::LogicalType::int32()},
                  {"body", pg::WireKind::kText, 0, sql::LogicalType::varchar()}};
  plan.parallelism = kReaders;
  plan.pages = std::stoll(source_rows("SELECT pg_relation_size('wide') / 8192")[0][0]);
  ASSERT_GE(plan.pages, kRows / 2);
  ReadProgress progress;
  ReadOptions options;
  options.conninfo = pg_->conninfo(db_name_);
  options.progress = &progress;
  options.decoder.batch_bytes = 256 << 10;
  options.queue_bytes = 512 << 10;
  uint64_t consumed = 0, most_ahead = 0;
  std::vector<int> seen(kRows + 1, 0);
  Status read = read_stream(plan, options, [&](sql::ColumnBatch&& batch) -> Status {
    if (consumed == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the readers fill up
    most_ahead = std::max(most_ahead, progress.rows.load() - consumed);
    for (size_t r = 0; r < batch.num_rows(); ++r) ++seen[static_cast<size_t>(batch.column(0).get<int32_t>(r))];
    consumed += batch.num_rows();
    return ok_status();
  });
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  EXPECT_EQ(consumed, static_cast<uint64_t>(kRows));
  EXPECT_EQ(std::count(seen.begin() + 1, seen.end(), 1), kRows) << "a row was lost or read twice";
  // Rows counted by the readers but not yet consumed: the queue's budget, plus a batch in the
  // consumer's hands and one in each reader's (blocked on the full queue).
  const uint64_t batch_rows = (options.decoder.batch_bytes + kRowBytes - 1) / kRowBytes + 1;
  const uint64_t budget_rows = options.queue_bytes / kRowBytes + (kReaders + 1) * batch_rows;
  EXPECT_LE(most_ahead, budget_rows);
  EXPECT_GT(most_ahead, batch_rows) << "the readers never ran ahead of the consumer: the check proves nothing";
}

// The database admits three sessions of a role that is no superuser: the sync's own and one held
// by another user leave room for one reader of four. The readers that cannot connect fail the
// stream at once with an error that names them and a hint about connection slots, also while the
// reader that did connect waits for a lock (it is cancelled); the streams before keep their
// commits, nothing of the failed one is committed, and a re-run with room succeeds.
TEST_F(HostileSource, AParallelReaderRefusedAConnectionFailsTheStreamAtOnce) {
  const std::string role = db_name_.substr(0, 40) + "_r";
  source("CREATE TABLE small (id int PRIMARY KEY, pad text);"
         "INSERT INTO small SELECT g, 's' FROM generate_series(1, 10) g;"
         "CREATE TABLE big (id int PRIMARY KEY, pad text);"
         "INSERT INTO big SELECT g, repeat('b', 300) FROM generate_series(1, 20000) g;"
         "DO $$ BEGIN CREATE ROLE " + role + " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
         "GRANT SELECT ON small, big TO " + role + ";");
  source("ALTER DATABASE " + db_name_ + " CONNECTION LIMIT 3");
  const std::string conn = write_connection_as(role, "streams:\n  - name: public.small\n"
                                                     "  - name: public.big\n    parallelism: 4\n");
  // Once the small stream is read, another session locks big until the sync returns (or 15 s).
  auto locker = pg::Connection::connect(pg_->conninfo(db_name_));
  ASSERT_TRUE(locker.ok()) << locker.error().to_string();
  bool locked = false;
  SyncOptions options;
  options.on_progress = [&](const std::string& stream, uint64_t, uint64_t, double, double, bool done) {
    if (stream == "public.small" && done && !locked) {
      locked = locker->execute("BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE").ok();
    }
  };
  std::promise<void> finished;
  std::thread release([&, done = finished.get_future()] {
    (void)done.wait_for(std::chrono::seconds(15));
    (void)locker->execute("COMMIT");
  });
  const auto started = std::chrono::steady_clock::now();
  auto report = sync(conn, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  finished.set_value();
  release.join();
  ASSERT_TRUE(locked);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_EQ(report->streams.size(), 2u);
  EXPECT_TRUE(report->streams[0].ok) << report->streams[0].error;
  EXPECT_FALSE(report->streams[1].ok);
  EXPECT_NE(report->streams[1].error.find("of a parallel read (parallelism 4) could not connect"), std::string::npos)
      << report->streams[1].error;
  EXPECT_NE(report->streams[1].error.find("no connection left"), std::string::npos) << report->streams[1].error;
  EXPECT_LT(seconds, 8.0) << "the failed read waited for the lock its connected reader was queued on";
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.small")[0][0], "10");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'"
                        " AND table_name = 'big'")[0][0], "0");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze._strata_state WHERE stream = 'public.big'")[0][0], "0");

  source("ALTER DATABASE " + db_name_ + " CONNECTION LIMIT -1");
  auto again = sync(conn);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  ASSERT_TRUE(again->ok()) << report_to_text(*again);
  EXPECT_EQ(again->streams[1].parallelism, 4);
  expect_copied("big");
}

}  // namespace
}  // namespace strata::ingest::testing
