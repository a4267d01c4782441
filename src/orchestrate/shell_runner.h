#pragma once
// ShellRunner: runs a `shell:` task as `/bin/sh -c COMMAND` in its own process group, in the task's
// working folder (relative to the project), with the process environment plus the task's `env:`
// and STRATA_* variables (run id, task id, try number, logical date, data interval). stdout and
// stderr go line by line to the attempt's log. Exit 0 = success, 99 = skipped (as Airflow's
// BashOperator), anything else = failed. Cancellation kills the whole process group (SIGKILL).
// Thread-safe: any number of tasks may run at once.

#include "orchestrate/task_runner.h"

namespace strata::orchestrate {

class ShellRunner final : public TaskRunner {
 public:
  static constexpr int kSkipExitCode = 99;
  Result<TaskOutcome> run(TaskContext& context) override;
};

}  // namespace strata::orchestrate
