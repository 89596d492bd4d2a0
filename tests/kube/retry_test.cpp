#include <thread>

#include <gtest/gtest.h>

#include "common/kube/retry.hpp"
#include "common/util/clock.hpp"

namespace {

namespace kube = common::kube;
namespace util = common::util;
using util::ErrorKind;
using namespace std::chrono_literals;

TEST(BackoffDelay, GrowsCapsAndJitters) {
  kube::Backoff b{100ms, 2.0, 0.5, 0, 1s};
  struct Case {
    int step;
    double unit;
    std::chrono::nanoseconds want;
  };
  const Case cases[] = {
      {0, 0.0, 100ms}, {1, 0.0, 200ms}, {3, 0.0, 800ms},
      {4, 0.0, 1s},    {40, 0.0, 1s},   {0, 0.5, 125ms},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(kube::backoff_delay(b, c.step, c.unit), c.want) << c.step << " " << c.unit;
  }
  EXPECT_EQ(kube::backoff_delay(kube::k_default_retry, 4, 0.0), 10ms);
}

TEST(RetryOnConflict, RetriesConflictsOnly) {
  struct Case {
    std::vector<ErrorKind> failures; // then success
    int want_calls;
    bool want_ok;
    ErrorKind want_kind;
  };
  const Case cases[] = {
      {{}, 1, true, ErrorKind::internal},
      {{ErrorKind::conflict, ErrorKind::conflict}, 3, true, ErrorKind::internal},
      {{ErrorKind::transient}, 1, false, ErrorKind::transient},
      {{ErrorKind::conflict, ErrorKind::not_found}, 2, false, ErrorKind::not_found},
      {std::vector<ErrorKind>(9, ErrorKind::conflict), 5, false, ErrorKind::conflict},
  };
  for (const Case& c : cases) {
    util::FakeClock clock;
    int calls = 0;
    auto result = kube::retry_on_conflict(
        [&]() -> util::Result<int> {
          ++calls;
          if (static_cast<std::size_t>(calls) <= c.failures.size()) {
            return util::fail(c.failures[static_cast<std::size_t>(calls) - 1], "x");
          }
          return calls;
        },
        kube::k_default_retry, &clock);
    EXPECT_EQ(calls, c.want_calls);
    ASSERT_EQ(result.has_value(), c.want_ok);
    if (!c.want_ok) {
      EXPECT_EQ(result.error().kind, c.want_kind);
    }
    // Between attempts: 10 ms to 11 ms each on the injected clock.
    auto waited = clock.steady_now() - util::FakeClock().steady_now();
    EXPECT_GE(waited, (c.want_calls - 1) * 10ms);
    EXPECT_LE(waited, (c.want_calls - 1) * 11ms);
  }
}

TEST(RetryOnConflict, WorksWithVoidResults) {
  int calls = 0;
  util::Result<void> r = kube::retry_on_conflict([&]() -> util::Result<void> {
    return ++calls < 2 ? util::Result<void>(util::fail(ErrorKind::conflict, "c"))
                       : util::Result<void>();
  });
  EXPECT_TRUE(r);
  EXPECT_EQ(calls, 2);
}

TEST(StopSignal, StopEndsAWait) {
  kube::StopSignal stop;
  EXPECT_TRUE(kube::StopSignal(0.0).wait_for(1h));
  std::thread t([&] { stop.stop(); });
  EXPECT_FALSE(stop.wait_for(1h));
  t.join();
  EXPECT_TRUE(stop.stopped());
  stop.reset();
  EXPECT_FALSE(stop.stopped());
}

} // namespace
