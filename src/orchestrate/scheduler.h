#pragma once
// Scheduler: turns pipeline schedules into runs and runs into executor work.
// - tick(): for every unpaused pipeline, creates the scheduled runs that are due (the cron module's
//   Timetable: catchup, start/end dates) or the dataset-triggered run its datasets' events call for
//   (datasets.h; one per tick: events queue meanwhile, as in Airflow), then claims and starts queued runs (scheduled, manual,
//   backfill; oldest logical date first) while fewer than max_active_runs of that pipeline run.
// - trigger(): a manual run with params; backfill(): runs over a range (failed ones re-queued with
//   rerun_failed).
// - Heartbeat: this process's row in `heartbeats`, renewed every heartbeat_interval.
// - recover(): runs left running by a dead owner (no heartbeat for dead_after, or its pid is gone
//   on this host) are taken over: their running attempts become failed (and their work items, in
//   executor mode workers, are asked to stop: remote_runner.h), their task instances
//   up_for_retry (tries left, after the retry delay) or failed, and the runs are re-queued so the
//   next tick resumes them. Runs are never left stuck.
// - serve(): tick + heartbeat + recover in a loop, sleeping until the next due run, a finished run
//   (notify()), the next poll (SchedulerOptions::poll_interval) or stop().
// - Several schedulers may share one store (PostgreSQL): each creates the due runs (a run another
//   one created first is skipped: create_run's kUniqueViolation), claims queued runs with the
//   store's atomic claim_run, and takes over a dead owner's run only through adopt_run, so every
//   run is executed by exactly one process at a time. With a reloader set (set_reloader()), serve() also calls it every
//   interval, and at once when it finds a queued run of a pipeline it does not know (once
//   per such pipeline between two periodic reloads); the hook re-reads the pipeline files and
//   calls set_pipelines().
// - set_pipelines(): replaces the pipelines. Runs already started keep the spec they started with;
//   later runs use the new one. Queued runs of a pipeline that is gone stay queued.
// Thread-safety: notify(), stop(), set_pipelines(), pipelines(), pipeline() and trigger() may be
// called from any thread; other methods from one thread at a time.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "orchestrate/clock.h"
#include "orchestrate/executor.h"
#include "orchestrate/metadata_store.h"
#include "orchestrate/pipeline.h"
#include "orchestrate/timetable.h"

namespace strata::orchestrate {

struct SchedulerOptions {
  std::string owner;                          // unique per process (see default_owner())
  int64_t heartbeat_interval = 5'000'000;
  int64_t dead_after = 30'000'000;
  // At most this many runs executing in this process at once (0 = no limit), on top of each
  // pipeline's max_active_runs (which counts every process's runs). With several schedulers sharing
  // a store it spreads the queued runs across them, as Airflow's `parallelism` caps one scheduler.
  int max_runs = 0;
  // With a store shared by other schedulers: how often serve() looks for runs they queued or
  // freed (0 = only at heartbeats, due runs and notify()).
  int64_t poll_interval = 0;
};

// "host:pid:start-micros" — unique for this process.
std::string default_owner();
// This machine's host name ("localhost" when it cannot be read).
std::string host_name();

class Scheduler {
 public:
  // Store, executor and clock must outlive the scheduler. Errors in schedules were caught when the
  // pipelines were parsed.
  Scheduler(MetadataStore& store, Executor& executor, Clock& clock,
            std::vector<std::shared_ptr<const PipelineSpec>> pipelines, SchedulerOptions options);

  Status heartbeat();
  // Takes over the runs of dead owners (see above); returns how many runs were recovered.
  Result<int> recover();
  // Creates due runs and starts queued ones. Returns the next time a scheduled run becomes due (0
  // when none).
  Result<int64_t> tick();
  // A queued manual run at now (params_json: overrides of the pipeline's params, a JSON object).
  Result<RunRecord> trigger(const std::string& pipeline, const std::string& params_json);
  // Claims and starts one queued run at once (ignores max_active_runs: an explicit request).
  Status start_now(const std::string& pipeline, const std::string& run_id);
  // Queued backfill runs for logical dates in [from, to]. Existing runs are kept, except failed
  // ones when rerun_failed (their task instances are cleared and the run re-queued).
  Result<std::vector<RunRecord>> backfill(const std::string& pipeline, int64_t from, int64_t to, bool rerun_failed);
  // Claims and starts the queued runs among `run_ids` of one pipeline, oldest logical date first,
  // while fewer than its max_active_runs run. Nothing else: no scheduled runs are created and no
  // other run is started (what `strata pipeline backfill` drives, as Airflow's backfill does).
  // Returns how many it started.
  Result<int> start_runs(const std::string& pipeline, const std::vector<std::string>& run_ids);
  // Loops until stop(): recover, heartbeat, tick; sleeps until something is due or notify().
  void serve();
  void notify();
  void stop();

  // The hook serve() calls to re-read the pipeline files (see above), on the serving thread, every
  // `interval` micros. Call before serve().
  void set_reloader(std::function<void()> reload, int64_t interval);
  // Replaces the pipelines (see above).
  void set_pipelines(const std::vector<std::shared_ptr<const PipelineSpec>>& pipelines);
  std::vector<std::shared_ptr<const PipelineSpec>> pipelines() const;
  // nullptr when there is no such pipeline.
  std::shared_ptr<const PipelineSpec> pipeline(const std::string& name) const;

 private:
  struct Entry {
    std::shared_ptr<const PipelineSpec> spec;
    std::optional<Timetable> timetable;
  };
  static Entry make_entry(std::shared_ptr<const PipelineSpec> spec);
  std::optional<Entry> entry(const std::string& name) const;
  std::map<std::string, Entry> entries() const;
  // serve()'s reloads: periodic, and for queued runs of unknown pipelines.
  void maybe_reload(int64_t now, int64_t& next_reload);
  Result<int64_t> create_due_runs(const Entry& entry, int64_t now);
  // A dataset-scheduled pipeline: while paused, consumes its queues without a run; else, when its
  // condition holds over them, consumes them into a queued dataset-triggered run whose data
  // interval spans the consumed events' times. True when a run was created (or is due again).
  Result<bool> create_dataset_run(const Entry& entry, int64_t now, bool paused);
  // Starts queued runs of the pipeline (only those `only` names, when given) within max_active_runs.
  Result<int> start_queued(const Entry& entry, const std::vector<std::string>* only = nullptr);
  Status start_claimed(const Entry& entry, const std::string& run_id);
  Result<bool> owner_alive(const std::string& owner, const std::vector<HeartbeatRecord>& beats, int64_t now);
  Status fail_stale_task_instances(const PipelineSpec* spec, const RunRecord& run, int64_t now);

  MetadataStore& store_;
  Executor& executor_;
  Clock& clock_;
  SchedulerOptions options_;
  mutable std::mutex pipelines_mutex_;  // guards pipelines_
  std::map<std::string, Entry> pipelines_;
  std::function<void()> reload_;
  int64_t reload_interval_ = 15'000'000;
  std::set<std::string> reloaded_for_;
  // The pipeline version whose dataset queues this scheduler started (create_dataset_run).
  std::map<std::string, std::shared_ptr<const PipelineSpec>> started_queues_;   // unknown pipelines a reload was tried for since the last periodic one
  int64_t started_at_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
};

}  // namespace strata::orchestrate
