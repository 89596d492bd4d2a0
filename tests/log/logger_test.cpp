#include <cstdio>
#include <limits>
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

TEST(FormatLine, GoldenLinesWithTypedValues) {
  const Fields fields = {{"image", "ghcr.io/acme/web"},
                         {"bytes", std::size_t{4096}},
                         {"ok", true},
                         {"ratio", 0.25},
                         {"delta", -3},
                         {"note", "two words"}};
  EXPECT_EQ(format_line(Format::logfmt, k_time, Level::info, "rendered", fields),
            "time=2023-11-14T22:13:20.123Z level=info msg=rendered image=ghcr.io/acme/web "
            "bytes=4096 ok=true ratio=0.25 delta=-3 note=\"two words\"\n");
  EXPECT_EQ(format_line(Format::json, k_time, Level::info, "rendered", fields),
            "{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"info\",\"msg\":\"rendered\","
            "\"image\":\"ghcr.io/acme/web\",\"bytes\":4096,\"ok\":true,\"ratio\":0.25,"
            "\"delta\":-3,\"note\":\"two words\"}\n");
  // A number given as text stays text; a non-finite double is a string.
  const auto parsed = nlohmann::json::parse(format_line(
      Format::json, k_time, Level::info, "m",
      {{"text", "42"}, {"nan", std::numeric_limits<double>::quiet_NaN()}, {"no", false}}));
  EXPECT_TRUE(parsed["text"].is_string());
  EXPECT_EQ(parsed["nan"], "NaN");
  EXPECT_EQ(parsed["no"], false);
}

TEST(FormatLine, MultiLineValuesAndMessagesStayOneLine) {
  const std::string text = "first\nsecond\r\nthird\x1b[31m\xe2\x80\xa8"
                           "fourth\xc2\x85";
  for (const Format format : {Format::logfmt, Format::json}) {
    const std::string line =
        format_line(format, k_time, Level::error, text, {{"stderr", text}, {"k", "v"}});
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
    EXPECT_EQ(line.find("\xe2\x80\xa8"), std::string::npos) << line;
    EXPECT_EQ(line.find("\xc2\x85"), std::string::npos) << line;
    EXPECT_NE(line.find("first\\nsecond\\r\\nthird\\u001b[31m\\u2028fourth\\u0085"),
              std::string::npos)
        << line;
  }
  const auto parsed = nlohmann::json::parse(
      format_line(Format::json, k_time, Level::error, "m", {{"stderr", text}}));
  EXPECT_EQ(parsed["stderr"], text);
}

TEST(FormatLine, RedactsSecretKeysAndUrlUserInfo) {
  struct Case {
    std::string key;
    bool secret;
  };
  const std::vector<Case> cases = {
      {"token", true},         {"refresh_token", true}, {"Password", true},  {"db.passwd", true},
      {"client_secret", true}, {"Authorization", true}, {"x-api-key", true}, {"apikey", true},
      {"cookie", true},        {"credential", true},    {"image", false},    {"digest", false},
      {"object", false},       {"path", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_secret_key(c.key), c.secret) << c.key;
    const std::string line =
        format_line(Format::logfmt, k_time, Level::info, "m", {{c.key, "hunter2"}});
    EXPECT_EQ(line.find("hunter2") == std::string::npos, c.secret) << line;
    if (c.secret) {
      EXPECT_NE(line.find("=***"), std::string::npos) << line;
    }
  }
  // Typed values under a secret key are redacted too.
  EXPECT_EQ(nlohmann::json::parse(
                format_line(Format::json, k_time, Level::info, "m", {{"token", 12345}}))["token"],
            "***");
  // User info in URLs, in values and in the message.
  EXPECT_EQ(format_line(Format::logfmt, k_time, Level::warn,
                        "clone https://bot:s3cr3t@git.example/r.git failed",
                        {{"remote", "https://x:y@h:8443/p?q=1"}, {"plain", "user@host"}}),
            "time=2023-11-14T22:13:20.123Z level=warn msg=\"clone https://***@git.example/r.git "
            "failed\" remote=\"https://***@h:8443/p?q=1\" plain=user@host\n");
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

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) {
    out.append(buffer, n);
  }
  return out;
}

TEST(Logger, WritesTheGoldenLineWithTheClocksTime) {
  for (const Format format : {Format::logfmt, Format::json}) {
    std::FILE* out = std::tmpfile();
    ASSERT_NE(out, nullptr);
    util::FakeClock clock;
    clock.set_wall(k_time);
    Logger logger(out, clock, format, Level::debug);
    logger.info("resolved images", {{"fingerprint", "abc"}, {"count", 2}});
    EXPECT_EQ(read_all(out), format_line(format, k_time, Level::info, "resolved images",
                                         {{"fingerprint", "abc"}, {"count", 2}}));
    std::fclose(out);
  }
}

TEST(Logger, LevelThresholdFilters) {
  struct Case {
    Level min;
    std::string expected_levels;
  };
  const std::vector<Case> cases = {{Level::debug, "debug,info,warn,error,"},
                                   {Level::info, "info,warn,error,"},
                                   {Level::warn, "warn,error,"},
                                   {Level::error, "error,"}};
  for (const Case& c : cases) {
    std::FILE* out = std::tmpfile();
    ASSERT_NE(out, nullptr);
    util::FakeClock clock;
    Logger logger(out, clock, Format::json, c.min);
    EXPECT_EQ(logger.enabled(Level::debug), c.min == Level::debug);
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    std::string levels;
    const std::string text = read_all(out);
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      levels +=
          nlohmann::json::parse(text.substr(start, nl - start))["level"].get<std::string>() + ",";
    }
    EXPECT_EQ(levels, c.expected_levels) << to_string(c.min);
    std::fclose(out);
  }
}

TEST(Logger, ConcurrentJsonWritersProduceWholeLines) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  util::FakeClock clock;
  Logger logger(out, clock, Format::json, Level::info);
  constexpr int k_threads = 4;
  constexpr int k_events = 150;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < k_events; ++i) {
        logger.warn("multi\nline", {{"thread", t}, {"i", i}, {"payload", std::string(2000, 'y')}});
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const std::string text = read_all(out);
  std::fclose(out);
  std::vector<int> seen(k_threads, 0);
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    const auto event = nlohmann::json::parse(text.substr(start, nl - start));
    EXPECT_EQ(event["i"].get<int>(), seen.at(event["thread"].get<std::size_t>())++);
  }
  EXPECT_EQ(start, text.size());
  for (const int n : seen) {
    EXPECT_EQ(n, k_events);
  }
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
