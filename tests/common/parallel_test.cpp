// parallel_for: every index exactly once, on more than one thread when there is enough work.
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/parallel.h"

namespace strata {
namespace {

TEST(ParallelFor, CallsEveryIndexExactlyOnce) {
  for (size_t count : {0u, 1u, 31u, 32u, 33u, 255u, 256u, 1000u, 10007u}) {
    std::vector<std::atomic<int>> calls(count);
    parallel_for(count, [&](size_t i) { calls[i].fetch_add(1); });
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(calls[i].load(), 1) << "count " << count << ", index " << i;
  }
}

TEST(ParallelFor, SmallWorkStaysOnTheCallingThread) {
  std::set<std::thread::id> seen;
  parallel_for(100, [&](size_t) { seen.insert(std::this_thread::get_id()); });  // below min_items: no threads
  EXPECT_EQ(seen, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(parallel_threads(100), 1u);
  EXPECT_EQ(parallel_threads(0), 1u);
}

TEST(ParallelFor, LargeWorkUsesUpToTheCapOfThreads) {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(parallel_threads(100000, 4), std::min<size_t>(4, cores));
  EXPECT_EQ(parallel_threads(100000, 1), 1u);
  EXPECT_EQ(parallel_threads(2, 2, 1), std::min<size_t>(2, cores));
  std::mutex mutex;
  std::set<std::thread::id> seen;
  std::atomic<size_t> sum{0};
  parallel_for(100000, [&](size_t i) {
    sum += i;
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(sum.load(), size_t{100000} * 99999 / 2);
  EXPECT_LE(seen.size(), std::min<size_t>(4, cores));
  EXPECT_GE(seen.size(), 1u);
}

TEST(ParallelForStatus, ReturnsTheErrorOfTheLowestFailingIndexAfterRunningEveryItem) {
  std::atomic<size_t> ran{0};
  Status st = parallel_for_status(5000, [&](size_t i) -> Status {
    ++ran;
    if (i == 4000 || i == 1234 || i == 2500) return Error(ErrorCode::kConfig, "item " + std::to_string(i));
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "item 1234");
  EXPECT_EQ(ran.load(), 5000u);
  EXPECT_TRUE(parallel_for_status(300, [](size_t) { return ok_status(); }).ok());
  EXPECT_TRUE(parallel_for_status(0, [](size_t) -> Status { return Error(ErrorCode::kConfig, "never"); }).ok());
}

}  // namespace
}  // namespace strata
