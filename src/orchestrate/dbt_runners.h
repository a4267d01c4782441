#pragma once
// The dbt task kinds as library calls into the transform module (transform/node_api.h):
// - build: one dbt node (model, seed, snapshot) of an expanded `build:` (TaskSpec::dbt_node), or,
//   for a build that expanded to nothing, the whole selector;
// - test: the tests of one node (an expanded `<node>.test` task, TaskSpec::dbt_tests), or every
//   test a `test: SELECTOR` selects;
// - freshness: the source freshness checks a `freshness: SELECTOR` selects.
// Test and freshness outcomes go to the metadata store (add_test_result). A task fails when its
// node errors, a test fails (warnings pass) or a source is stale past error_after.
// Models see the run's template variables as dbt vars: `{{ var('data_interval_start') }}`,
// data_interval_end, logical_date, ds, ts, run_id, and `var('params')`.
// execution_timeout interrupts the running warehouse query (CancellableDatabase).
//
// DbtProjects caches one compiled project per run (vars differ by run) and keeps the last few.
// Thread-safety: every method may be called from any thread.

#include <list>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/env.h"
#include "common/log.h"
#include "orchestrate/databases.h"
#include "orchestrate/task_runner.h"
#include "transform/node_api.h"

namespace strata::orchestrate {

// The dbt vars a run's models see.
nlohmann::json run_dbt_vars(const RunRecord& run, const nlohmann::json& pipeline_params);

class DbtProjects {
 public:
  DbtProjects(std::string project_dir, Databases& databases, Logger logger, EnvLookup env = {});

  // The project compiled with `vars` (no run: placeholders), for build expansion.
  Result<std::unique_ptr<transform::LoadedProject>> load(const nlohmann::json& vars) const;
  // A fingerprint of the project's files (transform::project_stamp): changes when they are edited.
  uint64_t stamp() const;
  // The project compiled for a run (cached by run id).
  Result<std::shared_ptr<const transform::LoadedProject>> for_run(const RunRecord& run,
                                                                   const nlohmann::json& pipeline_params);
  // The warehouse of the project's target (DuckDB).
  Result<warehouse::Database*> database(const transform::LoadedProject& project);

 private:
  std::string project_dir_;
  Databases& databases_;
  Logger logger_;
  EnvLookup env_;
  std::mutex mutex_;
  // (pipeline, run_id) -> project, newest first.
  std::list<std::pair<std::pair<std::string, std::string>, std::shared_ptr<const transform::LoadedProject>>> cache_;
};

// Runs build, test and freshness tasks (one object for the three kinds).
class DbtRunner final : public TaskRunner {
 public:
  explicit DbtRunner(DbtProjects& projects) : projects_(projects) {}
  Result<TaskOutcome> run(TaskContext& context) override;

 private:
  DbtProjects& projects_;
};

}  // namespace strata::orchestrate
