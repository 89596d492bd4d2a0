#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/registry/ratelimit.hpp"
#include "common/util/clock.hpp"

namespace common::registry {
namespace {

using std::chrono::milliseconds;

milliseconds elapsed(const util::FakeClock& clock, std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(clock.steady_now() - start);
}

TEST(RegistryRateLimit, BurstThenSpacedAtTheRate) {
  util::FakeClock clock;
  RateLimiter limiter(4, clock); // 4 rps, burst 4
  const auto start = clock.steady_now();
  for (int i = 0; i < 4; ++i) {
    limiter.acquire();
  }
  EXPECT_EQ(elapsed(clock, start).count(), 0);
  limiter.acquire();
  EXPECT_EQ(elapsed(clock, start).count(), 250);
  limiter.acquire();
  EXPECT_EQ(elapsed(clock, start).count(), 500);
  // Idle time refills the bucket, but never beyond the burst.
  clock.advance(std::chrono::seconds(10));
  const auto later = clock.steady_now();
  for (int i = 0; i < 4; ++i) {
    limiter.acquire();
  }
  EXPECT_EQ(elapsed(clock, later).count(), 0);
  EXPECT_EQ(limiter.wait_estimate(), milliseconds(250));
  limiter.acquire();
  EXPECT_EQ(elapsed(clock, later).count(), 250);
}

TEST(RegistryRateLimit, FractionalRateAndExplicitBurst) {
  util::FakeClock clock;
  RateLimiter limiter(0.5, clock, 1); // one request every 2 s
  const auto start = clock.steady_now();
  limiter.acquire();
  limiter.acquire();
  limiter.acquire();
  EXPECT_EQ(elapsed(clock, start).count(), 4000);
}

TEST(RegistryRateLimit, ZeroIsUnlimited) {
  util::FakeClock clock;
  RateLimiter limiter(0, clock);
  const auto start = clock.steady_now();
  for (int i = 0; i < 1000; ++i) {
    limiter.acquire();
  }
  EXPECT_EQ(elapsed(clock, start).count(), 0);
  EXPECT_EQ(limiter.wait_estimate().count(), 0);
}

TEST(RegistryRateLimit, ThreadSafeWithRealClock) {
  util::SystemClock clock;
  RateLimiter limiter(200, clock, 1); // 5 ms apart
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        limiter.acquire();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  // 20 acquisitions, the first free: at least 19 * 5 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(90));
}

} // namespace
} // namespace common::registry
