// Connections that fail: a stopped server and a wrong password give kConnection (exit code 3)
// with host and port in the message, never the password.

#include <string>

#include <gtest/gtest.h>

#include "pg/connection.h"
#include "support/pg_cluster.h"

namespace strata::pg {
namespace {

using strata::testing::PgCluster;
using strata::testing::shared_pg_cluster;

void expect_no_password(const Error& error, const std::string& password) {
  EXPECT_EQ(error.message().find(password), std::string::npos) << error.message();
  EXPECT_EQ(error.hint().find(password), std::string::npos) << error.hint();
  EXPECT_EQ(error.to_string().find(password), std::string::npos) << error.to_string();
}

TEST(PgConnectionFailureTest, StoppedServerGivesExitCode3WithHostAndPortButNoPassword) {
  PgCluster second;
  const std::string conninfo = second.password_conninfo();
  const std::string url = second.password_url();
  // It works while the server runs …
  {
    auto conn = Connection::connect(conninfo);
    ASSERT_TRUE(conn.ok()) << conn.error().to_string();
  }
  second.stop();
  // … and fails with a connection error once it is stopped, for both spellings.
  for (const std::string& target : {conninfo, url}) {
    SecretMasker masker;
    ConnectOptions options;
    options.masker = &masker;
    options.connect_timeout = std::chrono::seconds(3);
    auto conn = Connection::connect(target, options);
    ASSERT_FALSE(conn.ok());
    const Error& error = conn.error();
    std::printf("[ message  ] %s\n", error.to_string().c_str());
    EXPECT_EQ(error.code(), ErrorCode::kConnection);
    EXPECT_EQ(error.exit_code(), 3);
    EXPECT_NE(error.message().find("127.0.0.1"), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("port " + std::to_string(second.port())), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("user " + second.password_user()), std::string::npos) << error.message();
    EXPECT_FALSE(error.hint().empty());
    expect_no_password(error, second.password());
    EXPECT_EQ(masker.mask(second.password()), "****");
  }
  // The server comes back on the same port.
  second.start();
  auto conn = Connection::connect(conninfo);
  EXPECT_TRUE(conn.ok());
}

TEST(PgConnectionFailureTest, APasswordInAUrlWrittenIntoAnotherFieldIsMasked) {
  // A user who put a whole URL into the database field: libpq's message quotes it back.
  const std::string conninfo = "host=127.0.0.1 port=1 connect_timeout=2 dbname='postgresql://etl:Hunter2LeakMe77@db/erp'";
  SecretMasker masker;
  ConnectOptions options;
  options.masker = &masker;
  auto conn = Connection::connect(conninfo, options);
  ASSERT_FALSE(conn.ok());
  expect_no_password(conn.error(), "Hunter2LeakMe77");
  EXPECT_EQ(masker.mask("pw Hunter2LeakMe77"), "pw ****");
}

TEST(PgConnectionFailureTest, WrongPasswordDoesNotLeakIt) {
  PgCluster& pg = shared_pg_cluster();
  const std::string wrong = "Wr0ng-Passw0rd-4711";
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(pg.port()) + " user=" + pg.password_user() +
                               " password='" + wrong + "' dbname=postgres";
  auto conn = Connection::connect(conninfo);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code(), ErrorCode::kConnection);
  EXPECT_NE(conn.error().message().find("password authentication failed"), std::string::npos)
      << conn.error().message();
  EXPECT_NE(conn.error().message().find("port " + std::to_string(pg.port())), std::string::npos);
  expect_no_password(conn.error(), wrong);

  auto by_url = Connection::connect("postgresql://" + pg.password_user() + ":" + wrong + "@127.0.0.1:" +
                                    std::to_string(pg.port()) + "/postgres");
  ASSERT_FALSE(by_url.ok());
  EXPECT_EQ(by_url.error().code(), ErrorCode::kConnection);
  expect_no_password(by_url.error(), wrong);
}

TEST(PgConnectionFailureTest, MissingPasswordAndUnknownDatabase) {
  PgCluster& pg = shared_pg_cluster();
  auto no_password = Connection::connect("host=127.0.0.1 port=" + std::to_string(pg.port()) +
                                         " user=" + pg.password_user() + " dbname=postgres passfile=/nonexistent");
  ASSERT_FALSE(no_password.ok());
  EXPECT_EQ(no_password.error().code(), ErrorCode::kConnection);

  auto no_database = Connection::connect(pg.conninfo("no_such_database"));
  ASSERT_FALSE(no_database.ok());
  EXPECT_EQ(no_database.error().code(), ErrorCode::kConnection);
  EXPECT_NE(no_database.error().message().find("database no_such_database"), std::string::npos)
      << no_database.error().message();
}

}  // namespace
}  // namespace strata::pg
