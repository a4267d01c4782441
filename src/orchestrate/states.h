#pragma once
// Task kinds, trigger rules, task-instance and run states (Airflow 2 vocabulary), and their names
// as stored in the metadata store and printed by the CLI. Pure values; thread-safe.

#include <optional>
#include <string_view>

namespace strata::orchestrate {

enum class TaskKind { kSync, kBuild, kTest, kFreshness, kSql, kShell, kSensor };

// When a task may run, given its upstream tasks' states (Airflow's trigger rules).
enum class TriggerRule { kAllSuccess, kAllDone, kAllFailed, kOneSuccess, kOneFailed, kNoneFailed, kNoneSkipped, kAlways };

// A task instance's state. kNone: not decided yet; kUpForRetry: failed, waiting for its next try;
// kUpForReschedule: a sensor in reschedule mode between two pokes (its slot freed).
enum class TaskState { kNone, kQueued, kRunning, kSuccess, kFailed, kUpForRetry, kUpstreamFailed, kSkipped,
                       kUpForReschedule };

enum class RunState { kQueued, kRunning, kSuccess, kFailed };

enum class RunType { kManual, kScheduled, kBackfill, kDatasetTriggered };

std::string_view task_kind_name(TaskKind kind);
std::optional<TaskKind> parse_task_kind(std::string_view name);
std::string_view trigger_rule_name(TriggerRule rule);
std::optional<TriggerRule> parse_trigger_rule(std::string_view name);
std::string_view task_state_name(TaskState state);
std::optional<TaskState> parse_task_state(std::string_view name);
std::string_view run_state_name(RunState state);
std::optional<RunState> parse_run_state(std::string_view name);
std::string_view run_type_name(RunType type);
std::optional<RunType> parse_run_type(std::string_view name);

// True for states a task instance never leaves (success, failed, upstream_failed, skipped).
bool is_finished(TaskState state);
// True for the states of an instance the executor queues again at its next_retry_at
// (up_for_retry, up_for_reschedule).
bool is_waiting(TaskState state);

}  // namespace strata::orchestrate
