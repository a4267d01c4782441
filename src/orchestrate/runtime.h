#pragma once
// Runtime: everything `strata pipeline …` and `strata serve` need for one project folder: the
// secret masker taught the connections' passwords (connection_secrets.h), the
// metadata store (`.strata/strata.db`), the parsed pipelines (their `build:` tasks expanded into
// one task per dbt node, see build_expansion.h), pools (`pools.yml`: `pools: {name: slots}`), the
// task runners of every kind — shell, sql (DuckDB and PostgreSQL targets of profiles.yml), sync
// (ingest), build/test/freshness (transform) — sharing one Databases, the executor and the
// scheduler. add_runner() replaces a kind's runner before start().
// Thread-safety: build and start from one thread; afterwards as Executor and Scheduler.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "orchestrate/clock.h"
#include "orchestrate/databases.h"
#include "orchestrate/dbt_runners.h"
#include "orchestrate/executor.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/sqlite_store.h"
#include "warehouse/warehouse.h"

namespace strata::orchestrate {

struct RuntimeOptions {
  std::string project_dir = ".";
  int workers = 16;
  SecretMaskerPtr masker = std::make_shared<SecretMasker>();
  std::function<void(const TaskEvent&)> on_task_event;
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
  // Creates the executor and scheduler. Call once.
  Status start();

  MetadataStore& store() { return *store_; }
  Executor& executor() { return *executor_; }
  Scheduler& scheduler() { return *scheduler_; }
  const std::vector<std::shared_ptr<const PipelineSpec>>& pipelines() const { return pipelines_; }
  const PipelineSpec* pipeline(const std::string& name) const;
  const std::string& project_dir() const { return options_.project_dir; }
  // The warehouses the tasks share (the HTTP server's data preview reads through them).
  Databases& databases() { return *databases_; }

 private:
  explicit Runtime(RuntimeOptions options) : options_(std::move(options)) {}
  Status expand_pipelines(std::vector<PipelineSpec>& specs);

  RuntimeOptions options_;
  SystemClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::vector<std::shared_ptr<const PipelineSpec>> pipelines_;
  std::map<std::string, int> pools_;
  RunnerMap runners_;
  std::unique_ptr<Databases> databases_;
  std::unique_ptr<DbtProjects> dbt_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace strata::orchestrate
