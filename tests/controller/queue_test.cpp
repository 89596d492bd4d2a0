#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/controller/queue.hpp"

namespace common::controller {
namespace {

using namespace std::chrono_literals;

const store::Key a{"ns", "a"};
const store::Key b{"ns", "b"};

TEST(WorkQueue, AKeyWaitsAtMostOnceInOrderOfArrival) {
  WorkQueue q;
  q.add(a);
  q.add(b);
  q.add(a);
  EXPECT_EQ(q.queued(), 2u);
  EXPECT_EQ(q.get(), a);
  EXPECT_EQ(q.get(), b);
  EXPECT_EQ(q.queued(), 0u);
}

TEST(WorkQueue, AnAddWhileProcessingComesBackOnceDone) {
  WorkQueue q;
  q.add(a);
  ASSERT_EQ(q.get(), a);
  q.add(a);
  q.add(a);
  EXPECT_EQ(q.queued(), 0u) << "never handed to a second worker while processing";
  q.done(a);
  EXPECT_EQ(q.queued(), 1u);
  EXPECT_EQ(q.get(), a);
  q.done(a);
  EXPECT_EQ(q.queued(), 0u);
}

TEST(WorkQueue, DelayedAddsJoinWhenDueAndTheEarlierDueTimeWins) {
  WorkQueue q;
  q.add_after(a, 1h);
  q.add_after(a, 30ms);
  q.add_after(a, 2h);
  EXPECT_EQ(q.delayed(), 1u);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(q.get(), a);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 25ms);
  EXPECT_EQ(q.delayed(), 0u);
}

TEST(WorkQueue, ShutDownWakesWaitersAndIgnoresLaterAdds) {
  WorkQueue q;
  std::optional<store::Key> got = a;
  std::thread waiter([&] { got = q.get(); });
  std::this_thread::sleep_for(20ms);
  q.shut_down();
  waiter.join();
  EXPECT_FALSE(got);
  q.add(b);
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_FALSE(q.get());
}

} // namespace
} // namespace common::controller
