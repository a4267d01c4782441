#include "cli/demo/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace strata::cli::demo {
namespace {

// Owns posix_spawn's attribute and file-action objects.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

std::string find_runuser() {
  for (const char* candidate : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return "runuser";
}

// This process's environment with `overrides` set.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (overrides.count(name) == 0) out.push_back(std::move(entry));
  }
  for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
  return out;
}

}  // namespace

bool running_as_root() { return ::geteuid() == 0; }

std::vector<std::string> as_postgres_user(std::vector<std::string> args) {
  if (!running_as_root()) return args;
  args.insert(args.begin(), {find_runuser(), "-u", "postgres", "--"});
  return args;
}

Result<pid_t> spawn_process(const std::vector<std::string>& args, const SpawnOptions& options) {
  if (args.empty()) return Error(ErrorCode::kInternal, "spawn_process: no program");
  SpawnSetup setup;
  if (options.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&setup.actions_, options.stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&setup.actions_, 0, "/dev/null", O_RDONLY, 0);
  }
  const char* out = options.output_path.empty() ? "/dev/null" : options.output_path.c_str();
  posix_spawn_file_actions_addopen(&setup.actions_, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&setup.actions_, 1, 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions_, options.cwd.c_str());
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_session) flags |= POSIX_SPAWN_SETSID;
  if (options.new_group && !options.new_session) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&setup.attr_, 0);
  }
  posix_spawnattr_setflags(&setup.attr_, flags);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr_, &none);  // children never inherit our blocked signals
  posix_spawnattr_setsigdefault(&setup.attr_, &all);

  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = environment_with(options.env);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &setup.actions_, &setup.attr_, argv.data(), envp.data());
  if (rc != 0) return Error(ErrorCode::kFailed, "cannot start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

int wait_process(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

std::optional<int> wait_process_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return 127;
    }
    if (done < 0 && errno != EINTR) return 127;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    ::usleep(20 * 1000);
  }
}

Result<int> run_process(const std::vector<std::string>& args, const SpawnOptions& options) {
  STRATA_ASSIGN(pid_t pid, spawn_process(args, options));
  return wait_process(pid);
}

}  // namespace strata::cli::demo
