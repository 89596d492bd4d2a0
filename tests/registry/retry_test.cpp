#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "common/registry/retry.hpp"

namespace common::registry {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Backoff {
  int retry;
  double jitter;
  double unit;
  long long want_ms;
};

const Backoff k_backoff[] = {
    {0, 0, 0, 500},     {1, 0, 0, 1000},       {2, 0, 0, 2000},     {3, 0, 0, 4000},
    {6, 0, 0, 30000},   {60, 0, 0, 30000},     {1000, 0, 0, 30000}, // capped, no overflow
    {0, 0.2, 0.5, 450}, {2, 0.2, 0.999, 1600}, {1, 1.0, 0.5, 500},  {0, 0.2, 0.0, 500},
    {0, 5.0, 0.5, 250}, // jitter clamped to 1
};

TEST(RegistryRetry, BackoffDoublesUpToMaxWithJitter) {
  for (const Backoff& c : k_backoff) {
    SCOPED_TRACE(std::to_string(c.retry) + " jitter " + std::to_string(c.jitter));
    EXPECT_EQ(
        backoff_delay(c.retry, milliseconds(500), milliseconds(30000), c.jitter, c.unit).count(),
        c.want_ms);
  }
}

struct RetryAfter {
  std::string value;
  std::optional<long long> want_seconds;
};

// now = 2015-10-21T07:28:00Z
const auto k_now = std::chrono::sys_days{std::chrono::year{2015} / 10 / 21} +
                   std::chrono::hours(7) + std::chrono::minutes(28);

const RetryAfter k_retry_after[] = {
    {"120", 120},
    {" 7 ", 7},
    {"0", 0},
    {"Wed, 21 Oct 2015 07:28:30 GMT", 30},
    {"Wed, 21 Oct 2015 07:27:00 GMT", 0}, // in the past
    {"Wednesday, 21-Oct-15 07:29:00 GMT", 60},
    {"Wed Oct 21 07:28:10 2015", 10},
    {"-5", std::nullopt},
    {"1.5", std::nullopt},
    {"soon", std::nullopt},
    {"Wed, garbage", std::nullopt},
    {"-5 Wed, 21 Oct 2015 07:28:30 GMT", std::nullopt},
    {"Wed, 21 Oct 2015 07:28:30 UTC", std::nullopt},
    {"Wed, 31 Feb 2015 07:28:30 GMT", std::nullopt},
    {"Wed, 21 Oct 2015 25:28:30 GMT", std::nullopt},
    {"Wed Oct  1 07:28:10 2016", 29894410},
    {"", std::nullopt},
    {"99999999999999999999999", seconds::max().count()},
};

TEST(RegistryRetry, ParsesRetryAfter) {
  for (const RetryAfter& c : k_retry_after) {
    SCOPED_TRACE(c.value);
    const auto got = parse_retry_after(c.value, std::chrono::system_clock::time_point(k_now));
    ASSERT_EQ(got.has_value(), c.want_seconds.has_value());
    if (got) {
      EXPECT_EQ(got->count(), *c.want_seconds);
    }
  }
}

} // namespace
} // namespace common::registry
