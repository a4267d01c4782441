#pragma once
// The long-running commands (serve, scheduler, worker) stop on SIGINT or SIGTERM: the signals are
// blocked before any thread starts, so every thread inherits the mask, and one thread waits for them.

#include <signal.h>

#include <functional>

namespace strata::cli {

// Blocks SIGINT and SIGTERM in the calling thread (and in the threads it starts afterwards) and
// returns that set. Call before starting any thread.
sigset_t block_stop_signals();

// Runs `serve` on the calling thread while another waits for one of `signals` (blocked by
// block_stop_signals), then calls `stop`, which must make `serve` return. Returns once both are done.
void serve_until_signal(const sigset_t& signals, const std::function<void()>& serve, const std::function<void()>& stop);

}  // namespace strata::cli
