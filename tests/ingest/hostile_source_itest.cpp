// Sources that work against a long read: timeouts set for the database or the role.

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

}  // namespace
}  // namespace strata::ingest::testing
