// Integration tests of the shared PostgreSQL fixture (tests/support/pg_cluster.h) itself, with raw
// libpq so they do not depend on strata::pg.

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "support/pg_cluster.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

// The first value of a one-row query, or "ERROR: …".
std::string query_one(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = std::string("ERROR: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return message;
  }
  PGresult* result = PQexec(conn, sql.c_str());
  std::string value = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0
                          ? PQgetvalue(result, 0, 0)
                          : std::string("ERROR: ") + PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  return value;
}

// True while `pid` is a live (not zombie) process.
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = content.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < content.size() && content[close_paren + 2] != 'Z';
}

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

TEST(PgClusterTest, SharedClusterServesTcpAndUrlWithLogicalWal) {
  PgCluster& pg = shared_pg_cluster();
  std::printf("[ figures  ] PgCluster startup (data folder + start + role): %.3f s\n", pg.startup_seconds());
  EXPECT_EQ(query_one(pg.conninfo(), "show wal_level"), "logical");
  EXPECT_EQ(query_one(pg.url(), "select current_user"), pg.superuser());
  EXPECT_EQ(query_one(pg.conninfo(), "show fsync"), "off");
  EXPECT_EQ(query_one(pg.conninfo(), "show port"), std::to_string(pg.port()));
  EXPECT_TRUE(fs::exists(pg.socket_dir() + "/.s.PGSQL." + std::to_string(pg.port())));
  EXPECT_EQ(&pg, &shared_pg_cluster());
}

TEST(PgClusterTest, PasswordUserNeedsItsPassword) {
  PgCluster& pg = shared_pg_cluster();
  EXPECT_EQ(query_one(pg.password_conninfo(), "select current_user"), pg.password_user());
  EXPECT_EQ(query_one(pg.password_url(), "select current_user"), pg.password_user());
  std::string without = "host=127.0.0.1 port=" + std::to_string(pg.port()) + " user=" + pg.password_user() +
                        " password=wrong-password dbname=postgres";
  EXPECT_NE(query_one(without, "select 1").find("password authentication failed"), std::string::npos);
}

TEST(PgClusterTest, CreateDatabaseGivesAFreshDatabase) {
  PgCluster& pg = shared_pg_cluster();
  std::string conninfo = pg.create_database("fixture fresh \"db\"");
  pg.execute("create table t(a int); insert into t values (41), (1)", "fixture fresh \"db\"");
  EXPECT_EQ(query_one(conninfo, "select sum(a) from t"), "42");
  pg.create_database("fixture fresh \"db\"");
  EXPECT_NE(query_one(conninfo, "select count(*) from t").find("does not exist"), std::string::npos);
  EXPECT_THROW(pg.execute("select * from no_such_table"), std::runtime_error);
}

TEST(PgClusterTest, StopAndStartKeepThePort) {
  PgCluster cluster;
  const int port = cluster.port();
  EXPECT_EQ(query_one(cluster.conninfo(), "select 1"), "1");
  const pid_t first = cluster.postmaster_pid();
  EXPECT_TRUE(process_alive(first));
  cluster.stop();
  EXPECT_FALSE(cluster.running());
  EXPECT_EQ(PQping(cluster.conninfo().c_str()), PQPING_NO_RESPONSE);
  EXPECT_TRUE(eventually([&] { return !process_alive(first); }, std::chrono::seconds(5)));
  cluster.start();
  EXPECT_EQ(cluster.port(), port);
  EXPECT_EQ(query_one(cluster.conninfo(), "select 2"), "2");
  cluster.restart();
  EXPECT_EQ(query_one(cluster.conninfo(), "select 3"), "3");
}

TEST(PgClusterTest, DestructorStopsServerAndRemovesFolder) {
  std::string root;
  pid_t postmaster = 0;
  {
    PgCluster cluster;
    root = cluster.root();
    postmaster = cluster.postmaster_pid();
    ASSERT_TRUE(fs::exists(root + "/data/PG_VERSION"));
    ASSERT_TRUE(process_alive(postmaster));
  }
  EXPECT_FALSE(fs::exists(root));
  EXPECT_TRUE(eventually([&] { return !process_alive(postmaster); }, std::chrono::seconds(5)));
}

// A child process starts a cluster, reports its folder and postmaster, then dies by `signal`
// without running any destructor. The reaper must still stop the server and remove the folder.
class PgClusterCrashTest : public ::testing::TestWithParam<int> {};

TEST_P(PgClusterCrashTest, ReaperCleansUpAfterTheProcessDies) {
  const int signal_number = GetParam();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    try {
      auto* cluster = new PgCluster();  // never destroyed
      std::string report = cluster->root() + "\n" + std::to_string(cluster->postmaster_pid()) + "\n";
      (void)!::write(fds[1], report.data(), report.size());
    } catch (const std::exception& e) {
      std::string report = std::string("FAILED ") + e.what() + "\n";
      (void)!::write(fds[1], report.data(), report.size());
    }
    ::close(fds[1]);
    ::signal(signal_number, SIG_DFL);  // sanitizers catch SIGSEGV; crash the plain way
    ::raise(signal_number);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string report;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) report.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), signal_number);

  auto newline = report.find('\n');
  ASSERT_NE(newline, std::string::npos) << report;
  ASSERT_FALSE(report.starts_with("FAILED")) << report;
  const std::string root = report.substr(0, newline);
  const pid_t postmaster = static_cast<pid_t>(std::stol(report.substr(newline + 1)));
  ASSERT_GT(postmaster, 0);
  EXPECT_TRUE(eventually([&] { return !fs::exists(root); }, std::chrono::seconds(15))) << root;
  EXPECT_TRUE(eventually([&] { return !process_alive(postmaster); }, std::chrono::seconds(15))) << postmaster;
}

INSTANTIATE_TEST_SUITE_P(Signals, PgClusterCrashTest, ::testing::Values(SIGKILL, SIGSEGV),
                         [](const auto& info) { return info.param == SIGKILL ? "SIGKILL" : "SIGSEGV"; });

}  // namespace
}  // namespace strata::testing
