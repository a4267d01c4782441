#pragma once
// ThrowawayPostgres: the PostgreSQL server `strata demo` starts when NOVADRIVE_PG_URL is not set.
// start() runs initdb (as the `postgres` OS user when running as root; PostgreSQL refuses root)
// into a fresh folder under $TMPDIR, picks a free port on 127.0.0.1, and starts the server with
// trust authentication for the superuser `postgres`, wal_level=logical, and durability settings
// off (it is a demo). The server runs in its own session, so a terminal's Ctrl-C does not reach it.
//
// Clean-up: stop() (also run by the destructor) stops the server and removes the folder. A reaper
// process holds the read end of a pipe whose write end only this process has; when this process
// ends in any way (even SIGKILL) the reaper stops the server (immediate mode) and removes the
// folder.
//
// Errors: kFailed with the server log's tail when initdb or the start fails.
// Thread-safety: stop() may be called from any thread, any number of times.

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/log.h"
#include "common/result.h"

namespace strata::cli::demo {

class ThrowawayPostgres {
 public:
  // Creates and starts a server; the logger gets progress lines.
  static Result<std::unique_ptr<ThrowawayPostgres>> start(const Logger& logger);
  ~ThrowawayPostgres();
  ThrowawayPostgres(const ThrowawayPostgres&) = delete;
  ThrowawayPostgres& operator=(const ThrowawayPostgres&) = delete;

  // "postgresql://postgres@127.0.0.1:PORT/DATABASE".
  std::string url(const std::string& database = "postgres") const;
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // The folder holding data, socket and log; gone after stop().
  const std::string& root() const { return root_; }
  // The postmaster's pid while running, else 0.
  pid_t postmaster_pid() const;
  // Stops the server (fast mode) and removes the folder. Idempotent; thread-safe.
  void stop();

 private:
  ThrowawayPostgres() = default;
  Status create_root();
  Status init_cluster();
  Status spawn_reaper();
  Status start_server();
  std::string log_tail(const std::string& path) const;

  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string bin_dir_, root_, data_dir_, log_file_;
  int reaper_fd_ = -1;
  pid_t reaper_pid_ = 0;
  std::mutex mutex_;
  bool stopped_ = false;
};

}  // namespace strata::cli::demo
