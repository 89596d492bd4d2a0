#include <gtest/gtest.h>

#include "common/policy/glob.hpp"

namespace common::policy {
namespace {

struct MatchCase {
  const char* pattern;
  const char* text;
  bool match;
};

// Go's path/filepath match_test.go (Unix), plus the cases ignore-tags users write.
TEST(PolicyGlob, MatchesLikeGoFilepathMatch) {
  const MatchCase cases[] = {
      {"abc", "abc", true},
      {"*", "abc", true},
      {"*c", "abc", true},
      {"a*", "a", true},
      {"a*", "abc", true},
      {"a*", "ab/c", false},
      {"a*/b", "abc/b", true},
      {"a*/b", "a/c/b", false},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false},
      {"a*b?c*x", "abxbbxdbxebxczzx", true},
      {"a*b?c*x", "abxbbxdbxebxczzy", false},
      {"ab[c]", "abc", true},
      {"ab[b-d]", "abc", true},
      {"ab[e-g]", "abc", false},
      {"ab[^c]", "abc", false},
      {"ab[^b-d]", "abc", false},
      {"ab[^e-g]", "abc", true},
      {"a\\*b", "a*b", true},
      {"a\\*b", "ab", false},
      {"a?b", "a\u263ab", true},
      {"a[^a]b", "a\u263ab", true},
      {"a???b", "a\u263ab", false},
      {"a[^a][^a][^a]b", "a\u263ab", false},
      {"[a-\u03b6]*", "\u03b1", true},
      {"*[a-\u03b6]", "A", false},
      {"a?b", "a/b", false},
      {"a*b", "a/b", false},
      {"[\\]a]", "]", true},
      {"[\\-]", "-", true},
      {"[x\\-]", "x", true},
      {"[x\\-]", "-", true},
      {"[x\\-]", "z", false},
      {"[\\-x]", "x", true},
      {"[\\-x]", "-", true},
      {"[\\-x]", "a", false},
      {"*x", "xxx", true},
      // ignore-tags as written by users
      {"tag?", "tag1", true},
      {"tag?", "tag10", false},
      {"tag?", "tag", false},
      {"*-dev", "1.2.3-dev", true},
      {"*-dev", "1.2.3-dev1", false},
      {"*-dev*", "1.2.3-dev1", true},
      {"v1.*", "v1.2.3", true},
      {"v1.*", "v10.0.0", false},
      {"*", "", true},
      {"", "", true},
      {"", "a", false},
      {"[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]", "9966857", true},
      {"[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]", "1.2.3", false},
      {"latest", "Latest", false},
      {"*[*]", "a*", true},
      {"**", "abc", true},
      {"a**c", "abc", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " ~ " + c.text);
    const auto glob = Glob::parse(c.pattern);
    ASSERT_TRUE(glob.has_value()) << glob.error().message;
    EXPECT_EQ(glob->matches(c.text), c.match);
    EXPECT_EQ(glob->pattern(), c.pattern);
  }
}

TEST(PolicyGlob, RejectsBadPatternsLikeGo) {
  const char* cases[] = {
      "[]a]", "[-]", "[x-]", "[-x]", "\\",    "[a-b-c]", "[",    "[^",
      "[^bc", "a[",  "a/b[", "*[",   "abc\\", "[^]",     "a*b[", "ok*[z-",
  };
  for (const char* pattern : cases) {
    SCOPED_TRACE(pattern);
    const auto glob = Glob::parse(pattern);
    ASSERT_FALSE(glob.has_value());
    EXPECT_EQ(glob.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(glob.error().message.find("bad pattern"), std::string::npos);
    EXPECT_NE(glob.error().message.find(std::string("\"") + pattern + "\""), std::string::npos)
        << glob.error().message;
  }
}

} // namespace
} // namespace common::policy
