#pragma once
// SensorRunner: runs `sensor:` tasks (pipeline.h's SensorSpec) as Airflow's SqlSensor, FileSensor
// and ExternalTaskSensor run in poke mode. Each poke either runs the SQL on the task's target
// (DuckDB through a warehouse session, PostgreSQL through a libpq connection, as SqlRunner) and
// reads the first column of the first row, looks for a path (a glob pattern) under the project
// folder, or reads the state of another pipeline's run (or of one of its tasks) at this run's
// logical date less execution_delta from the metadata store. The sensor is met when the value is
// truthy as in Python (not NULL, false, 0 or ''; no row is not met), the pattern matches a file or
// a non-empty folder, or the state is one of allowed_states (no such run yet is not met; a state
// of failed_states fails the attempt, or skips it with soft_fail). `task:` may name a task group
// (e.g. a `build:` task's expansion): met when all its tasks are allowed, failed when one fails. Between pokes it sleeps poke_interval,
// waking at once on cancel (execution_timeout, shutdown); the last poke comes at `timeout` after the
// attempt started. Not met then, it fails with a final error (no retry, as AirflowSensorTimeout), or is skipped with soft_fail.
// A poke's own error (bad SQL, lost connection) fails the attempt, which may be retried.
// In reschedule mode each run is one poke: not met, it returns TaskOutcome::kReschedule and the
// executor runs it again after poke_interval (or times it out: Executor).
// Thread-safe: each attempt uses its own sessions.

#include "orchestrate/sql_runner.h"

namespace strata::orchestrate {

class SensorRunner final : public TaskRunner {
 public:
  SensorRunner(TargetResolver resolver, PostgresResolver postgres = {}, SecretMaskerPtr masker = {})
      : resolver_(std::move(resolver)), postgres_(std::move(postgres)), masker_(std::move(masker)) {}
  Result<TaskOutcome> run(TaskContext& context) override;

 private:
  // One poke: whether the sensor is met now. `failed_state` is set (and false returned) when a
  // pipeline sensor found one of its failed_states.
  Result<bool> poke(TaskContext& context, std::string& failed_state);
  Result<bool> poke_sql(TaskContext& context);
  // A `pipeline:` sensor: reads the other run's (or task's) state from the metadata store.
  Result<bool> poke_external(TaskContext& context, std::string& failed_state);

  TargetResolver resolver_;
  PostgresResolver postgres_;
  SecretMaskerPtr masker_;
};

// Python's truthiness of a query's first value given as text: NULL (`null`), "false"/"f", a
// number equal to 0, and "" are false; anything else is true. `boolean` and `number` say how the
// text is to be read.
bool sensor_value_truthy(bool null, std::string_view text, bool boolean, bool number);

}  // namespace strata::orchestrate
