#include "orchestrate/keyed_locks.h"

namespace strata::orchestrate {

KeyedLocks::Lease& KeyedLocks::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    key_ = std::move(other.key_);
    other.owner_ = nullptr;
  }
  return *this;
}

void KeyedLocks::Lease::release() {
  if (owner_ == nullptr) return;
  owner_->release(key_);
  owner_ = nullptr;
}

Result<KeyedLocks::Lease> KeyedLocks::acquire(const std::string& key, CancelToken& cancel,
                                              const std::function<void()>& on_wait) {
  // Registered before mutex_ is taken: on_cancel runs the callback at once when already cancelled.
  const int subscription = cancel.on_cancel([this] {
    std::lock_guard lock(mutex_);
    released_.notify_all();
  });
  bool waited = false;
  {
    std::unique_lock lock(mutex_);
    while (held_.count(key) && !cancel.cancelled()) {
      if (!waited && on_wait) {
        lock.unlock();
        on_wait();
        lock.lock();
      }
      waited = true;
      if (held_.count(key)) released_.wait(lock);
    }
    if (!cancel.cancelled()) {
      held_.insert(key);
      lock.unlock();
      cancel.remove(subscription);
      return Lease(this, key);
    }
  }
  cancel.remove(subscription);
  return Error(ErrorCode::kCancelled, "stopped while waiting for '" + key + "': " + cancel.reason());
}

bool KeyedLocks::held(const std::string& key) {
  std::lock_guard lock(mutex_);
  return held_.count(key) > 0;
}

void KeyedLocks::release(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    held_.erase(key);
  }
  released_.notify_all();
}

}  // namespace strata::orchestrate
