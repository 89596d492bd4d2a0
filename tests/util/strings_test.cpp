#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/util/json_depth.hpp"
#include "common/util/strings.hpp"

namespace common::util {
namespace {

TEST(UtilStrings, Trim) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \n "), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(UtilStrings, CaseHelpersAreAsciiOnly) {
  EXPECT_EQ(to_lower("RegExp:A-Z\xC3\x84"), "regexp:a-z\xC3\x84");
  EXPECT_TRUE(iequals("Www-Authenticate", "WWW-AUTHENTICATE"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_TRUE(starts_with_icase("RegExp:^v1", "regexp:"));
  EXPECT_FALSE(starts_with_icase("reg", "regexp:"));
}

} // namespace
} // namespace common::util

namespace common::util {
namespace {

TEST(UtilStrings, QuoteEscapesAndCuts) {
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote("x\ny"), "\"x\\x0ay\"");
  EXPECT_EQ(quote("abcdef", 3), "\"abc\"...");
}

TEST(UtilStrings, AppendQuotedIsQuoteAppended) {
  const std::vector<std::pair<std::string, std::size_t>> cases = {
      {"", 200}, {"plain", 200}, {"a\"b\\c", 200}, {"\x01\xff", 200}, {"abcdef", 3}, {"abc", 3}};
  for (const auto& [text, max] : cases) {
    std::string out = "prefix ";
    append_quoted(out, text, max);
    EXPECT_EQ(out, "prefix " + quote(text, max)) << text;
  }
}

TEST(UtilStrings, CaseInsensitiveComparisons) {
  struct Case {
    std::string a;
    std::string b;
    bool equal;
    bool starts;   // a starts with b
    bool contains; // a contains b
  };
  const std::vector<Case> cases = {
      {"Content-Type", "content-type", true, true, true},
      {"ImageUpdater", "imageupdater", true, true, true},
      {"kind: ImageUpdater", "IMAGEUPDATER", false, false, true},
      {"abc", "abcd", false, false, false},
      {"abc", "", false, true, true},
      {"", "", true, true, true},
      {"\xc3\x84", "\xc3\xa4", false, false, false}, // ASCII only: not \u00c4 vs \u00e4
      {"a-b", "A_B", false, false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(iequals(c.a, c.b), c.equal) << c.a << " / " << c.b;
    EXPECT_EQ(iequals(c.b, c.a), c.equal) << c.b << " / " << c.a;
    EXPECT_EQ(starts_with_icase(c.a, c.b), c.starts) << c.a << " / " << c.b;
    EXPECT_EQ(contains_icase(c.a, c.b), c.contains) << c.a << " / " << c.b;
  }
}

TEST(UtilStrings, DecodeBase64IsStrict) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"aGVsbG8=", "hello"},
      {"aGVsbG8", "hello"},
      {"", ""},
      {"+/+/", std::string("\xfb\xff\xbf")},
      {"aGV*bG8=", std::nullopt},
      {"aGVsb", std::nullopt},     // a dangling character
      {"YQ=", std::nullopt},       // padding that does not complete the quantum
      {"aGVs bG8=", std::nullopt}, // no white space
      {"aGVsbG8-", std::nullopt},  // not the URL alphabet
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(decode_base64(text), want) << text;
  }
}

} // namespace
} // namespace common::util

namespace {

TEST(JsonNesting, CountsOutsideStrings) {
  using common::util::json_nesting;
  EXPECT_EQ(json_nesting("{}", 10), 1u);
  EXPECT_EQ(json_nesting(R"({"a": [1, {"b": []}]})", 10), 4u);
  EXPECT_EQ(json_nesting(R"({"a": "[[[[[[\"[["})", 10), 1u);
  EXPECT_EQ(json_nesting("", 10), 0u);
  EXPECT_EQ(json_nesting(std::string(1000000, '['), 64), 65u);
  EXPECT_EQ(json_nesting("]]]][", 10), 1u);
}

TEST(SplitFields, LikeGoStringsFields) {
  using common::util::split_fields;
  EXPECT_EQ(split_fields("  --enable-helm\t--load-restrictor \n X "),
            (std::vector<std::string>{"--enable-helm", "--load-restrictor", "X"}));
  EXPECT_TRUE(split_fields(" \t").empty());
}

} // namespace

namespace {

TEST(JsonValues, UpperBoundOfNodes) {
  using common::util::json_values;
  EXPECT_EQ(json_values("1", 10), 1u);
  EXPECT_EQ(json_values(R"({"a": [1, 2], "b": "x,y:z"})", 100), 7u);
  std::string flat = "[";
  for (int i = 0; i < 1000; ++i) {
    flat += "1,";
  }
  EXPECT_EQ(json_values(flat, 100), 101u);
}

} // namespace
