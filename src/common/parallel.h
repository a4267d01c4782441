#pragma once
// parallel_for: spreads independent pieces of CPU work over a few threads and waits for them. Made
// for phases such as parsing thousands of project files or resolving a large graph's edges, where
// item i writes only its own output slot and the caller merges the slots in order afterwards (so
// results and the first error reported stay deterministic). Threads are started per call (tens
// of microseconds each): use it for work of a few milliseconds or more.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "common/result.h"

namespace strata {

// How many threads parallel_for uses for `count` items: one per `min_items` items, at most
// `max_threads` and the machine's cores, at least one.
inline size_t parallel_threads(size_t count, size_t max_threads = 4, size_t min_items = 256) {
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  size_t by_work = std::max<size_t>(1, count / std::max<size_t>(1, min_items));
  return std::max<size_t>(1, std::min({max_threads, cores, by_work}));
}

// Calls fn(i) exactly once for every i in [0, count) and returns when every call has returned.
// The calling thread works too; the others are started here (see parallel_threads for how many).
// Items are handed out in blocks of `block` consecutive indexes. fn must be safe to call
// concurrently for different i, and must not throw (an escaping exception terminates).
template <typename Fn>
void parallel_for(size_t count, Fn&& fn, size_t max_threads = 4, size_t min_items = 256, size_t block = 32) {
  const size_t threads = parallel_threads(count, max_threads, min_items);
  if (threads <= 1) {
    for (size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t begin; (begin = next.fetch_add(block, std::memory_order_relaxed)) < count;) {
      const size_t end = std::min(count, begin + block);
      for (size_t i = begin; i < end; ++i) fn(i);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

// parallel_for over work that may fail: calls fn(i) -> Status for every i (all of them, also after
// a failure) and returns the error of the lowest failing index, or ok. So the error reported is
// the one a loop in index order would have stopped at.
template <typename Fn>
Status parallel_for_status(size_t count, Fn&& fn) {
  std::vector<Status> status(count);
  parallel_for(count, [&](size_t i) { status[i] = fn(i); });
  for (Status& st : status)
    if (!st.ok()) return st;
  return ok_status();
}

}  // namespace strata
