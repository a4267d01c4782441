#pragma once
// The task-kind interface of the executor. One TaskRunner per kind (sql, shell now; sync, build,
// test and freshness plugged in by the CLI once the ingest and transform modules exist). A runner
// gets a TaskContext: the rendered command, the task's log, and a CancelToken that fires on
// execution_timeout or shutdown.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "common/secrets.h"
#include "orchestrate/metadata_store.h"
#include "orchestrate/pipeline.h"

namespace strata::orchestrate {

// Cancellation of one attempt. Thread-safe. Callbacks registered with on_cancel run once, on the
// thread that calls cancel() (or at once when already cancelled); they must not block.
class CancelToken {
 public:
  void cancel(std::string reason);
  bool cancelled() const;
  std::string reason() const;
  // Registers a callback; returns an id for remove().
  int on_cancel(std::function<void()> callback);
  // Unregisters a callback. Once it returns, no callback of this token runs any more: it waits for
  // a cancel() running them on another thread, so what they reference may be destroyed then.
  void remove(int id);

 private:
  mutable std::mutex mutex_;
  std::condition_variable callbacks_done_;
  std::thread::id running_on_;  // the thread running the callbacks; none when they are not running
  bool cancelled_ = false;
  std::string reason_;
  int next_id_ = 1;
  std::map<int, std::function<void()>> callbacks_;
};

// One attempt's log file `<root>/<pipeline>/<run>/<task>/<try>.log`, written line by line and
// flushed at once (streamed live), every line passed through the secret masker. Thread-safe.
class TaskLog {
 public:
  // Creates the folders and the file. Errors: kFailed when it cannot be created.
  static Result<std::unique_ptr<TaskLog>> open(const std::string& path, SecretMaskerPtr masker);
  ~TaskLog();
  TaskLog(const TaskLog&) = delete;
  TaskLog& operator=(const TaskLog&) = delete;

  const std::string& path() const { return path_; }
  // Writes text (which may hold several lines, or a partial one) after masking it.
  void write(std::string_view text);
  // Writes one line "TIMESTAMP message\n".
  void line(std::string_view message);
  // Also hands every masked write to `tee` (in order, under the log's lock; it must not block for
  // long nor write to this log): how a worker ships a log to the store. Empty: none.
  void set_tee(std::function<void(std::string_view)> tee);

 private:
  TaskLog(std::string path, std::FILE* file, SecretMaskerPtr masker)
      : path_(std::move(path)), file_(file), masker_(std::move(masker)) {}
  std::string path_;
  std::FILE* file_;
  SecretMaskerPtr masker_;
  std::mutex mutex_;
  std::function<void(std::string_view)> tee_;
};

// The path of an attempt's log under a log root.
std::string task_log_path(const std::string& log_root, const std::string& pipeline, const std::string& run_id,
                          const std::string& task_id, int try_number);

// What a runner sees of the attempt it runs. References stay valid for the duration of run().
struct TaskContext {
  const PipelineSpec& pipeline;
  const TaskSpec& task;
  const RunRecord& run;
  int try_number;
  std::string command;         // the task's command with templates rendered
  std::string project_dir;     // working folder base
  TaskLog& log;
  CancelToken& cancel;
  MetadataStore& store;        // for sync reports and test results
  // Set by a runner whose attempt ran a process: its exit status as a shell reports it (the exit
  // code, or 128 + the signal that killed it). The attempt records it; when unset, the attempt's
  // exit code is 0 on success and the error's exit code (1, 2 or 3) on failure.
  std::optional<int> exit_code = std::nullopt;
  // Set by a runner whose attempt ran in another process (RemoteRunner: the `strata worker`
  // that ran it, "host:pid"): recorded as the attempt's owner instead of the executor's.
  std::string ran_on = {};
};

// How an attempt ended when it did not fail.
// kReschedule: a sensor in reschedule mode was not met; the executor pokes it again later (or
// times it out), with the task's slot freed meanwhile.
enum class TaskOutcome { kSuccess, kSkipped, kReschedule };

// Runs tasks of one kind. run() may be called from several threads at once; implementations are
// thread-safe. A failure is an Error (kFailed, or kCancelled when stopped by the token).
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual Result<TaskOutcome> run(TaskContext& context) = 0;
};

using RunnerMap = std::map<TaskKind, std::shared_ptr<TaskRunner>>;

}  // namespace strata::orchestrate
