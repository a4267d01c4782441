#pragma once
// InterruptWatcher: turns Ctrl-C (SIGINT) and SIGTERM into an orderly stop for long-running demo
// commands. The constructor blocks both signals in the calling thread — and so in every thread it
// creates afterwards — and waits for them on a watcher thread with sigtimedwait. When one arrives,
// interrupted() becomes true and the registered actions run on the watcher thread (cancel a
// query, stop a server). If the process has not finished `grace` after the signal, or a second
// signal arrives, the watcher runs the registered last-resort actions and ends the process with
// exit code 128 + the first signal's number (130 for SIGINT, 143 for SIGTERM), as a shell reports
// a process the signal killed. The destructor stops the watcher and restores the signal mask.
//
// Construct it on the main thread before any other thread starts. Thread-safe otherwise.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <signal.h>
#include <thread>
#include <vector>

namespace strata::cli::demo {

class InterruptWatcher {
 public:
  explicit InterruptWatcher(std::chrono::seconds grace = std::chrono::seconds(20));
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  bool interrupted() const { return interrupted_.load(); }
  // The first signal's number (SIGINT or SIGTERM), 0 before one arrives.
  int signal_number() const { return signal_.load(); }
  // The exit code a command interrupted by that signal ends with: 128 + its number (0 before one).
  int exit_code() const { return signal_number() == 0 ? 0 : 128 + signal_number(); }
  // Sleeps for `duration` or until interrupted; false when interrupted.
  bool sleep_for(std::chrono::milliseconds duration) const;
  // Runs `action` (on the watcher thread) when a signal arrives; runs it at once when one already did.
  void on_interrupt(std::function<void()> action);
  // Runs `action` just before the watcher ends the process itself (grace exceeded, second signal).
  void on_forced_exit(std::function<void()> action);

 private:
  void watch();
  void run_actions(std::vector<std::function<void()>>& actions);

  std::chrono::seconds grace_;
  sigset_t signals_{};
  sigset_t previous_mask_{};
  std::atomic<bool> interrupted_{false};
  std::atomic<int> signal_{0};
  std::atomic<bool> done_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> on_interrupt_;
  std::vector<std::function<void()>> on_forced_exit_;
  std::thread thread_;
};

}  // namespace strata::cli::demo
