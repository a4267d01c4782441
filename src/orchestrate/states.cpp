#include "orchestrate/states.h"

#include <array>
#include <utility>

namespace strata::orchestrate {
namespace {

template <typename E, size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, n] : table)
    if (v == value) return n;
  return "unknown";
}

template <typename E, size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [v, n] : table)
    if (n == name) return v;
  return std::nullopt;
}

constexpr std::array<std::pair<TaskKind, std::string_view>, 7> kKinds{{
    {TaskKind::kSync, "sync"}, {TaskKind::kBuild, "build"}, {TaskKind::kTest, "test"},
    {TaskKind::kFreshness, "freshness"}, {TaskKind::kSql, "sql"}, {TaskKind::kShell, "shell"},
    {TaskKind::kSensor, "sensor"}}};

constexpr std::array<std::pair<TriggerRule, std::string_view>, 8> kRules{{
    {TriggerRule::kAllSuccess, "all_success"}, {TriggerRule::kAllDone, "all_done"},
    {TriggerRule::kAllFailed, "all_failed"}, {TriggerRule::kOneSuccess, "one_success"},
    {TriggerRule::kOneFailed, "one_failed"}, {TriggerRule::kNoneFailed, "none_failed"},
    {TriggerRule::kNoneSkipped, "none_skipped"}, {TriggerRule::kAlways, "always"}}};

constexpr std::array<std::pair<TaskState, std::string_view>, 9> kTaskStates{{
    {TaskState::kNone, "none"}, {TaskState::kQueued, "queued"}, {TaskState::kRunning, "running"},
    {TaskState::kSuccess, "success"}, {TaskState::kFailed, "failed"}, {TaskState::kUpForRetry, "up_for_retry"},
    {TaskState::kUpstreamFailed, "upstream_failed"}, {TaskState::kSkipped, "skipped"},
    {TaskState::kUpForReschedule, "up_for_reschedule"}}};

constexpr std::array<std::pair<RunState, std::string_view>, 4> kRunStates{{
    {RunState::kQueued, "queued"}, {RunState::kRunning, "running"}, {RunState::kSuccess, "success"},
    {RunState::kFailed, "failed"}}};

constexpr std::array<std::pair<RunType, std::string_view>, 4> kRunTypes{{
    {RunType::kManual, "manual"}, {RunType::kScheduled, "scheduled"}, {RunType::kBackfill, "backfill"},
    {RunType::kDatasetTriggered, "dataset_triggered"}}};

}  // namespace

std::string_view task_kind_name(TaskKind kind) { return name_of(kKinds, kind); }
std::optional<TaskKind> parse_task_kind(std::string_view name) { return value_of(kKinds, name); }
std::string_view trigger_rule_name(TriggerRule rule) { return name_of(kRules, rule); }
std::optional<TriggerRule> parse_trigger_rule(std::string_view name) { return value_of(kRules, name); }
std::string_view task_state_name(TaskState state) { return name_of(kTaskStates, state); }
std::optional<TaskState> parse_task_state(std::string_view name) { return value_of(kTaskStates, name); }
std::string_view run_state_name(RunState state) { return name_of(kRunStates, state); }
std::optional<RunState> parse_run_state(std::string_view name) { return value_of(kRunStates, name); }
std::string_view run_type_name(RunType type) { return name_of(kRunTypes, type); }
std::optional<RunType> parse_run_type(std::string_view name) { return value_of(kRunTypes, name); }

bool is_finished(TaskState state) {
  return state == TaskState::kSuccess || state == TaskState::kFailed || state == TaskState::kUpstreamFailed ||
         state == TaskState::kSkipped;
}

bool is_waiting(TaskState state) { return state == TaskState::kUpForRetry || state == TaskState::kUpForReschedule; }

}  // namespace strata::orchestrate
