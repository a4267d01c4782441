#pragma once
// Executor: runs the task instances of pipeline runs on an in-process thread pool.
// - Event-driven: when a task finishes, the finishing worker evaluates its children's trigger rules
//   at once and hands runnable ones to idle workers through a condition variable (no polling).
// - Retries: a failed try with tries left becomes up_for_retry and is re-queued by a timer thread at
//   end + retry_delay_after(policy, try) on the injected Clock.
// - Sensors in reschedule mode: a poke that is not met makes the instance up_for_reschedule (no
//   slot held) until the timer queues it again after poke_interval, in the same try; at the
//   timeout (from the first poke) it fails without retry, or is skipped with soft_fail.
// - execution_timeout: the timer thread fires the attempt's CancelToken at the deadline; runners
//   stop their work (process group killed, query interrupted); the try fails (and may be retried).
// - A pipeline's max_active_tasks caps its running tasks across its runs, and across every
//   executor sharing the store (MetadataStore::start_attempt, as for pools below); its
//   dagrun_timeout cancels a run still executing that long after its start (the timer thread).
// - Pools cap running tasks across all runs (`pools` option; "default_pool" has 128 slots unless
//   set); among ready tasks the highest `priority` starts first, then first come first served.
//   The cap holds across every executor sharing the store (MetadataStore::start_attempt): a task
//   whose pool (or pipeline's max_active_tasks) is full in other processes waits kPoolRecheckMicros
//   (on the clock) and tries again,
//   as does a task with depends_on_past whose instance in the previous run has not succeeded.
// - Every state change is written to the MetadataStore; one log file per attempt.
// - Datasets: a task's success records one dataset event per outlet (datasets.h), before its
//   run's end is written; a `build:` task's outlets once every task it expanded into succeeded.
//   A resumed run records those a crash kept from being written.
// Thread-safety: all public methods may be called from any thread. The executor must outlive no
// one: destroy it (or call shutdown()) before the store, runners and clock it was given.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "orchestrate/clock.h"
#include "orchestrate/metadata_store.h"
#include "orchestrate/pipeline.h"
#include "orchestrate/task_runner.h"
#include "orchestrate/task_template.h"

namespace strata::orchestrate {

// A task instance changed state. mono_micros is monotonic_micros() at the change: for kRunning just
// before the runner starts, for a finished state right after it returned.
struct TaskEvent {
  std::string pipeline;
  std::string run_id;
  std::string task_id;
  TaskState state = TaskState::kNone;
  int try_number = 0;
  int64_t mono_micros = 0;
};

struct ExecutorOptions {
  int workers = 16;
  std::map<std::string, int> pools;     // pool -> slots
  std::string log_root = ".strata/logs";
  std::string project_dir = ".";
  std::string owner = "local";          // recorded on runs and attempts
  SecretMaskerPtr masker = std::make_shared<SecretMasker>();
  // Observers, called from executor threads without locks held; must be thread-safe and quick.
  std::function<void(const TaskEvent&)> on_task_event;
  std::function<void(const RunRecord&)> on_run_finished;
  // After a task's success recorded dataset events (its outlets).
  std::function<void()> on_dataset_event;
};

class Executor {
 public:
  // How long a task whose pool's slots other processes hold waits before it tries again.
  static constexpr int64_t kPoolRecheckMicros = 1'000'000;
  // How many times a dataset event's write is tried before it is logged as lost.
  static constexpr int kEventWriteTries = 3;


  // clock, store and runners must outlive the executor.
  Executor(MetadataStore& store, RunnerMap runners, Clock& clock, ExecutorOptions options);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Starts (or resumes) a run: task instances already finished in the store are kept, up_for_retry
  // ones wait for their next_retry_at, all others are evaluated afresh. Marks the run running.
  // Errors: kConfig for an undefined pool, kFailed when the run is already executing here or the
  // executor is shut down.
  Status start_run(std::shared_ptr<const PipelineSpec> pipeline, RunRecord run);
  // Blocks until the run (started here) of the pipeline has finished; returns its final state.
  RunState wait(const std::string& pipeline, const std::string& run_id);
  // As wait(), but gives up after timeout_ms of real time; nullopt then.
  std::optional<RunState> wait_for(const std::string& pipeline, const std::string& run_id, int64_t timeout_ms);
  // Runs of a pipeline executing now; of every pipeline when `pipeline` is empty.
  int active_runs(const std::string& pipeline) const;
  // Cancels a run executing here, as Airflow's "mark run failed": running attempts are cancelled
  // and end failed without retry, tasks not yet finished end skipped, the run ends failed. Returns
  // at once (wait() sees the end); false when the run is not executing in this executor.
  // Thread-safe.
  bool cancel_run(const std::string& pipeline, const std::string& run_id, const std::string& reason);
  // Stops: cancels running attempts (they end failed or up_for_retry), joins every thread.
  void shutdown();

 private:
  struct Node;
  struct RunExec;
  struct ReadyItem {
    int priority;
    uint64_t seq;
    RunExec* run;
    size_t node;
    bool operator<(const ReadyItem& o) const {
      return priority != o.priority ? priority > o.priority : seq < o.seq;
    }
  };
  struct Pending;  // store writes and events gathered under the lock, flushed after it
  using RunKey = std::pair<std::string, std::string>;  // (pipeline, run_id)

  void worker_loop();
  void timer_loop();
  bool pick_locked(ReadyItem& out);
  void enqueue_locked(RunExec& run, size_t node);
  void evaluate_children_locked(RunExec& run, size_t node, Pending& pending);
  void evaluate_locked(RunExec& run, size_t node, Pending& pending);
  void finish_node_locked(RunExec& run, size_t node, Pending& pending);
  void drop_waiting_locked(RunExec& run, size_t node);
  // Marks `pending` as gathered for `run` under the lock, before it is flushed after it.
  void gathered_locked(RunExec& run, Pending& pending);
  // Writes a pending's task instances and events; the run's end (if any) only once the run's
  // other pendings are written. Takes the mutex briefly: call without it.
  void flush(Pending& pending);
  // Runs one attempt; false when it did not start: its pool (or its pipeline's max_active_tasks)
  // is full across the store, or its depends_on_past is not met; `waiting` then says which.
  bool run_attempt(RunExec& run, size_t node, int try_number, const std::shared_ptr<CancelToken>& cancel,
                   std::string& waiting);
  // A task succeeded: its outlets' dataset events join `pending` (a `build:` task's once every
  // task it expanded into succeeded).
  void queue_outlets_locked(RunExec& run, size_t node, Pending& pending);
  // A resumed run: the events of outlets whose task succeeded before but that the store does not
  // hold (a crash, or a store that failed, between the success and its events).
  Result<std::vector<DatasetEventRecord>> missed_outlets(const RunExec& run);
  // Ends the attempt of a cancelled sensor between two pokes (skipped). Errors are logged.
  void close_attempt(const std::string& pipeline, const std::string& run_id, const std::string& task_id,
                     int try_number);
  // depends_on_past: empty when the task's instance in the pipeline's previous run (by logical
  // date; with catchup the previous non-manual one) succeeded or was skipped, or there is no
  // previous run, or it ended without the task; else what the task waits for.
  Result<std::string> past_blocks(const RunExec& run, const TaskSpec& task);
  // After a poke of a sensor in reschedule mode (first poke started at first_poke, this one ended
  // at `end`): true, with the next poke's time on `node`, when it was not met (or the executor's
  // shutdown stopped it: poked again at once when the run resumes). Past its timeout false, with
  // `outcome` made skipped (soft_fail) or a final failure; a cancelled run's poke becomes a
  // cancellation. `note` gets a line for the task log. False for any other task.
  bool reschedules(const RunExec& run, const TaskSpec& task, const CancelToken& cancel, int64_t first_poke,
                   int64_t end, Node& node, Result<TaskOutcome>& outcome, std::string& note);
  // An attempt ended: retried later, or finished (a cancelled run's attempt is not retried).
  void attempt_ended_locked(RunExec& run, size_t node, Pending& pending);
  // A picked task whose attempt did not start (its pool full elsewhere, or depends_on_past not met
  // yet; `waiting` says which, recorded as its note): queued again after kPoolRecheckMicros, or
  // skipped when its run was cancelled meanwhile.
  void not_started_locked(RunExec& run, size_t node, Pending& pending, const std::string& waiting);
  int pool_slots(const std::string& pool) const;
  // When a run executing here times out (dagrun_timeout).
  static int64_t run_deadline(const RunExec& run);
  // dagrun_timeout: cancels the run (as cancel_run) if it still executes here. Call without the lock.
  void cancel_overdue_run(const std::string& pipeline, const std::string& run_id);
  TaskInstanceRecord record_of(const RunExec& run, size_t node) const;
  void emit(const RunExec& run, size_t node, TaskState state, int try_number, int64_t mono);

  MetadataStore& store_;
  RunnerMap runners_;
  Clock& clock_;
  ExecutorOptions options_;
  Logger logger_;
  int clock_subscription_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable timer_cv_;
  std::condition_variable done_cv_;
  std::condition_variable flushed_cv_;  // a run's pending was written (RunExec::flushing)
  bool stop_ = false;
  bool joined_ = false;
  uint64_t next_seq_ = 0;
  std::map<RunKey, std::unique_ptr<RunExec>> runs_;
  std::map<RunKey, RunState> finished_;
  std::set<ReadyItem> ready_;
  std::map<std::string, int> pool_used_;
  std::multimap<int64_t, std::pair<RunExec*, size_t>> retries_;
  std::multimap<int64_t, std::pair<RunExec*, size_t>> timeouts_;
  std::multimap<int64_t, RunKey> run_deadlines_;   // dagrun_timeout of the runs executing here
  std::map<std::string, int> pipeline_running_;     // running attempts per pipeline (max_active_tasks)
  std::vector<std::thread> threads_;
};

}  // namespace strata::orchestrate
