#pragma once
// Trigger-rule evaluation as Airflow 2 defines it: given the states of a task's upstream tasks,
// decide whether it runs now, waits, is skipped or is marked upstream_failed. Pure; thread-safe.

#include <vector>

#include "orchestrate/states.h"

namespace strata::orchestrate {

// Counts of a task's direct upstream tasks by state. `done` counts finished ones.
struct UpstreamCounts {
  int total = 0;
  int success = 0;
  int skipped = 0;
  int failed = 0;
  int upstream_failed = 0;
  int done = 0;

  void add(TaskState state);
};

enum class TriggerDecision { kWait, kRun, kSkip, kUpstreamFailed };

// Airflow semantics:
//   all_success  runs when all succeeded; any failed/upstream_failed -> upstream_failed; else any skipped -> skipped
//   all_failed   runs when all failed/upstream_failed; any success or skipped -> skipped
//   all_done     runs when all finished, whatever their state
//   one_success  runs as soon as one succeeded; all done without success -> skipped if all skipped, else upstream_failed
//   one_failed   runs as soon as one failed/upstream_failed; all done without failure -> skipped
//   none_failed  runs when all done and none failed/upstream_failed; a failure -> upstream_failed
//   none_skipped runs when all done and none skipped; a skip -> skipped
//   always       runs at once
// A task without upstream tasks always runs.
TriggerDecision evaluate_trigger(TriggerRule rule, const UpstreamCounts& counts);

}  // namespace strata::orchestrate
