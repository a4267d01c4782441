#include "cli/stop_signals.h"

#include <pthread.h>

#include <thread>

namespace strata::cli {

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void serve_until_signal(const sigset_t& signals, const std::function<void()>& serve, const std::function<void()>& stop) {
  std::thread waiter([&signals, &stop] {
    int sig = 0;
    sigwait(&signals, &sig);
    stop();
  });
  serve();
  waiter.join();
}

}  // namespace strata::cli
