#include <gtest/gtest.h>

#include "common/util/duration.hpp"

namespace {

using namespace std::chrono_literals;
using common::util::parse_go_duration;

TEST(GoDuration, Valid) {
  struct Case {
    const char* text;
    std::chrono::nanoseconds want;
  };
  // Expectations from Go's time.ParseDuration.
  const Case cases[] = {
      {"0", 0ns},
      {"+0", 0ns},
      {"-0", 0ns},
      {"1m", 1min},
      {"30s", 30s},
      {"1h30m", 90min},
      {"500ms", 500ms},
      {"1.5h", 90min},
      {"2h45m30.5s", 2h + 45min + 30500ms},
      {"10us", 10us},
      {"10\xC2\xB5s", 10us},
      {"10\xCE\xBCs", 10us},
      {"7ns", 7ns},
      {".5s", 500ms},
      {"5.s", 5s},
      {"-1m", -1min},
      {"1h1m1s1ms1us1ns", 1h + 1min + 1s + 1ms + 1us + 1ns},
      {"0.000000001s", 1ns},
      {"9223372036854775807ns", std::chrono::nanoseconds(9223372036854775807LL)},
      {"-9223372036854775808ns",
       std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::min())},
      {"2562047h", 2562047h},
  };
  for (const auto& c : cases) {
    auto got = parse_go_duration(c.text);
    ASSERT_TRUE(got) << c.text << ": " << got.error().message;
    EXPECT_EQ(got->count(), c.want.count()) << c.text;
  }
}

TEST(GoDuration, Invalid) {
  const char* cases[] = {"",     "1",  "m",      "1x",       "-",
                         "+",    ".s", "1.2.3s", "1m 2s",    " 1m",
                         "1M",   "1d", "1h-1m",  "3000000h", "9223372036854775808ns",
                         "1e3s", "ms1"};
  for (const char* c : cases) {
    auto got = parse_go_duration(c);
    ASSERT_FALSE(got) << c;
    EXPECT_EQ(got.error().kind, common::util::ErrorKind::invalid_input);
    EXPECT_NE(got.error().message.find("\"" + std::string(c) + "\""), std::string::npos)
        << got.error().message;
  }
}

} // namespace
