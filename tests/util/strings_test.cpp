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
