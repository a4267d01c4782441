#include "orchestrate/trigger_rules.h"

namespace strata::orchestrate {

void UpstreamCounts::add(TaskState state) {
  ++total;
  switch (state) {
    case TaskState::kSuccess: ++success; break;
    case TaskState::kSkipped: ++skipped; break;
    case TaskState::kFailed: ++failed; break;
    case TaskState::kUpstreamFailed: ++upstream_failed; break;
    default: return;
  }
  ++done;
}

TriggerDecision evaluate_trigger(TriggerRule rule, const UpstreamCounts& c) {
  if (c.total == 0 || rule == TriggerRule::kAlways) return TriggerDecision::kRun;
  const bool all_done = c.done == c.total;
  const int failures = c.failed + c.upstream_failed;
  switch (rule) {
    case TriggerRule::kAllSuccess:
      if (failures > 0) return TriggerDecision::kUpstreamFailed;
      if (c.skipped > 0) return TriggerDecision::kSkip;
      return c.success == c.total ? TriggerDecision::kRun : TriggerDecision::kWait;
    case TriggerRule::kAllFailed:
      if (c.success > 0 || c.skipped > 0) return TriggerDecision::kSkip;
      return failures == c.total ? TriggerDecision::kRun : TriggerDecision::kWait;
    case TriggerRule::kAllDone:
      return all_done ? TriggerDecision::kRun : TriggerDecision::kWait;
    case TriggerRule::kOneSuccess:
      if (c.success > 0) return TriggerDecision::kRun;
      if (!all_done) return TriggerDecision::kWait;
      return c.skipped == c.total ? TriggerDecision::kSkip : TriggerDecision::kUpstreamFailed;
    case TriggerRule::kOneFailed:
      if (failures > 0) return TriggerDecision::kRun;
      return all_done ? TriggerDecision::kSkip : TriggerDecision::kWait;
    case TriggerRule::kNoneFailed:
      if (failures > 0) return TriggerDecision::kUpstreamFailed;
      return all_done ? TriggerDecision::kRun : TriggerDecision::kWait;
    case TriggerRule::kNoneSkipped:
      if (c.skipped > 0) return TriggerDecision::kSkip;
      return all_done ? TriggerDecision::kRun : TriggerDecision::kWait;
    case TriggerRule::kAlways:
      return TriggerDecision::kRun;
  }
  return TriggerDecision::kWait;
}

}  // namespace strata::orchestrate
