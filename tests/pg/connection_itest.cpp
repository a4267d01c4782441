// Integration tests of strata::pg against a real PostgreSQL 15 (tests/support/pg_cluster.h).

#include "pg/connection.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/pg_cluster.h"

namespace strata::pg {
namespace {

using strata::testing::PgCluster;
using strata::testing::shared_pg_cluster;

class PgConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { shared_pg_cluster().create_database("pg_itest"); }

  static Connection connect_or_die(const std::string& conninfo, const ConnectOptions& options = {}) {
    auto conn = Connection::connect(conninfo, options);
    if (!conn.ok()) throw std::runtime_error(conn.error().to_string());
    return std::move(conn).value();
  }
  static Connection connect_test_db() { return connect_or_die(shared_pg_cluster().conninfo("pg_itest")); }

  // The first value of a query, or a failure.
  static std::string scalar(Connection& conn, const std::string& sql) {
    auto result = conn.exec(sql);
    if (!result.ok()) return "ERROR: " + result.error().message();
    if (result->rows() < 1) return "ERROR: no rows";
    return std::string(result->value(0, 0));
  }
};

TEST_F(PgConnectionTest, ConnectsByConninfoAndByUrl) {
  PgCluster& pg = shared_pg_cluster();
  Connection by_conninfo = connect_or_die(pg.conninfo("pg_itest"));
  EXPECT_TRUE(by_conninfo.ok());
  EXPECT_EQ(by_conninfo.host(), "127.0.0.1");
  EXPECT_EQ(by_conninfo.port(), pg.port());
  EXPECT_EQ(by_conninfo.database(), "pg_itest");
  EXPECT_EQ(by_conninfo.user(), pg.superuser());
  EXPECT_GE(by_conninfo.server_version(), 150000);
  EXPECT_GE(by_conninfo.socket(), 0);
  EXPECT_NE(by_conninfo.raw(), nullptr);
  EXPECT_EQ(scalar(by_conninfo, "show application_name"), "strata");
  EXPECT_EQ(scalar(by_conninfo, "show wal_level"), "logical");

  Connection by_url = connect_or_die(pg.url("pg_itest") + "?application_name=from_url&sslmode=disable");
  EXPECT_EQ(by_url.database(), "pg_itest");
  EXPECT_EQ(scalar(by_url, "show application_name"), "from_url");
  EXPECT_EQ(scalar(by_url, "select ssl::text from pg_stat_ssl where pid = pg_backend_pid()"), "false");

  // The socket folder works as host, and a moved connection keeps working.
  Connection by_socket = connect_or_die("host=" + pg.socket_dir() + " port=" + std::to_string(pg.port()) +
                                        " dbname=pg_itest user=" + pg.superuser());
  Connection moved = std::move(by_socket);
  EXPECT_EQ(scalar(moved, "select 40 + 2"), "42");
}

TEST_F(PgConnectionTest, SslmodeRequireIsHonoured) {
  // The test server has no SSL: libpq must refuse rather than silently fall back.
  auto conn = Connection::connect(shared_pg_cluster().conninfo() + " sslmode=require");
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code(), ErrorCode::kConnection);
  EXPECT_NE(conn.error().message().find("SSL"), std::string::npos) << conn.error().message();
}

TEST_F(PgConnectionTest, PasswordLoginRegistersThePasswordWithTheMasker) {
  PgCluster& pg = shared_pg_cluster();
  SecretMasker masker;
  ConnectOptions options;
  options.masker = &masker;
  Connection conn = connect_or_die(pg.password_url("pg_itest"), options);
  EXPECT_EQ(conn.user(), pg.password_user());
  EXPECT_EQ(masker.mask("the password is " + pg.password()), "the password is ****");
}

// Several statements in one round trip: every result in order; a failing one fails the call with
// the server's error and leaves the connection usable.
TEST_F(PgConnectionTest, ExecAllReturnsEveryStatementsResult) {
  Connection conn = connect_test_db();
  auto all = conn.exec_all("SELECT 1 AS a; SELECT g FROM generate_series(1, 3) g; SET TimeZone = 'UTC'; SELECT 'x'");
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].value(0, 0), "1");
  EXPECT_EQ((*all)[1].rows(), 3);
  EXPECT_EQ((*all)[1].value(2, 0), "3");
  EXPECT_EQ((*all)[2].rows(), 0);
  EXPECT_EQ((*all)[3].value(0, 0), "x");
  auto failed = conn.exec_all("SELECT 1; SELECT 1/0; SELECT 2");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("division by zero"), std::string::npos) << failed.error().to_string();
  auto after = conn.exec("SELECT 42");
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_EQ(after->value(0, 0), "42");
}

TEST_F(PgConnectionTest, QueryWithParametersTextAndBinary) {
  Connection conn = connect_test_db();
  auto result = conn.exec_params("select $1::int + 1 as n, $2::text as s, $3::text as missing, $4::float8 as f",
                                 {"41", "it's \"quoted\"; --", std::nullopt, "2.5"});
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_EQ(result->rows(), 1);
  ASSERT_EQ(result->columns(), 4);
  EXPECT_EQ(result->column_name(0), "n");
  EXPECT_EQ(result->column_index("s"), 1);
  EXPECT_EQ(result->column_index("nope"), -1);
  EXPECT_EQ(result->column_type(0), 23u);  // int4
  EXPECT_EQ(result->column_type(1), 25u);  // text
  EXPECT_EQ(result->value(0, 0), "42");
  EXPECT_EQ(result->value(0, 1), "it's \"quoted\"; --");
  EXPECT_TRUE(result->is_null(0, 2));
  EXPECT_FALSE(result->get(0, 2).has_value());
  EXPECT_EQ(result->value(0, 3), "2.5");
  EXPECT_EQ(result->column_format(0), Format::kText);

  auto binary = conn.exec_params("select $1::int4", {"258"}, Format::kBinary);
  ASSERT_TRUE(binary.ok()) << binary.error().to_string();
  EXPECT_EQ(binary->column_format(0), Format::kBinary);
  EXPECT_EQ(binary->value(0, 0), std::string("\x00\x00\x01\x02", 4));

  // Binary parameters: each type's send form, NULs included, the type taken from the cast.
  auto sent = conn.exec_params("select $1::int4 + 1, $2::bytea, $3::inet::text, $4::text",
                               {std::string("\x00\x00\x01\x02", 4), std::string("a\0b", 3),
                                std::string("\x02\x20\x00\x04\x0a\x00\x00\x01", 8), std::nullopt},
                               Format::kText, Format::kBinary);
  ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  EXPECT_EQ(sent->value(0, 0), "259");
  EXPECT_EQ(sent->value(0, 1), "\\x610062");
  EXPECT_EQ(sent->value(0, 2), "10.0.0.1/32");
  EXPECT_TRUE(sent->is_null(0, 3));

  ASSERT_TRUE(conn.execute("create temp table t(a int); insert into t select generate_series(1, 5)").ok());
  auto updated = conn.exec("update t set a = a + 1 where a > 2");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->affected_rows(), 3);
  EXPECT_EQ(updated->command_tag(), "UPDATE 3");
  auto empty = conn.exec("");
  EXPECT_TRUE(empty.ok());
}

// Startup settings hold from the first statement on, over the database's own (whose tiny
// statement_timeout would cancel a session's first SETs), after the conninfo's own options.
TEST_F(PgConnectionTest, StartupSettingsOverrideTheDatabasesAndKeepTheConninfosOptions) {
  PgCluster& pg = shared_pg_cluster();
  pg.create_database("pg_startup");
  Connection admin = connect_test_db();
  ASSERT_TRUE(admin.execute("ALTER DATABASE pg_startup SET statement_timeout = '1ms'").ok());
  ConnectOptions options;
  options.startup_settings = {{"statement_timeout", "0"}, {"DateStyle", "SQL, DMY"}};
  options.session_sql = "SELECT pg_sleep(0.05)";
  auto conn = Connection::connect(pg.conninfo("pg_startup") + " options='-c search_path=pg_catalog'", options);
  ASSERT_TRUE(conn.ok()) << conn.error().to_string();
  auto shown = conn->exec("SELECT current_setting('statement_timeout'), current_setting('search_path'), "
                          "current_setting('DateStyle')");
  ASSERT_TRUE(shown.ok()) << shown.error().to_string();
  EXPECT_EQ(shown->value(0, 0), "0");
  EXPECT_EQ(shown->value(0, 1), "pg_catalog");
  EXPECT_EQ(shown->value(0, 2), "SQL, DMY");
  // Without them, the database's timeout cancels the same session SQL.
  options.startup_settings.clear();
  auto plain = Connection::connect(pg.conninfo("pg_startup"), options);
  EXPECT_FALSE(plain.ok());
  ASSERT_TRUE(admin.execute("ALTER DATABASE pg_startup RESET ALL").ok());
}

TEST_F(PgConnectionTest, BadQueriesCarrySqlstateMessageDetailAndHint) {
  Connection conn = connect_test_db();
  auto syntax = conn.exec("selec 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().state(), "42601");
  EXPECT_EQ(syntax.error().code(), ErrorCode::kFailed);
  EXPECT_EQ(syntax.error().exit_code(), 1);
  EXPECT_NE(syntax.error().message().find("syntax error at or near \"selec\""), std::string::npos)
      << syntax.error().message();
  EXPECT_NE(syntax.error().message().find("at character 1"), std::string::npos);

  auto missing = conn.exec_params("select * from no_such_table where a = $1", {"1"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().state(), "42P01");
  EXPECT_NE(missing.error().message().find("relation \"no_such_table\" does not exist"), std::string::npos);

  ASSERT_TRUE(conn.execute("create temp table u(a int primary key); insert into u values (1)").ok());
  auto duplicate = conn.exec("insert into u values (1)");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().state(), "23505");
  EXPECT_NE(duplicate.error().message().find("DETAIL: Key (a)=(1) already exists."), std::string::npos)
      << duplicate.error().message();

  auto no_function = conn.exec("select no_such_function(1)");
  ASSERT_FALSE(no_function.ok());
  EXPECT_EQ(no_function.error().state(), "42883");
  EXPECT_NE(no_function.error().hint().find("No function matches"), std::string::npos) << no_function.error().hint();

  // The connection stays usable after errors.
  EXPECT_EQ(scalar(conn, "select 'still fine'"), "still fine");
}

TEST_F(PgConnectionTest, CancelPgSleepFromAnotherThread) {
  Connection conn = connect_test_db();
  Canceller canceller = conn.canceller();
  std::atomic<bool> cancel_ok{false};
  std::chrono::steady_clock::time_point cancelled_at;
  std::thread watchdog([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancelled_at = std::chrono::steady_clock::now();
    cancel_ok = canceller.cancel().ok();
  });
  const auto start = std::chrono::steady_clock::now();
  auto result = conn.exec("select pg_sleep(30)");
  const auto end = std::chrono::steady_clock::now();
  watchdog.join();
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(cancel_ok);
  EXPECT_EQ(result.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(result.error().state(), "57014");
  const double total = std::chrono::duration<double>(end - start).count();
  const double after_cancel = std::chrono::duration<double>(end - cancelled_at).count();
  std::printf("[ figures  ] pg_sleep(30) cancelled: returned %.3f s after cancel(), %.3f s in all\n", after_cancel,
              total);
  EXPECT_LT(after_cancel, 1.0);
  EXPECT_EQ(scalar(conn, "select 1"), "1");
  // Cancelling when nothing runs, and after the connection closed, is harmless.
  EXPECT_TRUE(conn.cancel().ok());
  { Connection gone = std::move(conn); }
  EXPECT_TRUE(canceller.cancel().ok());
}

TEST_F(PgConnectionTest, LostConnectionIsAConnectionError) {
  Connection victim = connect_test_db();
  Connection killer = connect_test_db();
  const std::string pid = scalar(victim, "select pg_backend_pid()");
  auto terminated = killer.exec_params("select pg_terminate_backend($1::int)", {pid});
  ASSERT_TRUE(terminated.ok()) << terminated.error().to_string();
  ASSERT_EQ(terminated->value(0, 0), "t");
  auto result = victim.exec("select 1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kConnection) << result.error().to_string();
  EXPECT_EQ(result.error().exit_code(), 3);
  EXPECT_NE(result.error().message().find("127.0.0.1"), std::string::npos) << result.error().message();
  // libpq's text spans lines; the message keeps one (a sync report has one line per stream).
  EXPECT_EQ(result.error().message().find('\n'), std::string::npos) << result.error().message();
  EXPECT_FALSE(victim.ok());
  auto again = victim.exec("select 1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kConnection);
}

TEST_F(PgConnectionTest, NoticesGoToTheCallback) {
  std::vector<std::string> notices;
  ConnectOptions options;
  options.on_notice = [&](std::string_view text) { notices.emplace_back(text); };
  Connection conn = connect_or_die(shared_pg_cluster().conninfo("pg_itest"), options);
  ASSERT_TRUE(conn.execute("do $$ begin raise notice 'hello %', 'there'; end $$").ok());
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0], "NOTICE:  hello there");
}

TEST_F(PgConnectionTest, CopyInStoresRowsAndReportsBadData) {
  Connection conn = connect_test_db();
  ASSERT_TRUE(conn.execute("drop table if exists copy_target; create table copy_target(id int, name text)").ok());
  {
    auto copy = conn.copy_in("copy copy_target from stdin");
    ASSERT_TRUE(copy.ok()) << copy.error().to_string();
    ASSERT_TRUE(copy->write("1\tone\n2\ttw").ok());
    ASSERT_TRUE(copy->write("o\n3\t\\N\n").ok());
    // While the COPY is open the connection refuses other statements.
    auto busy = conn.exec("select 1");
    ASSERT_FALSE(busy.ok());
    EXPECT_EQ(busy.error().code(), ErrorCode::kInternal);
    auto rows = copy->finish();
    ASSERT_TRUE(rows.ok()) << rows.error().to_string();
    EXPECT_EQ(*rows, 3);
  }
  EXPECT_EQ(scalar(conn, "select string_agg(coalesce(name, 'null'), ',' order by id) from copy_target"),
            "one,two,null");
  {
    auto copy = conn.copy_in("copy copy_target from stdin");
    ASSERT_TRUE(copy.ok());
    ASSERT_TRUE(copy->write("not-a-number\tx\n").ok());
    auto rows = copy->finish();
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.error().state(), "22P02");
  }
  {
    auto copy = conn.copy_in("copy copy_target from stdin");
    ASSERT_TRUE(copy.ok());
    ASSERT_TRUE(copy->write("9\tnine\n").ok());
    ASSERT_TRUE(copy->abort("changed my mind").ok());
  }
  {
    auto copy = conn.copy_in("copy copy_target from stdin");
    ASSERT_TRUE(copy.ok());
    ASSERT_TRUE(copy->write("10\tten\n").ok());
    // Destroyed without finish(): aborted.
  }
  EXPECT_EQ(scalar(conn, "select count(*) from copy_target"), "3");
  auto wrong = conn.copy_in("select 1");
  ASSERT_FALSE(wrong.ok());
  auto via_exec = conn.exec("copy copy_target to stdout");
  ASSERT_FALSE(via_exec.ok());
  EXPECT_EQ(scalar(conn, "select 'usable'"), "usable");
}

}  // namespace
}  // namespace strata::pg
