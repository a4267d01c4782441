#include "support/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>

extern char** environ;

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("PgCluster: " + what); }

std::string run_capture(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[512];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string find_bin_dir() {
  if (const char* env = std::getenv("STRATA_PG_BINDIR"); env && *env) return env;
  const std::string debian = "/usr/lib/postgresql/15/bin";
  if (fs::exists(debian + "/initdb")) return debian;
  std::string configured = run_capture("pg_config --bindir 2>/dev/null");
  if (!configured.empty() && fs::exists(configured + "/initdb")) return configured;
  fail("no PostgreSQL binaries (initdb) in " + debian + " nor in `pg_config --bindir`; run scripts/setup");
}

// Where clusters live: $STRATA_PG_TMPDIR, else /dev/shm (a RAM disk: initdb and start-up are
// several times faster there) when it has 2 GiB free (containers often give it only 64 MB),
// else $TMPDIR, else /tmp.
std::string pick_base_dir() {
  if (const char* env = std::getenv("STRATA_PG_TMPDIR"); env && *env) return env;
  struct statvfs shm {};
  if (::access("/dev/shm", W_OK | X_OK) == 0 && ::statvfs("/dev/shm", &shm) == 0 &&
      static_cast<double>(shm.f_bavail) * static_cast<double>(shm.f_frsize) >= 2.0 * (1UL << 30)) {
    return "/dev/shm";
  }
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string find_runuser() {
  for (const char* candidate : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  fail("running as root but runuser is missing (needed to run PostgreSQL as the postgres user)");
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    fail("could not find a free TCP port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string random_password() {
  static constexpr char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device device;
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string out = "Pw-";
  for (int i = 0; i < 20; ++i) out += kAlphabet[pick(device)];
  return out;
}

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string tail_of_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

// Spawns argv with stdin from /dev/null (or `stdin_fd`), stdout+stderr appended to `log` (or
// /dev/null), working directory `cwd`. Returns the child's pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& log, const std::string& cwd,
            int stdin_fd = -1, bool new_session = false) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  const std::string out = log.empty() ? "/dev/null" : log;
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  short flags = POSIX_SPAWN_SETSIGMASK;
  if (new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) fail("could not start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits for the server, answering on the socket, up to `seconds`.
bool wait_ready(const std::string& conninfo, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return true;
    ::usleep(20 * 1000);
  }
  return false;
}

}  // namespace

PgCluster::PgCluster(Settings settings)
    : settings_(std::move(settings)), owner_pid_(::getpid()), password_(random_password()) {
  auto begin = std::chrono::steady_clock::now();
  bin_dir_ = find_bin_dir();
  as_postgres_user_ = ::geteuid() == 0;
  create_root();
  spawn_reaper();
  init_data_dir();
  write_config();
  start_server();
  create_password_role();
  startup_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

PgCluster::PgCluster(StandbyOf standby)
    : owner_pid_(::getpid()), password_(standby.primary.password_) {
  bin_dir_ = standby.primary.bin_dir_;
  as_postgres_user_ = standby.primary.as_postgres_user_;
  create_root();
  spawn_reaper();
  const std::string log = root_ + "/basebackup.log";
  // -c fast: the backup starts with an immediate checkpoint, not a spread one of minutes.
  if (run_pg({bin_dir_ + "/pg_basebackup", "-D", data_dir_, "-R", "-X", "stream", "-c", "fast", "-h",
              standby.primary.socket_dir_, "-p", std::to_string(standby.primary.port_), "-U", superuser_},
             log) != 0) {
    fail("pg_basebackup failed:\n" + tail_of_file(log, 2000));
  }
  // The copied configuration names the primary's socket folder; the last setting wins.
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# strata test standby\nunix_socket_directories = '" << socket_dir_ << "'\nhot_standby = on\n";
  if (!conf) fail("could not write the configuration in " + data_dir_);
  conf.close();
  start_server();
}

PgCluster::~PgCluster() {
  if (::getpid() != owner_pid_) return;  // a forked child: the cluster belongs to the parent
  if (running_) {
    try {
      run_pg({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "immediate", "-w", "-s"}, log_file_);
    } catch (const std::exception&) {
      // The reaper stops the server anyway.
    }
  }
  if (reaper_fd_ >= 0) ::close(reaper_fd_);  // EOF: the reaper removes the folder
  if (reaper_pid_ > 0) wait_exit(reaper_pid_);
}

void PgCluster::create_root() {
  base_dir_ = pick_base_dir();
  std::string pattern = base_dir_ + "/strata-pg-XXXXXX";
  if (!::mkdtemp(pattern.data())) fail("mkdtemp(" + pattern + ") failed: " + std::strerror(errno));
  root_ = pattern;
  data_dir_ = root_ + "/data";
  socket_dir_ = root_;
  log_file_ = root_ + "/server.log";
  if (as_postgres_user_) {
    passwd* user = ::getpwnam("postgres");
    if (!user) fail("running as root but there is no `postgres` OS user (install postgresql-15)");
    if (::chown(root_.c_str(), user->pw_uid, user->pw_gid) != 0) fail("chown " + root_ + " failed");
  }
}

std::vector<std::string> PgCluster::pg_command(std::vector<std::string> args) const {
  if (as_postgres_user_) args.insert(args.begin(), {find_runuser(), "-u", "postgres", "--"});
  return args;
}

int PgCluster::run_pg(std::vector<std::string> args, const std::string& log) const {
  return wait_exit(spawn(pg_command(std::move(args)), log, root_));
}

void PgCluster::spawn_reaper() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe2 failed");
  // Waits for EOF (this process ended or destroyed the cluster), then stops the server and
  // removes the folder. Runs in its own session so signals sent to our process group miss it.
  static constexpr const char* kScript =
      "root=$1; data=$2; shift 2\n"
      "cat >/dev/null 2>&1\n"
      "if [ -f \"$data/postmaster.pid\" ]; then\n"
      "  \"$@\" stop -D \"$data\" -m immediate -w -t 10 -s >/dev/null 2>&1 ||"
      " kill -KILL \"$(head -n1 \"$data/postmaster.pid\")\" 2>/dev/null\n"
      "fi\n"
      "rm -rf \"$root\"\n";
  std::vector<std::string> args = {"/bin/sh", "-c", kScript, "strata-pg-reaper", root_, data_dir_};
  for (auto& word : pg_command({bin_dir_ + "/pg_ctl"})) args.push_back(std::move(word));
  try {
    reaper_pid_ = spawn(args, "", "/", fds[0], /*new_session=*/true);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[0]);
  reaper_fd_ = fds[1];
}

// initdb is the slow part of the start-up (seconds on a loaded machine), so its output is kept
// once per machine in a template folder under the base folder and copied for each cluster.
void PgCluster::init_data_dir() {
  const std::string options = "-N -A trust -U " + superuser_ + " -E UTF8 --locale=C";
  const std::string key = bin_dir_ + "|" + options + "|" + std::to_string(::geteuid());
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(key));
  const std::string template_dir = base_dir_ + "/strata-pg-template-" + hash;
  const std::string log = root_ + "/initdb.log";
  if (fs::exists(template_dir + "/PG_VERSION") && run_pg({"/bin/cp", "-a", template_dir, data_dir_}, log) == 0) {
    return;
  }
  std::error_code ignored;
  fs::remove_all(data_dir_, ignored);
  std::vector<std::string> args = {bin_dir_ + "/initdb", "-D", data_dir_};
  for (const auto& option : split_words(options)) args.push_back(option);
  if (run_pg(args, log) != 0) fail("initdb failed:\n" + tail_of_file(log, 2000));
  // Publish the template atomically: copy inside our folder, then rename; losing a race is fine.
  const std::string staging = root_ + "/template";
  if (run_pg({"/bin/cp", "-a", data_dir_, staging}, log) == 0 && ::rename(staging.c_str(), template_dir.c_str()) != 0) {
    fs::remove_all(staging, ignored);
  }
}

void PgCluster::write_config() {
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# strata test cluster\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << socket_dir_ << "'\n"
       << "wal_level = " << settings_.wal_level << "\n"
       << "max_wal_senders = 10\n"
       << "max_replication_slots = 10\n"
       << "fsync = off\n"
       << "synchronous_commit = off\n"
       << "full_page_writes = off\n"
       << "shared_buffers = 64MB\n"
       << "dynamic_shared_memory_type = mmap\n"  // segments live in the data folder, removed with it
       << "max_connections = 100\n"
       << "timezone = 'UTC'\n"
       << "log_timezone = 'UTC'\n";
  std::ofstream hba(data_dir_ + "/pg_hba.conf", std::ios::trunc);
  hba << "local all all trust\n"
      << "local replication all trust\n"
      << "host all " << password_user_ << " 127.0.0.1/32 scram-sha-256\n"
      << "host replication " << password_user_ << " 127.0.0.1/32 scram-sha-256\n"
      << "host all all 127.0.0.1/32 trust\n"
      << "host replication all 127.0.0.1/32 trust\n";
  if (!conf || !hba) fail("could not write the configuration in " + data_dir_);
}

void PgCluster::start_server() {
  const bool first_start = port_ == 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (first_start) port_ = free_port();
    if (run_pg({bin_dir_ + "/pg_ctl", "start", "-D", data_dir_, "-l", log_file_, "-s", "-w", "-t", "30", "-o",
                "-p " + std::to_string(port_)},
               "") == 0) {
      std::string socket_info = "host=" + socket_dir_ + " port=" + std::to_string(port_) + " user=" + superuser_ +
                                " dbname=postgres";
      if (wait_ready(socket_info, 10)) {
        running_ = true;
        return;
      }
    }
    if (!first_start) break;  // the port must stay the same after a restart
  }
  fail("the server did not start; log tail:\n" + server_log_tail());
}

void PgCluster::create_password_role() {
  execute("CREATE ROLE " + quote_ident(password_user_) + " LOGIN SUPERUSER REPLICATION PASSWORD '" + password_ + "'");
}

std::string PgCluster::server_log_tail() const { return tail_of_file(log_file_, 3000); }

std::string PgCluster::conninfo(const std::string& database) const {
  return "host=" + host_ + " port=" + std::to_string(port_) + " user=" + superuser_ + " dbname='" + database + "'";
}

std::string PgCluster::url(const std::string& database) const {
  return "postgresql://" + superuser_ + "@" + host_ + ":" + std::to_string(port_) + "/" + database;
}

std::string PgCluster::password_conninfo(const std::string& database) const {
  return "host=" + host_ + " port=" + std::to_string(port_) + " user=" + password_user_ + " password=" + password_ +
         " dbname='" + database + "'";
}

std::string PgCluster::password_url(const std::string& database) const {
  return "postgresql://" + password_user_ + ":" + password_ + "@" + host_ + ":" + std::to_string(port_) + "/" +
         database;
}

std::string PgCluster::create_database(const std::string& name) {
  execute("DROP DATABASE IF EXISTS " + quote_ident(name) + " WITH (FORCE)");
  execute("CREATE DATABASE " + quote_ident(name));
  return conninfo(name);
}

void PgCluster::execute(const std::string& sql, const std::string& database) {
  if (!running_) fail("execute() on a stopped cluster");
  const char* keys[] = {"host", "port", "user", "dbname", nullptr};
  const std::string port = std::to_string(port_);
  const char* values[] = {socket_dir_.c_str(), port.c_str(), superuser_.c_str(), database.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    fail("could not connect to database " + database + ": " + message);
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // keep test output clean
  PGresult* result = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(result);
  std::string message = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail("SQL failed in " + database + ": " + message);
}

void PgCluster::stop() {
  if (!running_) return;
  if (run_pg({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-s"}, log_file_) != 0) fail("pg_ctl stop failed; log tail:\n" + server_log_tail());
  running_ = false;
}

void PgCluster::start() {
  if (running_) return;
  start_server();
}

pid_t PgCluster::postmaster_pid() const {
  if (!running_) return 0;
  std::ifstream in(data_dir_ + "/postmaster.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

namespace {

// The process-wide shared cluster, created lazily by shared_pg_cluster().
struct SharedCluster {
  std::mutex mutex;
  std::unique_ptr<PgCluster> cluster;
};

SharedCluster& shared_state() {
  static SharedCluster state;
  return state;
}

// Stops the shared cluster after the last test of the binary.
class SharedPgEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    auto& state = shared_state();
    std::lock_guard lock(state.mutex);
    state.cluster.reset();
  }
};

[[maybe_unused]] const auto* const kSharedPgEnvironment =
    ::testing::AddGlobalTestEnvironment(new SharedPgEnvironment);

}  // namespace

PgCluster& shared_pg_cluster() {
  auto& state = shared_state();
  std::lock_guard lock(state.mutex);
  if (!state.cluster) state.cluster = std::make_unique<PgCluster>();
  return *state.cluster;
}

}  // namespace strata::testing
