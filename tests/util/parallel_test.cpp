#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/util/parallel.hpp"

namespace common::util {
namespace {

TEST(Parallel, EveryItemOnceInItsSlot) {
  for (const std::size_t jobs : {0u, 1u, 2u, 4u, 64u}) {
    for (const std::size_t n : {0u, 1u, 3u, 100u}) {
      std::vector<int> calls(n, 0);
      std::vector<std::size_t> out(n, 0);
      parallel_for(n, jobs, [&](std::size_t i) {
        ++calls[i]; // each slot is written by one call only
        out[i] = i * i;
      });
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(calls[i], 1) << "n=" << n << " jobs=" << jobs << " i=" << i;
        EXPECT_EQ(out[i], i * i);
      }
    }
  }
}

TEST(Parallel, SequentialWhenOneJobAndInOrder) {
  std::vector<std::size_t> order;
  const auto caller = std::this_thread::get_id();
  parallel_for(5, 1, [&](std::size_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

TEST(Parallel, AtMostJobsThreadsAtOnce) {
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::mutex m;
  std::set<std::thread::id> threads;
  parallel_for(40, 3, [&](std::size_t) {
    const int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    {
      const std::lock_guard lock(m);
      threads.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --running;
  });
  EXPECT_LE(peak.load(), 3);
  EXPECT_LE(threads.size(), 3u);
}

TEST(Parallel, FirstExceptionIsRethrownAfterJoining) {
  std::atomic<int> calls{0};
  EXPECT_THROW(parallel_for(1000, 4,
                            [&](std::size_t i) {
                              ++calls;
                              if (i == 3) {
                                throw std::runtime_error("item 3");
                              }
                              std::this_thread::sleep_for(std::chrono::microseconds(200));
                            }),
               std::runtime_error);
  EXPECT_LT(calls.load(), 1000) << "items after the failure are not started";
}

} // namespace
} // namespace common::util
