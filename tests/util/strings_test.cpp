#include <gtest/gtest.h>

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
