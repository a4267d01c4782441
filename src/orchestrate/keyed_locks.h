#pragma once
// KeyedLocks: exclusive locks by name (e.g. one per connection), whose waiting a CancelToken ends.
// A holder keeps its key until its Lease is destroyed; others asking for the key wait, in no
// particular order, until it is released or their token is cancelled (then they get kCancelled and
// hold nothing). Thread-safe; the KeyedLocks must outlive its leases and the tokens' callbacks it
// registers (so: keep it as long as any task that may use it).

#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "common/result.h"
#include "orchestrate/task_runner.h"

namespace strata::orchestrate {

class KeyedLocks {
 public:
  // Releases its key on destruction. Movable; a moved-from lease holds nothing.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : owner_(other.owner_), key_(std::move(other.key_)) { other.owner_ = nullptr; }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }
    void release();

   private:
    friend class KeyedLocks;
    Lease(KeyedLocks* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    KeyedLocks* owner_ = nullptr;
    std::string key_;
  };

  // Takes `key`, waiting while another lease holds it. on_wait (may be empty) is called once,
  // before waiting, when the key is busy. Errors: kCancelled when `cancel` fires first (at once
  // when it has fired already).
  Result<Lease> acquire(const std::string& key, CancelToken& cancel, const std::function<void()>& on_wait = {});
  // Whether a lease holds `key` now.
  bool held(const std::string& key);

 private:
  void release(const std::string& key);

  std::mutex mutex_;
  std::condition_variable released_;
  std::set<std::string> held_;
};

}  // namespace strata::orchestrate
