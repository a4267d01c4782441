#pragma once
// RemoteRunner: the TaskRunner of executor mode "workers" (Airflow's Celery executor on the
// metadata store). It runs no task itself: it enqueues the attempt as a work item (store
// enqueue_work: pipeline, run, task, try, kind, the rendered command, the task's `queue`) and
// blocks until a `strata worker` (worker.h) has run it, looking at the item when the store's work
// watch signals a change to it (PostgreSQL: within milliseconds of the worker's write) and every
// watched_poll_interval in case a signal was lost (without a watch, SQLite: every poll_interval), while
// - copying the log chunks the worker ships to the store into the attempt's local log (so the
//   server's log pages and live stream of this process show it as it is written);
// - watching the worker's heartbeat: when the item's heartbeat_at has not changed for
//   `worker_timeout` of this process's monotonic time (clocks of two machines need not agree), the
//   worker is taken for dead: the item is failed (conditional on that worker still holding it) and
//   so is the attempt, so the executor's retry policy applies (Airflow's zombie tasks);
// - forwarding the attempt's CancelToken (execution_timeout, a cancelled run, shutdown) to the
//   item (request_cancel_work); a worker that does not end it within worker_timeout is given up on;
// - giving up on an item no worker claimed within `queued_timeout` (Airflow's task_queued_timeout:
//   e.g. no worker serves its queue): the item is withdrawn and the attempt fails, so the
//   executor's retry policy applies.
// The executor's retries, trigger rules, pools and timeouts stay the executor's. The attempt's
// owner becomes the worker's id as soon as a worker claims it (and TaskContext::ran_on, which the
// executor records at the end); its exit code and error are the worker's.
// Thread-safety: run() may be called from any number of executor threads at once.

#include <cstdint>
#include <optional>
#include <string_view>

#include "orchestrate/task_runner.h"

namespace strata::orchestrate {

// Where a scheduler's executor runs task attempts: in its own threads (local, the default), or on
// `strata worker` processes through the metadata store (workers).
enum class ExecutorMode { kLocal, kWorkers };
// "local" / "workers"; nullopt for anything else.
std::optional<ExecutorMode> parse_executor_mode(std::string_view name);

struct RemoteRunnerOptions {
  int64_t poll_interval = 200'000;     // micros between looks at the item and its log
  int64_t watched_poll_interval = 1'000'000;  // ... while the store's work watch runs (if longer)
  int64_t worker_timeout = 30'000'000; // micros without a heartbeat before a worker is dead
  int64_t queued_timeout = 600'000'000; // micros an item may wait for a worker to claim it
};

class RemoteRunner final : public TaskRunner {
 public:
  explicit RemoteRunner(RemoteRunnerOptions options);
  ~RemoteRunner() override;
  RemoteRunner(const RemoteRunner&) = delete;
  RemoteRunner& operator=(const RemoteRunner&) = delete;
  // Errors: the worker's (its ErrorCode and message), kFailed for a dead worker, kCancelled when
  // cancelled (before a worker claimed it, or by the worker), the store's when enqueueing fails.
  // The first call opens the work watch of its context's store, for every later call on that store.
  Result<TaskOutcome> run(TaskContext& context) override;

 private:
  class Watchers;

  RemoteRunnerOptions options_;
  std::unique_ptr<Watchers> watchers_;
};

// A work item's error code as an ErrorCode (kFailed when out of range).
ErrorCode work_error_code(int code);

}  // namespace strata::orchestrate
