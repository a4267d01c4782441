#pragma once
// Child processes for the demo: spawn a program with arguments (no shell), optionally with its
// output appended to a file, its stdin from a given descriptor, or in a new session (so a
// terminal's Ctrl-C does not reach it). posix_spawn based, so it is safe in a multithreaded
// process. Thread-safe.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace strata::cli::demo {

struct SpawnOptions {
  std::string output_path;  // stdout and stderr appended here; empty: /dev/null
  int stdin_fd = -1;        // becomes the child's stdin; -1: /dev/null
  bool new_session = false; // setsid() in the child
  bool new_group = false;   // its own process group (pgid = its pid), so the group can be signalled
  std::string cwd;          // working folder of the child; empty: ours
  // Variables set (or replaced) in the child's environment; the rest is inherited.
  std::map<std::string, std::string> env;
};

// Starts args[0] (an absolute path) with args. Errors: kFailed when it cannot be started.
Result<pid_t> spawn_process(const std::vector<std::string>& args, const SpawnOptions& options = {});
// Waits for a child; its exit code, or 128 + signal number when a signal ended it.
int wait_process(pid_t pid);
// Like wait_process, but gives up after `timeout`; nullopt when the child still runs.
std::optional<int> wait_process_for(pid_t pid, std::chrono::milliseconds timeout);
// spawn_process + wait_process.
Result<int> run_process(const std::vector<std::string>& args, const SpawnOptions& options = {});

// The program's arguments prefixed with `runuser -u postgres --` when this process runs as root
// (PostgreSQL refuses to run as root), else unchanged.
std::vector<std::string> as_postgres_user(std::vector<std::string> args);
// True when this process runs as root.
bool running_as_root();

}  // namespace strata::cli::demo
