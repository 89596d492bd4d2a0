#include <chrono>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "common/util/time.hpp"

namespace common::util {
namespace {

using std::chrono::nanoseconds;

struct ParseCase {
  const char* text;
  std::int64_t unix_ns; // expected nanoseconds since the epoch
};

TEST(UtilTime, ParsesValidTimes) {
  const ParseCase cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2024-01-02T03:04:05Z", 1704164645'000000000},
      {"2024-01-02t03:04:05z", 1704164645'000000000},
      {"2024-01-02T03:04:05.5Z", 1704164645'500000000},
      {"2024-01-02T03:04:05.123456789Z", 1704164645'123456789},
      {"2024-01-02T03:04:05.000000001Z", 1704164645'000000001},
      {"2024-01-02T05:04:05+02:00", 1704164645'000000000},
      {"2024-01-01T22:04:05.25-05:00", 1704164645'250000000},
      {"2024-01-02T03:04:05+00:00", 1704164645'000000000},
      {"2024-02-29T00:00:00Z", 1709164800'000000000},  // leap year
      {"2000-02-29T00:00:00Z", 951782400'000000000},   // divisible by 400
      {"1969-12-31T23:59:59.999999999Z", -1},          // before the epoch
      {"2262-04-11T23:47:16.854775807Z", INT64_MAX},   // the last representable nanosecond
      {"1677-09-21T00:12:44Z", -9223372036'000000000}, // near the first one
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto t = parse_rfc3339(c.text);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->time_since_epoch().count(), c.unix_ns);
  }
}

TEST(UtilTime, RejectsInvalidTimes) {
  const char* cases[] = {
      "",
      "2024-01-02",
      "2024-01-02 03:04:05Z",            // space instead of 'T'
      "2024-01-02T03:04:05",             // no zone
      "2024-13-01T00:00:00Z",            // month 13
      "2024-00-01T00:00:00Z",            // month 0
      "2024-02-30T00:00:00Z",            // Feb 30
      "2023-02-29T00:00:00Z",            // not a leap year
      "1900-02-29T00:00:00Z",            // century, not a leap year
      "2024-04-31T00:00:00Z",            // April has 30 days
      "2024-01-00T00:00:00Z",            // day 0
      "2024-01-02T24:00:00Z",            // hour 24
      "2024-01-02T03:60:00Z",            // minute 60
      "2024-01-02T03:04:60Z",            // leap second (Go rejects it too)
      "2024-01-02T03:04:05.Z",           // empty fraction
      "2024-01-02T03:04:05.1234567890Z", // 10 fraction digits
      "2024-01-02T03:04:05+0200",        // offset without ':'
      "2024-01-02T03:04:05+24:00",       // offset hour out of range
      "2024-01-02T03:04:05+02:60",       // offset minute out of range
      "2024-01-02T03:04:05Zjunk",        // trailing text
      "24-01-02T03:04:05Z",              // two-digit year
      "2024-1-02T03:04:05Z",             // one-digit month
      "2024-01-02T3:04:05Z",             // one-digit hour
      " 2024-01-02T03:04:05Z",           // leading space
      "2024-01-02T03:04:05 Z",           // space before the zone
      "+2024-01-02T03:04:05Z",           // signed year
      "2300-01-01T00:00:00Z",            // past 2262: not representable
      "1600-01-01T00:00:00Z",            // before 1677: not representable
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    const auto t = parse_rfc3339(text);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(t.error().message.find(text), std::string::npos) << t.error().message;
  }
}

TEST(UtilTime, FormatsUtcWithTrimmedFraction) {
  struct Case {
    std::int64_t unix_ns;
    const char* text;
  };
  const Case cases[] = {
      {0, "1970-01-01T00:00:00Z"},
      {1704164645'000000000, "2024-01-02T03:04:05Z"},
      {1704164645'500000000, "2024-01-02T03:04:05.5Z"},
      {1704164645'120000000, "2024-01-02T03:04:05.12Z"},
      {1704164645'123456789, "2024-01-02T03:04:05.123456789Z"},
      {1704164645'000000001, "2024-01-02T03:04:05.000000001Z"},
      {-1, "1969-12-31T23:59:59.999999999Z"},
      {1709164800'000000000, "2024-02-29T00:00:00Z"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_rfc3339(Timestamp{nanoseconds{c.unix_ns}}), c.text);
  }
}

TEST(UtilTime, RoundTripsThroughUtc) {
  const char* cases[] = {"2024-01-02T05:04:05.25+02:00", "1999-12-31T23:59:59.000100-08:30",
                         "2024-02-29T12:00:00Z"};
  const char* expected[] = {"2024-01-02T03:04:05.25Z", "2000-01-01T08:29:59.0001Z",
                            "2024-02-29T12:00:00Z"};
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const auto t = parse_rfc3339(cases[i]);
    ASSERT_TRUE(t.has_value()) << cases[i];
    const std::string formatted = format_rfc3339(*t);
    EXPECT_EQ(formatted, expected[i]);
    EXPECT_EQ(parse_rfc3339(formatted).value(), *t);
  }
}

} // namespace
} // namespace common::util
