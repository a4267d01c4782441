#pragma once
// Runtime: everything `strata pipeline …` and `strata serve` need for one project folder: the
// secret masker taught the connections' passwords (connection_secrets.h), the
// metadata store (open_metadata_store: `.strata/strata.db`, or PostgreSQL when STRATA_METADATA_URL
// is set), the parsed pipelines (their `build:` tasks expanded into
// one task per dbt node, see build_expansion.h), pools (`pools.yml`: `pools: {name: slots}`), the
// task runners of every kind — shell, sql (DuckDB and PostgreSQL targets of profiles.yml), sync
// (ingest), build/test/freshness (transform) — sharing one Databases, the executor and the
// scheduler. add_runner() replaces a kind's runner before start(). In executor mode workers the
// executor gets a RemoteRunner for every kind instead; `strata worker` opens a Runtime without
// start() and runs work items with runners().
// Pipeline files are re-read by reload_pipelines(), which the scheduler's serve() calls every
// RuntimeOptions::pipeline_reload_interval and when it finds a queued run of a pipeline it does
// not know (a file added after start): new files add pipelines, changed ones replace theirs (runs
// already started keep the old version), deleted ones drop theirs; a file that fails to load keeps
// its previous version, and its located error is logged once per content. When the dbt project's
// files change (transform::project_stamp), the pipelines with `build:` tasks are expanded again:
// a model added to or removed from the project, or a changed ref or tag, changes their tasks.
// Thread-safety: build and start from one thread; afterwards as Executor and Scheduler;
// pipelines() and pipeline() from any thread.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "orchestrate/clock.h"
#include "orchestrate/databases.h"
#include "orchestrate/dbt_runners.h"
#include "orchestrate/executor.h"
#include "orchestrate/remote_runner.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/store_factory.h"
#include "warehouse/warehouse.h"

namespace strata::orchestrate {

struct RuntimeOptions {
  std::string project_dir = ".";
  int workers = 16;
  SecretMaskerPtr masker = std::make_shared<SecretMasker>();
  std::function<void(const TaskEvent&)> on_task_event;
  int64_t pipeline_reload_interval = 15'000'000;  // micros between serve()'s re-reads of pipelines/
  EnvLookup env = process_env();                   // where the metadata store settings come from
  int max_runs = 0;                                // SchedulerOptions::max_runs (0 = no limit)
  // SchedulerOptions::poll_interval; -1: 1 s with a PostgreSQL store (shared by other schedulers),
  // none with SQLite.
  int64_t poll_interval = -1;
  // kWorkers: every kind's runner is a RemoteRunner (remote_runner.h): `strata worker` processes
  // sharing the (PostgreSQL) store run the attempts. start() refuses it with a SQLite store.
  ExecutorMode executor = ExecutorMode::kLocal;
  int64_t worker_timeout = 30'000'000;  // RemoteRunnerOptions::worker_timeout
  int64_t queued_timeout = 600'000'000;  // RemoteRunnerOptions::queued_timeout
};

// What one reload_pipelines() changed.
struct PipelineReload {
  std::vector<std::string> added, updated, removed;
  // Unchanged files whose `build:` tasks expand differently: the dbt project changed.
  std::vector<std::string> reexpanded;
  std::vector<Error> errors;  // files that failed to load (the previous version, if any, stays)
};

class Runtime {
 public:
  // Opens the store, parses every pipeline and pools.yml, and expands build tasks (loading the dbt
  // project when a pipeline has one). Errors: located kConfig errors of the project's files
  // (pipelines, pools.yml, dbt_project.yml, models), kConnection when the store cannot be opened.
  static Result<std::unique_ptr<Runtime>> open(const RuntimeOptions& options);
  ~Runtime();

  // Plugs in a runner for a kind (sync, build, test, freshness) before start().
  void add_runner(TaskKind kind, std::shared_ptr<TaskRunner> runner) { runners_[kind] = std::move(runner); }
  // Creates the executor and scheduler. Call once. Errors: kUsage for executor mode workers on a
  // SQLite store (a worker elsewhere cannot share its file).
  Status start();
  // The local runners of every kind (what a `strata worker` runs items with), whatever the
  // executor mode.
  const RunnerMap& runners() const { return runners_; }

  MetadataStore& store() { return *store_; }
  // Which store it is (SQLite file or PostgreSQL); describe() is safe to log.
  const MetadataStoreConfig& store_config() const { return store_config_; }
  Executor& executor() { return *executor_; }
  Scheduler& scheduler() { return *scheduler_; }
  std::vector<std::shared_ptr<const PipelineSpec>> pipelines() const;
  // nullptr when there is no such pipeline.
  std::shared_ptr<const PipelineSpec> pipeline(const std::string& name) const;
  // Re-reads pipelines/ (see above), hands the result to the scheduler once started, and returns
  // what changed. Errors of single files are in the result, not failures.
  PipelineReload reload_pipelines();
  const std::string& project_dir() const { return options_.project_dir; }
  // The warehouses the tasks share (the HTTP server's data preview reads through them).
  Databases& databases() { return *databases_; }

 private:
  explicit Runtime(RuntimeOptions options) : options_(std::move(options)) {}
  Status expand_pipelines(std::vector<PipelineSpec>& specs);
  // The executor's observers: queue the notifications a pipeline's `notifications:` asks for.
  void notify_task(const TaskEvent& event);
  void notify_run(const RunRecord& run);
  // Reads and parses one pipeline file, recording its text; build tasks expanded.
  Result<PipelineSpec> load_pipeline(const std::string& path, std::string& text);

  RuntimeOptions options_;
  SystemClock clock_;
  MetadataStoreConfig store_config_;
  std::unique_ptr<MetadataStore> store_;
  mutable std::mutex pipelines_mutex_;  // guards pipelines_
  std::vector<std::shared_ptr<const PipelineSpec>> pipelines_;
  std::map<std::string, std::string> texts_;  // by file path: the text its pipeline (or error) came from
  uint64_t dbt_stamp_ = 0;  // the dbt project's files when the pipelines were last expanded
  std::map<std::string, int> pools_;
  RunnerMap runners_;
  std::unique_ptr<Databases> databases_;
  std::unique_ptr<DbtProjects> dbt_;
  std::unique_ptr<Notifier> notifier_;  // outlives the executor, whose threads call it
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace strata::orchestrate
