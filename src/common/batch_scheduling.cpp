#include "common/batch_scheduling.h"

#if defined(__linux__)
#include <sched.h>
#endif

namespace strata {

BatchScheduling::BatchScheduling() {
#if defined(__linux__)
  // Only from the default policy: a thread someone made real-time or idle keeps its policy.
  if (sched_getscheduler(0) != SCHED_OTHER) return;
  sched_param param{};
  changed_ = sched_setscheduler(0, SCHED_BATCH, &param) == 0;
#endif
}

BatchScheduling::~BatchScheduling() {
#if defined(__linux__)
  if (!changed_) return;
  sched_param param{};
  (void)sched_setscheduler(0, SCHED_OTHER, &param);
#endif
}

}  // namespace strata
