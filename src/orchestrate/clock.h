#pragma once
// Clock: the time source of the executor and scheduler, injected so tests can use FakeClock.
// wait_until blocks on a condition variable until a deadline on this clock or a notification.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace strata::orchestrate {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch.
  virtual int64_t now() const = 0;
  // Waits on cv (lock held by the caller) until now() >= deadline, a notification or a spurious
  // wake-up; callers re-check their condition. A deadline <= 0 means no deadline.
  virtual void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t deadline) = 0;
  // Registers a callback run whenever time jumps (FakeClock::advance); returns an id for
  // unsubscribe. SystemClock never calls it. Callbacks must be cheap and must not call the clock.
  virtual int subscribe(std::function<void()> on_change) = 0;
  virtual void unsubscribe(int id) = 0;
};

// The real clock. Thread-safe, stateless.
class SystemClock final : public Clock {
 public:
  int64_t now() const override;
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t deadline) override;
  int subscribe(std::function<void()>) override { return 0; }
  void unsubscribe(int) override {}
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start) : now_(start) {}
  int64_t now() const override { return now_.load(); }
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t deadline) override;
  int subscribe(std::function<void()> on_change) override;
  void unsubscribe(int id) override;
  // Moves time forward and wakes every subscriber.
  void advance(int64_t micros);

 private:
  std::atomic<int64_t> now_;
  std::mutex mutex_;
  int next_id_ = 1;
  std::map<int, std::function<void()>> subscribers_;
};

}  // namespace strata::orchestrate
