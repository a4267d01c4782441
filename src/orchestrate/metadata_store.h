#pragma once
// MetadataStore: the run history behind one interface (DESIGN.md key types). Implementations:
// SqliteStore (embedded, `.strata/strata.db`) and PgStore (PostgreSQL, shared by several scheduler
// and worker processes); open_metadata_store() (store_factory.h) picks one from the project's
// settings. It is also the queue of executor mode workers (work items, remote_runner.h). All times
// are microseconds since the Unix epoch (UTC). Implementations must be thread-safe: every method
// may be called from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "orchestrate/states.h"

namespace strata::orchestrate {

struct PipelineRecord {
  std::string name;
  bool paused = false;
};

// One run of a pipeline over a data interval [interval_start, interval_end). The logical date is
// the interval's start. `owner` is the process executing it (see HeartbeatRecord).
// A run is identified by (pipeline, run_id), as Airflow's (dag_id, run_id): two pipelines may each
// have a run "scheduled__2026-01-01T00:00:00Z".
struct RunRecord {
  std::string run_id;         // "scheduled__2026-01-01T00:00:00Z", "manual__…", "backfill__…"
  std::string pipeline;
  RunType type = RunType::kManual;
  RunState state = RunState::kQueued;
  int64_t logical_date = 0;
  int64_t interval_start = 0;
  int64_t interval_end = 0;
  std::string params_json = "{}";
  int64_t queued_at = 0;
  int64_t start_at = 0;       // 0 = not yet
  int64_t end_at = 0;
  std::string owner;
  // Why the run ended as it did, when Strata knows more than its tasks' states: a dagrun_timeout,
  // a cancel and who asked for it. Empty otherwise; a clear empties it.
  std::string note;
};

// A task within a run. try_number counts tries started so far (0 = never started); max_tries is how
// many it may make in all (retries + 1, raised by a clear to try_number + retries + 1).
struct TaskInstanceRecord {
  std::string pipeline;
  std::string run_id;
  std::string task_id;
  std::string group;
  TaskKind kind = TaskKind::kShell;
  TaskState state = TaskState::kNone;
  int try_number = 0;
  int max_tries = 1;
  int64_t start_at = 0;
  int64_t end_at = 0;
  int64_t next_retry_at = 0;  // when up_for_retry: when the next try may start
  std::string pool;
  int priority = 1;
  // While queued but unable to start: what it waits for (its depends_on_past, a pool or the
  // pipeline's max_active_tasks full in other schedulers). Empty otherwise.
  std::string note;
};

// One try of a task instance. state: running, success, failed, skipped.
struct AttemptRecord {
  std::string pipeline;
  std::string run_id;
  std::string task_id;
  int try_number = 1;
  TaskState state = TaskState::kRunning;
  int64_t start_at = 0;
  int64_t end_at = 0;
  std::string log_path;
  int exit_code = 0;
  std::string error;
  std::string owner;
};

// A process that owns runs: the scheduler of `strata serve`, or `strata pipeline run --wait`.
struct HeartbeatRecord {
  std::string owner;
  std::string host;
  int64_t pid = 0;
  int64_t started_at = 0;
  int64_t beat_at = 0;
};

// A sync task's report (the ingest module's JSON) and a data test's result. `pipeline` is the run's
// pipeline ("" for a sync outside any run, e.g. `strata sync`).
struct SyncReportRecord {
  std::string run_id, task_id, connection, report_json;
  int64_t at = 0;
  std::string pipeline = {};  // an initializer: brace-initialising without it stays warning-free
};
struct TestResultRecord {
  std::string run_id, task_id, test_name, status, message;
  int64_t failures = 0;
  int64_t at = 0;
  std::string pipeline = {};
};

// One update of a dataset (datasets.h): by a task's success (its pipeline, run and task), or from
// the API (those empty). id: ascending in the order events were added, across every process
// sharing the store. extra_json: a JSON object.
struct DatasetEventRecord {
  int64_t id = 0;
  std::string uri;
  int64_t at = 0;
  std::string source_pipeline;
  std::string source_run_id;
  std::string source_task_id;
  std::string extra_json = "{}";
};

// A dataset-scheduled pipeline's queue for one of its datasets: the events after consumed_id (the
// last event its previous dataset-triggered run consumed, or the newest event when the pipeline
// first waited for the dataset). count == 0: nothing queued.
struct DatasetQueueRecord {
  std::string uri;
  int64_t consumed_id = 0;
  int64_t last_id = 0;   // the newest queued event (consumed_id when none)
  int64_t count = 0;
  int64_t first_at = 0;  // the oldest queued event's time
  int64_t last_at = 0;   // the newest's
};

// A dataset's events in all: how many, and the newest one's id and time.
struct DatasetSummaryRecord {
  std::string uri;
  int64_t events = 0;
  int64_t last_id = 0;
  int64_t last_at = 0;
};

// Identifies one work item: one try of one task instance (the Celery executor's message key).
struct WorkKey {
  std::string pipeline;
  std::string run_id;
  std::string task_id;
  int try_number = 1;
  bool operator==(const WorkKey&) const = default;
};

// A task try handed to `strata worker` processes through the store (executor mode "workers",
// remote_runner.h). state: queued (waiting for a worker), running (claimed by `worker`), then
// success, skipped or failed. heartbeat_at is written by the worker holding it; readers compare
// its changes, not its value, with their own clock (clocks of two machines may disagree).
// error_code is the failure's ErrorCode as an integer (so a configuration error stays one, and is
// not retried, across processes).
struct WorkItemRecord {
  WorkKey key;
  TaskKind kind = TaskKind::kShell;
  std::string queue = "default";
  std::string command;          // rendered by the scheduler
  TaskState state = TaskState::kQueued;
  std::string worker;           // "host:pid" of the worker that claimed it; "" while queued
  int64_t enqueued_at = 0;
  int64_t claimed_at = 0;
  int64_t heartbeat_at = 0;
  int64_t finished_at = 0;
  int exit_code = 0;
  bool has_exit_code = false;   // a process ran and exit_code is its status
  int error_code = 0;
  std::string error;
  bool cancel_requested = false;
  std::string cancel_reason;
};

// Set in a work item's error_code when the worker's failure is final (no retry; Error::is_final).
inline constexpr int kFinalErrorBit = 0x100;

// How a worker ends a work item.
struct WorkResult {
  TaskState state = TaskState::kSuccess;  // success, skipped or failed
  std::optional<int> exit_code;
  int error_code = 0;  // the ErrorCode, plus kFinalErrorBit for a final failure (Error::is_final)
  std::string error;
  int64_t at = 0;
};

// A change to the work queue, as a store's watch (MetadataStore::watch_work) reports it.
struct WorkSignal {
  enum class Kind : std::uint8_t {
    kQueued,    // an item was enqueued on `queue` (for workers)
    kCancel,    // item `key` was asked to stop, or failed while queued (for its worker and scheduler)
    kChanged,   // item `key` was claimed, finished or got log text (for its scheduler)
    kMissed,    // signals may have been missed (the watch's connection was lost): look at everything
  };
  Kind kind = Kind::kMissed;
  std::string queue;
  WorkKey key;
};
using WorkSignalHandler = std::function<void(const WorkSignal&)>;

// Delivers a store's WorkSignals while it lives (MetadataStore::watch_work). Destroying it stops
// the delivery and waits for a handler call in progress.
class WorkWatch {
 public:
  virtual ~WorkWatch() = default;
};

// SQLSTATE of a unique-key violation: create_run's error carries it in Error::state() when the
// run exists already (another scheduler sharing the store may have created it first).
inline constexpr std::string_view kUniqueViolation = "23505";

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Pipelines: registered on first sight, unpaused unless told otherwise.
  virtual Status ensure_pipeline(const std::string& name) = 0;
  virtual Status set_paused(const std::string& name, bool paused) = 0;
  virtual Result<std::vector<PipelineRecord>> pipelines() = 0;

  // Runs, keyed by (pipeline, run_id). create_run fails with kFailed when the pipeline has a run
  // with that run_id already.
  virtual Status create_run(const RunRecord& run) = 0;
  virtual Status update_run(const RunRecord& run) = 0;
  // Atomically moves a queued run to running under `owner`; false when it was not queued any more
  // (another process claimed it first), or when `max_running` > 0 and the pipeline already has
  // that many running runs (counted atomically with the claim, across every process sharing the
  // store: a pipeline's max_active_runs holds with several schedulers).
  virtual Result<bool> claim_run(const std::string& pipeline, const std::string& run_id, const std::string& owner,
                                 int64_t at, int max_running) = 0;
  // Atomically moves a running run from `from_owner` to `to_owner` (recovery takes a dead owner's
  // run this way before resetting it); false when the run is not running under `from_owner` any
  // more (another process recovered it first). Never changes a run of any other owner.
  virtual Result<bool> adopt_run(const std::string& pipeline, const std::string& run_id,
                                 const std::string& from_owner, const std::string& to_owner) = 0;
  virtual Result<std::optional<RunRecord>> run(const std::string& pipeline, const std::string& run_id) = 0;
  // Every run with this run_id, across pipelines (ordered by pipeline): for callers that address a
  // run by its id alone and must tell "none" from "ambiguous".
  virtual Result<std::vector<RunRecord>> runs_with_id(const std::string& run_id) = 0;
  // The run of a pipeline at a logical date, if any.
  virtual Result<std::optional<RunRecord>> run_at(const std::string& pipeline, int64_t logical_date) = 0;
  // Runs of a pipeline (all pipelines when empty), newest logical date first, optionally by state.
  virtual Result<std::vector<RunRecord>> runs(const std::string& pipeline, std::optional<RunState> state,
                                               int limit) = 0;
  // The pipeline's run with the latest logical date before `logical_date`, if any, manual runs
  // left out with skip_manual (depends_on_past).
  virtual Result<std::optional<RunRecord>> previous_run(const std::string& pipeline, int64_t logical_date, bool skip_manual) = 0;
  // The latest scheduled/backfill data interval end of a pipeline, for the timetable.
  virtual Result<std::optional<RunRecord>> latest_run(const std::string& pipeline) = 0;

  // Task instances, keyed by (pipeline, run_id, task_id).
  virtual Status upsert_task_instance(const TaskInstanceRecord& ti) = 0;
  virtual Result<std::vector<TaskInstanceRecord>> task_instances(const std::string& pipeline,
                                                                  const std::string& run_id) = 0;
  virtual Status delete_task_instances(const std::string& pipeline, const std::string& run_id) = 0;

  // Attempts, keyed by (pipeline, run_id, task_id, try_number).
  virtual Status upsert_attempt(const AttemptRecord& attempt) = 0;
  // Saves an attempt and its task instance in one transaction (what the executor does at each
  // attempt's start and end).
  virtual Status save_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt) = 0;
  // save_attempt for an attempt that starts (ti running), holding one of its pool's slots. With
  // pool_slots > 0 it saves only while fewer than pool_slots task instances of ti.pool other than
  // ti itself are running, counted atomically with the save across every process sharing the
  // store (a pool holds with several schedulers, as Airflow's pools do); false then, nothing saved.
  // pipeline_slots > 0 (the pipeline's max_active_tasks) caps ti.pipeline's running instances
  // likewise. Only instances of running runs count.
  virtual Result<bool> start_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt, int pool_slots,
                                     int pipeline_slots = 0) = 0;
  virtual Result<std::vector<AttemptRecord>> attempts(const std::string& pipeline, const std::string& run_id,
                                                      const std::string& task_id) = 0;
  // Every attempt still in state running, across runs.
  virtual Result<std::vector<AttemptRecord>> running_attempts() = 0;

  virtual Status heartbeat(const HeartbeatRecord& beat) = 0;
  virtual Result<std::vector<HeartbeatRecord>> heartbeats() = 0;

  // Work items (executor mode "workers"), keyed by WorkKey. enqueue_work stores the item queued,
  // replacing an item of the same key and its log (a try re-enqueued after a recovery).
  virtual Status enqueue_work(const WorkItemRecord& item) = 0;
  // Up to `limit` queued items of the queues (all queues when empty), oldest first. Candidates
  // only: a worker must claim_work one before running it.
  virtual Result<std::vector<WorkItemRecord>> queued_work(const std::vector<std::string>& queues, int limit) = 0;
  // One conditional UPDATE: queued -> running under `worker` (claimed_at = heartbeat_at = at);
  // false when it was not queued any more. Across connections and processes exactly one claimer
  // of an item gets true.
  virtual Result<bool> claim_work(const WorkKey& key, const std::string& worker, int64_t at) = 0;
  // Renews the claim; false when the item is not running under `worker` any more (it was failed
  // as a zombie, or cancelled while queued): the worker must stop the attempt.
  virtual Result<bool> heartbeat_work(const WorkKey& key, const std::string& worker, int64_t at) = 0;
  // Ends a running item held by `worker` (the worker's result; or, by the scheduler, a zombie's
  // failure naming the worker it gave up on); false when it was not running under `worker`.
  virtual Result<bool> finish_work(const WorkKey& key, const std::string& worker, const WorkResult& result) = 0;
  // Asks the worker to stop the item (cancel_requested); a still queued item ends failed at once
  // with the reason as its error. Nothing happens to a finished item.
  virtual Status request_cancel_work(const WorkKey& key, const std::string& reason, int64_t at) = 0;
  virtual Result<std::optional<WorkItemRecord>> work_item(const WorkKey& key) = 0;
  // A work item's log, shipped by the worker as numbered chunks (seq from 1, in order).
  virtual Status append_work_log(const WorkKey& key, int64_t seq, const std::string& text) = 0;
  // The chunks with seq > after_seq, in order, as (seq, text).
  virtual Result<std::vector<std::pair<int64_t, std::string>>> work_log(const WorkKey& key, int64_t after_seq) = 0;
  // Calls `on_signal`, from a thread of the watch's own, soon after any process sharing the store
  // enqueues, claims, finishes or cancels a work item or ships its log, so that workers and
  // schedulers need not wait for their next poll. Signals are hints: a handler reads the store to
  // learn what changed. A null watch when the store cannot watch (SQLite): its users poll.
  // Errors: the watch's own connection could not be opened (its users then poll).
  virtual Result<std::unique_ptr<WorkWatch>> watch_work(WorkSignalHandler on_signal) {
    (void)on_signal;
    return std::unique_ptr<WorkWatch>();
  }

  // Datasets (datasets.h). add_dataset_event stores the event (its id and at are ignored: the
  // store numbers it, `at` is the time given) and returns its id.
  virtual Result<int64_t> add_dataset_event(const DatasetEventRecord& event, int64_t at) = 0;
  // Events of one dataset (all datasets when uri is empty): the newest `limit` when after_id is 0,
  // else the oldest `limit` with id > after_id (a cursor to follow them).
  virtual Result<std::vector<DatasetEventRecord>> dataset_events(const std::string& uri, int64_t after_id,
                                                                 int limit) = 0;
  // The events a run's tasks recorded (their outlets), oldest first.
  virtual Result<std::vector<DatasetEventRecord>> run_outlet_events(const std::string& pipeline,
                                                                    const std::string& run_id) = 0;
  // Starts the pipeline's queues on `uris` (its schedule's datasets): a dataset the pipeline did not
  // wait for before starts with nothing queued, so events older than the pipeline's schedule on it
  // never trigger it, as in Airflow. Its queues of other datasets are dropped (a dataset taken out
  // of its schedule and put back starts afresh). Writes: call it when the schedule is (re)read.
  virtual Status start_dataset_queues(const std::string& pipeline, const std::vector<std::string>& uris) = 0;
  // The pipeline's queue for each of `uris` (see DatasetQueueRecord), in that order; reads only. A
  // queue not started has nothing queued.
  virtual Result<std::vector<DatasetQueueRecord>> dataset_queue(const std::string& pipeline,
                                                                const std::vector<std::string>& uris) = 0;
  // In one transaction: consumes the queues (each one's events up to its last_id; its consumed_id
  // must still be the stored one), creates `run` and records those events as the ones that
  // triggered it. false, and nothing changed, when no queue has events, or when another process
  // consumed one first.
  // Errors: create_run's.
  virtual Result<bool> create_dataset_run(const RunRecord& run, const std::vector<DatasetQueueRecord>& queues) = 0;
  // Consumes the queues without a run (a paused pipeline's: as in Airflow, events that come while it
  // is paused do not trigger it later). false, and nothing changed, as create_dataset_run.
  virtual Result<bool> skip_dataset_queue(const std::string& pipeline, const std::vector<DatasetQueueRecord>& queues) = 0;
  // Every dataset with events, by URI.
  virtual Result<std::vector<DatasetSummaryRecord>> dataset_summaries() = 0;
  // The events that triggered a dataset-triggered run, oldest first.
  virtual Result<std::vector<DatasetEventRecord>> run_dataset_events(const std::string& pipeline,
                                                                     const std::string& run_id) = 0;

  virtual Status add_sync_report(const SyncReportRecord& report) = 0;
  virtual Result<std::vector<SyncReportRecord>> sync_reports(const std::string& pipeline,
                                                             const std::string& run_id) = 0;
  virtual Status add_test_result(const TestResultRecord& result) = 0;
  virtual Result<std::vector<TestResultRecord>> test_results(const std::string& pipeline,
                                                             const std::string& run_id) = 0;
};

}  // namespace strata::orchestrate
