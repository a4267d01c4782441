#pragma once
// SqlRunner: runs a `sql:` task's statements on a warehouse session of the task's target (empty =
// the default target). execution_timeout interrupts the running query (Warehouse::interrupt(): DuckDB
// interrupt, PostgreSQL cancel). The target resolver is injected (the CLI maps profile targets to
// opened databases; tests pass an in-memory DuckDB). Thread-safe: each attempt opens its own session.

#include <functional>
#include <memory>
#include <string>

#include "orchestrate/task_runner.h"
#include "warehouse/warehouse.h"

namespace strata::orchestrate {

// Returns the database of a target name; the database must outlive every run. Thread-safe.
using TargetResolver = std::function<Result<warehouse::Database*>(const std::string& target)>;

class SqlRunner final : public TaskRunner {
 public:
  explicit SqlRunner(TargetResolver resolver) : resolver_(std::move(resolver)) {}
  Result<TaskOutcome> run(TaskContext& context) override;

 private:
  TargetResolver resolver_;
};

}  // namespace strata::orchestrate
