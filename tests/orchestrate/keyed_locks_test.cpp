#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "orchestrate/keyed_locks.h"

namespace strata::orchestrate {
namespace {

TEST(KeyedLocksTest, OneHolderPerKeyAndCancellableWaits) {
  KeyedLocks locks;
  CancelToken first_token, other_key_token;
  auto first = locks.acquire("conn", first_token);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(locks.held("conn"));
  auto other = locks.acquire("other", other_key_token);  // another key does not wait
  ASSERT_TRUE(other.ok());

  // A second holder of "conn" waits (and says so) until the first lets go.
  std::atomic<bool> got{false}, told{false};
  CancelToken second_token;
  std::thread second([&] {
    auto lease = locks.acquire("conn", second_token, [&] { told = true; });
    got = lease.ok();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(told);
  EXPECT_FALSE(got);
  first->release();
  second.join();
  EXPECT_TRUE(got);
  EXPECT_FALSE(locks.held("conn"));  // the second lease ended with its thread

  // A waiter whose token fires stops waiting with kCancelled and holds nothing.
  auto again = locks.acquire("conn", first_token);
  ASSERT_TRUE(again.ok());
  CancelToken impatient;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    impatient.cancel("execution_timeout exceeded");
  });
  auto refused = locks.acquire("conn", impatient);
  canceller.join();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kCancelled);
  EXPECT_NE(refused.error().message().find("execution_timeout exceeded"), std::string::npos);
  // An already cancelled token does not wait at all.
  EXPECT_FALSE(locks.acquire("conn", impatient).ok());
  EXPECT_TRUE(locks.held("conn"));
  *again = KeyedLocks::Lease();
  EXPECT_FALSE(locks.held("conn"));
}

}  // namespace
}  // namespace strata::orchestrate

namespace strata::orchestrate {
namespace {

// remove() returns only once a callback that cancel() runs on another thread has ended, so a runner
// may destroy what its callback touches right after removing it.
TEST(CancelTokenTest, RemoveWaitsForACallbackRunningOnAnotherThread) {
  CancelToken token;
  std::atomic<bool> started{false}, finished{false};
  const int id = token.on_cancel([&] {
    started = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    finished = true;
  });
  std::thread canceller([&] { token.cancel("stop"); });
  while (!started) std::this_thread::yield();
  token.remove(id);
  EXPECT_TRUE(finished);
  canceller.join();
  // A callback that removes itself (on cancel()'s thread) does not wait for itself.
  CancelToken other;
  int self = 0;
  self = other.on_cancel([&] { other.remove(self); });
  other.cancel("stop");
  EXPECT_TRUE(other.cancelled());
}

}  // namespace
}  // namespace strata::orchestrate
