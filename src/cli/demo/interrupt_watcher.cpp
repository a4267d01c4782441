#include "cli/demo/interrupt_watcher.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace strata::cli::demo {

InterruptWatcher::InterruptWatcher(std::chrono::seconds grace) : grace_(grace) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
  thread_ = std::thread([this] { watch(); });
}

InterruptWatcher::~InterruptWatcher() {
  done_ = true;
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

bool InterruptWatcher::sleep_for(std::chrono::milliseconds duration) const {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!interrupted()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
  return false;
}

void InterruptWatcher::on_interrupt(std::function<void()> action) {
  std::unique_lock lock(mutex_);
  if (interrupted()) {
    lock.unlock();
    action();
    return;
  }
  on_interrupt_.push_back(std::move(action));
}

void InterruptWatcher::on_forced_exit(std::function<void()> action) {
  std::lock_guard lock(mutex_);
  on_forced_exit_.push_back(std::move(action));
}

void InterruptWatcher::run_actions(std::vector<std::function<void()>>& actions) {
  std::vector<std::function<void()>> todo;
  {
    std::lock_guard lock(mutex_);
    todo.swap(actions);
  }
  for (auto& action : todo) action();
}

void InterruptWatcher::watch() {
  const timespec tick{0, 100 * 1000 * 1000};
  std::chrono::steady_clock::time_point deadline{};
  while (!done_) {
    const int sig = sigtimedwait(&signals_, nullptr, &tick);
    const bool second_signal = sig > 0 && interrupted();
    if (sig > 0 && !interrupted()) {
      {
        std::lock_guard lock(mutex_);
        signal_ = sig;
        interrupted_ = true;
      }
      deadline = std::chrono::steady_clock::now() + grace_;
      run_actions(on_interrupt_);
    }
    const bool grace_over = interrupted() && std::chrono::steady_clock::now() > deadline;
    if (!done_ && (second_signal || grace_over)) {
      run_actions(on_forced_exit_);
      ::_exit(exit_code());
    }
  }
}

}  // namespace strata::cli::demo
