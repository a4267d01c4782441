#pragma once
// Spawning the built `strata` binary (or any program) as a child process for end-to-end tests.

#include <sys/types.h>

#include <string>
#include <vector>

namespace strata::testing {

// Starts `program` with `args` (argv[1…]) and this process's environment, minus every variable
// whose name starts with one of `unset_prefixes`, plus `set` ("NAME=value" each). stdout goes to
// /dev/null, stderr is appended to `err_file`. Returns the pid (-1 when it could not start).
pid_t spawn_child(const std::string& program, const std::vector<std::string>& args,
                  const std::vector<std::string>& unset_prefixes, const std::vector<std::string>& set,
                  const std::string& err_file);

// What a shell command line printed (stdout and stderr together) and its exit code (-1 when it
// could not run or a signal ended it).
struct CommandOutput {
  int exit_code = -1;
  std::string output;
};
// Runs `command_line` through /bin/sh (popen) with stderr joined to stdout, and waits for it.
CommandOutput run_command(const std::string& command_line);

// Waits for a child; its exit code, or -1 when a signal ended it.
int wait_child(pid_t pid);

// SIGTERM and wait; true when it exited 0.
bool stop_child(pid_t pid);

}  // namespace strata::testing
