#include <gtest/gtest.h>

#include "common/kube/rate_limiter.hpp"

namespace common::kube {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenQps) {
  util::FakeClock clock;
  RateLimiter limiter(10, 3, clock);
  EXPECT_EQ(limiter.reserve(), 0ns);
  EXPECT_EQ(limiter.reserve(), 0ns);
  EXPECT_EQ(limiter.reserve(), 0ns);
  // The bucket is empty: each caller waits for its own token, first come first served.
  EXPECT_EQ(limiter.reserve(), 100ms);
  EXPECT_EQ(limiter.reserve(), 200ms);
  clock.advance(200ms); // both owed tokens refilled
  EXPECT_EQ(limiter.reserve(), 100ms);
  clock.advance(10s); // refills up to the burst, not beyond
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.reserve(), 0ns);
  }
  EXPECT_EQ(limiter.reserve(), 100ms);
}

TEST(RateLimiter, WaitSleepsOnTheClock) {
  util::FakeClock clock;
  RateLimiter limiter(4, 1, clock);
  const auto start = clock.steady_now();
  for (int i = 0; i < 5; ++i) {
    limiter.wait();
  }
  EXPECT_EQ(clock.steady_now() - start, 1s);
}

TEST(RateLimiter, NoLimitAndTinyBursts) {
  util::FakeClock clock;
  RateLimiter unlimited(0, 0, clock);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(unlimited.reserve(), 0ns);
  }
  RateLimiter one(1, 0, clock); // burst 0 counts as 1
  EXPECT_EQ(one.reserve(), 0ns);
  EXPECT_EQ(one.reserve(), 1s);
}

} // namespace
} // namespace common::kube
