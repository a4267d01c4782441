#pragma once
// SqlRunner: runs a `sql:` task's statements on the task's target (empty = the default target).
// DuckDB (any warehouse::Database): on a session of its own; execution_timeout interrupts the
// running query (Warehouse::interrupt()). PostgreSQL targets: on a libpq connection of the pg
// module; execution_timeout sends a cancel request (pg::Canceller), the statement fails, and the
// connection is closed, so the backend ends. Target resolvers are injected (the runtime maps
// profile targets to opened databases; tests pass an in-memory DuckDB or a test cluster).
// Thread-safe: each attempt opens its own session.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/secrets.h"
#include "orchestrate/task_runner.h"
#include "warehouse/warehouse.h"

namespace strata::pg {
class Connection;
}

namespace strata::orchestrate {

// Returns the database of a target name; the database must outlive every run. Thread-safe.
using TargetResolver = std::function<Result<warehouse::Database*>(const std::string& target)>;
// Returns the libpq conninfo of a target when it is a PostgreSQL target, nullopt otherwise.
using PostgresResolver = std::function<Result<std::optional<std::string>>(const std::string& target)>;

// A task's target as logs name it: its `target:`, or "default".
std::string target_label(const TaskSpec& task);

// Runs `on_postgres` on a new libpq connection when the task's target is a PostgreSQL one, else
// `on_duckdb` on a new session of the target's database; the attempt's cancel interrupts either
// while it runs (a cancel request, or Warehouse::interrupt()). Notices go to the task's log. For
// the tasks that run statements on a target: sql and sql sensors.
Status run_on_target(const TargetResolver& resolver, const PostgresResolver& postgres, const SecretMaskerPtr& masker,
                     TaskContext& context, const std::function<Status(pg::Connection&)>& on_postgres,
                     const std::function<Status(warehouse::Warehouse&)>& on_duckdb);

class SqlRunner final : public TaskRunner {
 public:
  explicit SqlRunner(TargetResolver resolver, PostgresResolver postgres = {}, SecretMaskerPtr masker = {})
      : resolver_(std::move(resolver)), postgres_(std::move(postgres)), masker_(std::move(masker)) {}
  Result<TaskOutcome> run(TaskContext& context) override;

 private:
  TargetResolver resolver_;
  PostgresResolver postgres_;
  SecretMaskerPtr masker_;
};

}  // namespace strata::orchestrate
