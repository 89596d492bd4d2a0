#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/log/logger.hpp"

namespace common::log {
namespace {

const auto k_time =
    std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));

TEST(FormatLine, LogfmtQuotesOnlyWhatNeedsIt) {
  struct Case {
    std::string value;
    std::string written;
  };
  const std::vector<Case> cases = {
      {"plain", "k=plain"},
      {"", "k=\"\""},
      {"two words", "k=\"two words\""},
      {"a=b", "k=\"a=b\""},
      {"say \"hi\"", "k=\"say \\\"hi\\\"\""},
      {"line\nbreak", "k=\"line\\nbreak\""},
      {"back\\slash", "k=\"back\\\\slash\""},
      {"bell\x07", "k=\"bell\\u0007\""},
      {"caf\xc3\xa9", "k=\"caf\xc3\xa9\""},
      {"bad\xff", "k=\"bad\xef\xbf\xbd\""},
      {"\xc0\xaf", "k=\"\xef\xbf\xbd\xef\xbf\xbd\""}, // overlong '/'
  };
  for (const Case& c : cases) {
    const std::string line =
        format_line(Format::logfmt, k_time, Level::info, "m", {{"k", c.value}});
    EXPECT_EQ(line, "time=2023-11-14T22:13:20.123Z level=info msg=m " + c.written + "\n")
        << c.value;
  }
}

TEST(FormatLine, JsonLinesAlwaysParseAndKeepFieldOrder) {
  const std::vector<std::string> values = {"plain", "", "q\"uote", "nl\n", "bad\xff\xfe", "\x01"};
  for (const std::string& v : values) {
    const std::string line =
        format_line(Format::json, k_time, Level::warn, "hello world", {{"z", v}, {"a", "1"}});
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
    const auto parsed = nlohmann::json::parse(line);
    EXPECT_EQ(parsed["level"], "warn");
    EXPECT_EQ(parsed["msg"], "hello world");
    EXPECT_EQ(parsed["time"], "2023-11-14T22:13:20.123Z");
    EXPECT_LT(line.find("\"z\""), line.find("\"a\""));
  }
}

TEST(FormatLine, KeysAreCleaned) {
  EXPECT_EQ(format_line(Format::logfmt, k_time, Level::error, "m", {{"bad key=", "v"}}),
            "time=2023-11-14T22:13:20.123Z level=error msg=m bad_key_=v\n");
}

TEST(RedactUrl, DropsUserInfoQueryAndFragment) {
  EXPECT_EQ(redact_url("https://user:pass@host:5000/v2/x?token=secret#f"),
            "https://host:5000/v2/x");
  EXPECT_EQ(redact_url("http://host/path"), "http://host/path");
  EXPECT_EQ(redact_url("https://host?x=1"), "https://host");
  EXPECT_EQ(redact_url("/relative?q"), "/relative");
}

TEST(Parse, LevelsAndFormats) {
  EXPECT_EQ(parse_level("warning").value(), Level::warn);
  EXPECT_EQ(parse_level("debug").value(), Level::debug);
  EXPECT_FALSE(parse_level("loud"));
  EXPECT_NE(parse_level("loud").error().message.find("\"loud\""), std::string::npos);
  EXPECT_EQ(parse_format("json").value(), Format::json);
  EXPECT_FALSE(parse_format("xml"));
}

TEST(Logger, DropsBelowTheLevelAndNeverInterleavesLines) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  util::FakeClock clock;
  Logger logger(out, clock, Format::logfmt, Level::info);
  logger.debug("hidden");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 200; ++i) {
        logger.info("event", {{"thread", std::to_string(t)}, {"payload", std::string(300, 'x')}});
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::rewind(out);
  char buffer[4096];
  int lines = 0;
  while (std::fgets(buffer, sizeof buffer, out) != nullptr) {
    const std::string line(buffer);
    EXPECT_EQ(line.rfind("time=", 0), 0u) << line;
    EXPECT_EQ(line.back(), '\n');
    ++lines;
  }
  std::fclose(out);
  EXPECT_EQ(lines, 800);
}

} // namespace
} // namespace common::log
