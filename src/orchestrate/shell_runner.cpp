#include "orchestrate/shell_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/time.h"

extern char** environ;

namespace strata::orchestrate {
namespace {

// Owns a pipe's file descriptors.
struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  void close_write() {
    if (fds[1] >= 0) ::close(fds[1]);
    fds[1] = -1;
  }
};

std::vector<std::string> child_environment(const TaskContext& ctx) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) vars[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  vars["STRATA_PIPELINE"] = ctx.pipeline.name;
  vars["STRATA_RUN_ID"] = ctx.run.run_id;
  vars["STRATA_TASK_ID"] = ctx.task.id;
  vars["STRATA_TRY_NUMBER"] = std::to_string(ctx.try_number);
  vars["STRATA_LOGICAL_DATE"] = format_iso8601(ctx.run.logical_date);
  vars["STRATA_DATA_INTERVAL_START"] = format_iso8601(ctx.run.interval_start);
  vars["STRATA_DATA_INTERVAL_END"] = format_iso8601(ctx.run.interval_end);
  for (const auto& [k, v] : ctx.task.env) vars[k] = v;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

// Copies the child's output to the log, whole lines at a time, until EOF.
void pump_output(int fd, TaskLog& log) {
  std::string pending;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    auto last = pending.rfind('\n');
    if (last != std::string::npos) {
      log.write(std::string_view(pending).substr(0, last + 1));
      pending.erase(0, last + 1);
    }
  }
  if (!pending.empty()) log.write(pending + "\n");
}

}  // namespace

Result<TaskOutcome> ShellRunner::run(TaskContext& ctx) {
  std::filesystem::path cwd(ctx.project_dir.empty() ? std::string(".") : ctx.project_dir);
  if (!ctx.task.cwd.empty()) cwd /= ctx.task.cwd;
  std::string cwd_text = cwd.string();
  std::vector<std::string> env = child_environment(ctx);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", command = ctx.command;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};

  Pipe out;
  if (::pipe2(out.fds, O_CLOEXEC) != 0)
    return Error(ErrorCode::kFailed, std::string("cannot create a pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd_text.c_str());
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, sh.c_str(), &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  out.close_write();
  if (rc != 0)
    return Error(ErrorCode::kFailed, "cannot start the shell command in '" + cwd_text + "': " + std::strerror(rc),
                 ctx.task.where, "check that the task's cwd exists");
  ctx.log.line("started process " + std::to_string(pid) + " (own process group) in " + cwd_text);

  int cancel_id = ctx.cancel.on_cancel([pid] { ::kill(-pid, SIGKILL); });
  pump_output(out.fds[0], ctx.log);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ctx.cancel.remove(cancel_id);
  // Whatever the shell left behind in its group goes with it.
  ::kill(-pid, SIGKILL);

  ctx.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  if (ctx.cancel.cancelled())
    return Error(ErrorCode::kCancelled, "shell command stopped: " + ctx.cancel.reason());
  if (WIFSIGNALED(status))
    return Error(ErrorCode::kFailed, "shell command killed by signal " + std::to_string(WTERMSIG(status)));
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  ctx.log.line("process exited with code " + std::to_string(code));
  if (code == 0) return TaskOutcome::kSuccess;
  if (code == kSkipExitCode) return TaskOutcome::kSkipped;
  return Error(ErrorCode::kFailed, "shell command exited with code " + std::to_string(code));
}

}  // namespace strata::orchestrate
