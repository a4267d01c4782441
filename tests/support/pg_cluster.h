#pragma once
// PgCluster: a throwaway PostgreSQL 15 cluster for tests.
//
// The constructor creates a fresh folder under $STRATA_PG_TMPDIR, else /dev/shm (RAM: fast; used
// when it has 2 GiB free), else $TMPDIR or /tmp. It fills the data directory from a cached initdb
// template (made by the first cluster on the machine, kept as <base>/strata-pg-template-<hash>)
// or runs initdb, picks a free TCP port on 127.0.0.1, puts the unix socket in that folder and
// starts the server with
// wal_level=logical, max_wal_senders, max_replication_slots, and fsync/synchronous_commit/
// full_page_writes off. When the process runs as root, every PostgreSQL binary runs as the
// `postgres` OS user (runuser). Binaries come from /usr/lib/postgresql/15/bin, else
// `pg_config --bindir`, or from $STRATA_PG_BINDIR when set.
//
// Authentication: the superuser `postgres` connects without a password (trust), over the unix
// socket and over TCP. The role `strata_test` (LOGIN SUPERUSER REPLICATION) has a random password
// and must give it over TCP (scram-sha-256), so tests can check that passwords never leak.
//
// Clean-up: the destructor stops the server and removes the folder. A reaper process started
// with the cluster waits for EOF on a pipe that only this process holds; when the process ends in
// any way (normal exit, test failure, SIGKILL, SIGSEGV) the reaper runs
// `pg_ctl stop -m immediate` and removes the folder. Child processes forked from the owner never
// stop the cluster from their destructors.
//
// Errors: the fixture throws std::runtime_error (with the server log's tail) when the cluster
// cannot be created, started or queried; GoogleTest reports it as a test failure.
// Thread-safety: const accessors may be called from any thread; create_database, execute,
// start, stop and restart must not run concurrently with each other.
//
// Usage in a test binary (one cluster shared by all its tests):
//   auto& pg = strata::testing::shared_pg_cluster();
//   std::string conninfo = pg.create_database("my_test_db");   // fresh, empty database
//   pg.execute("create table t(a int)", "my_test_db");

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace strata::testing {

class PgCluster {
 public:
  // What a cluster's postgresql.conf sets beyond the fixed test settings.
  struct Settings {
    std::string wal_level = "logical";  // e.g. "replica": a source logical replication must refuse
  };
  // initdb + start. Throws std::runtime_error on failure.
  PgCluster() : PgCluster(Settings{}) {}
  explicit PgCluster(Settings settings);
  // A hot standby of `primary` (pg_basebackup -R, streaming replication) on a port of its own:
  // read-only, with the primary's roles and databases. Throws std::runtime_error on failure.
  struct StandbyOf {
    const PgCluster& primary;
  };
  explicit PgCluster(StandbyOf standby);
  // Stops the server (immediate) and removes the folder; no-op in forked children.
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Always "127.0.0.1".
  const std::string& host() const { return host_; }
  // The TCP port; stays the same across stop()/start()/restart().
  int port() const { return port_; }
  // The folder holding the unix socket (usable as libpq's host=).
  const std::string& socket_dir() const { return socket_dir_; }
  // The cluster's root folder (data directory, socket, logs); removed at the end.
  const std::string& root() const { return root_; }
  const std::string& data_dir() const { return data_dir_; }
  // The PostgreSQL binaries used (initdb, pg_ctl, postgres, psql …).
  const std::string& bin_dir() const { return bin_dir_; }
  // The superuser role ("postgres"); connects without a password.
  const std::string& superuser() const { return superuser_; }
  // The password-authenticated role ("strata_test") and its random password.
  const std::string& password_user() const { return password_user_; }
  const std::string& password() const { return password_; }

  // key=value conninfo over TCP as the superuser, no password: "host=127.0.0.1 port=N user=postgres dbname=DB".
  std::string conninfo(const std::string& database = "postgres") const;
  // The same as a URL: "postgresql://postgres@127.0.0.1:N/DB".
  std::string url(const std::string& database = "postgres") const;
  // key=value conninfo over TCP as password_user() including its password.
  std::string password_conninfo(const std::string& database = "postgres") const;
  // The same as a URL: "postgresql://strata_test:PASSWORD@127.0.0.1:N/DB".
  std::string password_url(const std::string& database = "postgres") const;

  // Drops `name` if it exists and creates it empty; returns conninfo(name). Throws on failure.
  std::string create_database(const std::string& name);
  // Runs SQL (may hold several statements) as the superuser in `database`. Throws on failure.
  void execute(const std::string& sql, const std::string& database = "postgres");

  // Stops the server (fast mode: connections are closed). Throws on failure.
  void stop();
  // Starts a stopped server on the same port. Throws on failure.
  void start();
  void restart() { stop(); start(); }
  bool running() const { return running_; }
  // The postmaster's pid while running, else 0.
  pid_t postmaster_pid() const;
  // Seconds the constructor took: data folder (template copy or initdb), first start, role (for reports).
  double startup_seconds() const { return startup_seconds_; }

 private:
  Settings settings_;
  void create_root();
  // `args` prefixed with `runuser -u postgres --` when running as root.
  std::vector<std::string> pg_command(std::vector<std::string> args) const;
  // Runs a PostgreSQL binary (as pg_command) in root(); output appended to `log`; returns its exit code.
  int run_pg(std::vector<std::string> args, const std::string& log) const;
  void init_data_dir();
  void write_config();
  void spawn_reaper();
  void start_server();
  void create_password_role();
  std::string server_log_tail() const;

  pid_t owner_pid_ = 0;
  pid_t reaper_pid_ = 0;
  int reaper_fd_ = -1;
  bool running_ = false;
  bool as_postgres_user_ = false;
  int port_ = 0;
  double startup_seconds_ = 0;
  std::string host_ = "127.0.0.1";
  std::string base_dir_, root_, data_dir_, socket_dir_, bin_dir_, log_file_;
  std::string superuser_ = "postgres";
  std::string password_user_ = "strata_test";
  std::string password_;
};

// The one cluster shared by every test of this process: started on first use, stopped after the
// last test (GoogleTest environment tear-down) or at exit at the latest. Thread-safe.
// Throws std::runtime_error when the cluster cannot be started.
PgCluster& shared_pg_cluster();

}  // namespace strata::testing
