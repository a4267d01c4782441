#include "orchestrate/clock.h"

#include <chrono>

#include "common/time.h"

namespace strata::orchestrate {

int64_t SystemClock::now() const { return now_micros(); }

void SystemClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t deadline) {
  if (deadline <= 0) {
    cv.wait(lock);
    return;
  }
  int64_t remaining = deadline - now();
  if (remaining <= 0) return;
  cv.wait_for(lock, std::chrono::microseconds(remaining));
}

void FakeClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t deadline) {
  if (deadline > 0 && now() >= deadline) return;
  cv.wait(lock);  // woken by a subscriber callback when time moves, or by the owner
}

int FakeClock::subscribe(std::function<void()> on_change) {
  std::lock_guard lock(mutex_);
  subscribers_[next_id_] = std::move(on_change);
  return next_id_++;
}

void FakeClock::unsubscribe(int id) {
  std::lock_guard lock(mutex_);
  subscribers_.erase(id);
}

void FakeClock::advance(int64_t micros) {
  now_ += micros;
  std::map<int, std::function<void()>> copy;
  {
    std::lock_guard lock(mutex_);
    copy = subscribers_;
  }
  for (auto& [id, callback] : copy) callback();
}

}  // namespace strata::orchestrate
