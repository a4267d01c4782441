#include <gtest/gtest.h>

#include "orchestrate/trigger_rules.h"

namespace strata::orchestrate {
namespace {

UpstreamCounts counts(std::initializer_list<TaskState> states) {
  UpstreamCounts c;
  for (auto s : states) c.add(s);
  return c;
}

using S = TaskState;
using D = TriggerDecision;

TEST(TriggerRulesTest, EveryRuleWithFailuresAndSkips) {
  struct Case {
    TriggerRule rule;
    std::initializer_list<TaskState> up;
    TriggerDecision want;
  };
  const Case cases[] = {
      {TriggerRule::kAllSuccess, {S::kSuccess, S::kSuccess}, D::kRun},
      {TriggerRule::kAllSuccess, {S::kSuccess, S::kRunning}, D::kWait},
      {TriggerRule::kAllSuccess, {S::kFailed, S::kRunning}, D::kUpstreamFailed},
      {TriggerRule::kAllSuccess, {S::kUpstreamFailed, S::kSuccess}, D::kUpstreamFailed},
      {TriggerRule::kAllSuccess, {S::kSkipped, S::kSuccess}, D::kSkip},
      {TriggerRule::kAllFailed, {S::kFailed, S::kUpstreamFailed}, D::kRun},
      {TriggerRule::kAllFailed, {S::kFailed, S::kRunning}, D::kWait},
      {TriggerRule::kAllFailed, {S::kFailed, S::kSuccess}, D::kSkip},
      {TriggerRule::kAllFailed, {S::kFailed, S::kSkipped}, D::kSkip},
      {TriggerRule::kAllDone, {S::kFailed, S::kSkipped, S::kSuccess, S::kUpstreamFailed}, D::kRun},
      {TriggerRule::kAllDone, {S::kFailed, S::kUpForRetry}, D::kWait},
      {TriggerRule::kOneSuccess, {S::kSuccess, S::kRunning}, D::kRun},
      {TriggerRule::kOneSuccess, {S::kFailed, S::kRunning}, D::kWait},
      {TriggerRule::kOneSuccess, {S::kFailed, S::kSkipped}, D::kUpstreamFailed},
      {TriggerRule::kOneSuccess, {S::kSkipped, S::kSkipped}, D::kSkip},
      {TriggerRule::kOneFailed, {S::kFailed, S::kRunning}, D::kRun},
      {TriggerRule::kOneFailed, {S::kUpstreamFailed, S::kRunning}, D::kRun},
      {TriggerRule::kOneFailed, {S::kSuccess, S::kRunning}, D::kWait},
      {TriggerRule::kOneFailed, {S::kSuccess, S::kSkipped}, D::kSkip},
      {TriggerRule::kNoneFailed, {S::kSuccess, S::kSkipped}, D::kRun},
      {TriggerRule::kNoneFailed, {S::kSuccess, S::kRunning}, D::kWait},
      {TriggerRule::kNoneFailed, {S::kFailed, S::kRunning}, D::kUpstreamFailed},
      {TriggerRule::kNoneFailed, {S::kUpstreamFailed, S::kSuccess}, D::kUpstreamFailed},
      {TriggerRule::kNoneSkipped, {S::kSuccess, S::kFailed}, D::kRun},
      {TriggerRule::kNoneSkipped, {S::kSkipped, S::kRunning}, D::kSkip},
      {TriggerRule::kNoneSkipped, {S::kSuccess, S::kRunning}, D::kWait},
      {TriggerRule::kAlways, {S::kRunning, S::kNone}, D::kRun},
      {TriggerRule::kAllSuccess, {}, D::kRun},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(evaluate_trigger(c.rule, counts(c.up)), c.want) << trigger_rule_name(c.rule);
  }
}

}  // namespace
}  // namespace strata::orchestrate
