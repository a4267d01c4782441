#include "cli/demo/throwaway_pg.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "cli/demo/process.h"
#include "common/strings.h"

namespace strata::cli::demo {
namespace {

std::string find_bin_dir() {
  for (const char* version : {"17", "16", "15"}) {
    std::string dir = std::string("/usr/lib/postgresql/") + version + "/bin";
    if (::access((dir + "/initdb").c_str(), X_OK) == 0) return dir;
  }
  return {};
}

// A TCP port on 127.0.0.1 that nobody listens on right now.
Result<int> free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Error(ErrorCode::kFailed, "cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  if (port <= 0) return Error(ErrorCode::kFailed, "cannot find a free TCP port on 127.0.0.1");
  return port;
}

}  // namespace

Result<std::unique_ptr<ThrowawayPostgres>> ThrowawayPostgres::start(const Logger& logger) {
  std::unique_ptr<ThrowawayPostgres> pg(new ThrowawayPostgres());
  pg->bin_dir_ = find_bin_dir();
  if (pg->bin_dir_.empty())
    return Error(ErrorCode::kFailed, "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin",
                 {}, "run scripts/setup (installs postgresql-15), or set NOVADRIVE_PG_URL to an existing server");
  STRATA_TRY(pg->create_root());
  STRATA_TRY(pg->spawn_reaper());
  logger.info("initdb into {}", pg->root_);
  STRATA_TRY(pg->init_cluster());
  STRATA_TRY(pg->start_server());
  logger.info("throwaway PostgreSQL listening on {}:{}", pg->host_, pg->port_);
  return pg;
}

ThrowawayPostgres::~ThrowawayPostgres() { stop(); }

std::string ThrowawayPostgres::url(const std::string& database) const {
  return "postgresql://postgres@" + host_ + ":" + std::to_string(port_) + "/" + database;
}

pid_t ThrowawayPostgres::postmaster_pid() const {
  std::ifstream in(data_dir_ + "/postmaster.pid");
  long pid = 0;
  if (in >> pid) return static_cast<pid_t>(pid);
  return 0;
}

Status ThrowawayPostgres::create_root() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/strata-demo-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr)
    return Error(ErrorCode::kFailed, "cannot create a temporary folder from " + pattern);
  root_ = buffer.data();
  data_dir_ = root_ + "/data";
  log_file_ = root_ + "/server.log";
  if (running_as_root()) {
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr)
      return Error(ErrorCode::kFailed, "running as root, but there is no `postgres` user to run PostgreSQL as", {},
                   "install the postgresql package (scripts/setup) or run as an ordinary user");
    if (::chown(root_.c_str(), user->pw_uid, user->pw_gid) != 0)
      return Error(ErrorCode::kFailed, "cannot hand " + root_ + " to the postgres user");
  }
  return ok_status();
}

Status ThrowawayPostgres::spawn_reaper() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error(ErrorCode::kFailed, "cannot create the reaper's pipe");
  std::vector<std::string> args = {"/bin/sh", "-c",
                                   "cat >/dev/null; \"$@\" stop -D \"$0/data\" -m immediate -w -s >/dev/null 2>&1; "
                                   "rm -rf \"$0\"",
                                   root_};
  for (auto& a : as_postgres_user({bin_dir_ + "/pg_ctl"})) args.push_back(a);
  SpawnOptions options;
  options.stdin_fd = fds[0];
  options.new_session = true;
  auto pid = spawn_process(args, options);
  ::close(fds[0]);
  if (!pid.ok()) {
    ::close(fds[1]);
    return std::move(pid).error();
  }
  reaper_pid_ = *pid;
  reaper_fd_ = fds[1];
  return ok_status();
}

Status ThrowawayPostgres::init_cluster() {
  SpawnOptions options;
  options.output_path = root_ + "/initdb.log";
  STRATA_ASSIGN(int rc, run_process(as_postgres_user({bin_dir_ + "/initdb", "-D", data_dir_, "-U", "postgres", "-A",
                                                      "trust", "-E", "UTF8", "--locale=C", "--no-sync"}),
                                    options));
  if (rc != 0)
    return Error(ErrorCode::kFailed, "initdb failed (exit " + std::to_string(rc) + "):\n" + log_tail(options.output_path));
  STRATA_ASSIGN(port_, free_port());
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# strata demo\nlisten_addresses = '127.0.0.1'\nport = " << port_ << "\nunix_socket_directories = '"
       << root_ << "'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nwal_level = logical\n"
       << "max_wal_senders = 10\nmax_replication_slots = 10\nmax_connections = 60\n";
  if (!conf) return Error(ErrorCode::kFailed, "cannot write " + data_dir_ + "/postgresql.conf");
  return ok_status();
}

Status ThrowawayPostgres::start_server() {
  SpawnOptions options;
  options.output_path = root_ + "/pg_ctl.log";
  STRATA_ASSIGN(int rc, run_process(as_postgres_user({bin_dir_ + "/pg_ctl", "start", "-D", data_dir_, "-l", log_file_,
                                                      "-w", "-t", "60", "-s"}),
                                    options));
  if (rc != 0)
    return Error(ErrorCode::kFailed, "the throwaway PostgreSQL did not start (pg_ctl exit " + std::to_string(rc) +
                                         "):\n" + log_tail(log_file_));
  return ok_status();
}

std::string ThrowawayPostgres::log_tail(const std::string& path) const {
  std::string text;
  if (!read_file(path, text)) return "(no log at " + path + ")";
  constexpr size_t kTail = 2000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

void ThrowawayPostgres::stop() {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  if (!data_dir_.empty() && std::filesystem::exists(data_dir_ + "/postmaster.pid")) {
    SpawnOptions options;
    options.output_path = root_ + "/pg_ctl.log";
    auto rc = run_process(as_postgres_user({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-t",
                                            "30", "-s"}),
                          options);
    (void)rc;  // if the fast stop fails, the reaper below stops it in immediate mode
  }
  if (reaper_fd_ >= 0) {
    ::close(reaper_fd_);  // EOF: the reaper stops whatever still runs and removes the folder
    reaper_fd_ = -1;
    wait_process(reaper_pid_);
  }
  std::error_code ignored;
  if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
}

}  // namespace strata::cli::demo
