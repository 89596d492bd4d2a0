#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "common/policy/filter.hpp"

namespace common::policy::detail {
namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

TEST(PolicyFilter, ParsesFloatsLikeGoStrconv) {
  struct Case {
    const char* text;
    double value;
  };
  const Case cases[] = {
      {"1", 1},
      {"+1", 1},
      {"-1", -1},
      {"0", 0},
      {"00012", 12},
      {"1.5", 1.5},
      {".5", 0.5},
      {"5.", 5},
      {"1e3", 1000},
      {"1E3", 1000},
      {"1e+3", 1000},
      {"1e-3", 0.001},
      {"1_000", 1000},
      {"1_0.2_5e1_0", 10.25e10},
      {"0x1p-2", 0.25},
      {"0X1P4", 16},
      {"0x1.8p1", 3},
      {"0x_1p0", 1},
      {"0x.8p1", 1},
      {"inf", k_inf},
      {"+Inf", k_inf},
      {"-Infinity", -k_inf},
      {"INFINITY", k_inf},
      {"1e308", 1e308},
      {"1e-400", 0},      // underflow: zero, no error (as Go)
      {"0.0001e-400", 0}, // underflow
      {"123456789012345678901234567890", 123456789012345678901234567890.0},
      {"20240115", 20240115},
      {"3.14159", 3.14159},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto v = parse_go_float(c.text);
    ASSERT_TRUE(v.has_value());
    EXPECT_DOUBLE_EQ(*v, c.value);
  }
  const auto nan = parse_go_float("NaN");
  ASSERT_TRUE(nan.has_value());
  EXPECT_TRUE(std::isnan(*nan));
  EXPECT_TRUE(std::isnan(parse_go_float("nan").value()));
}

TEST(PolicyFilter, RejectsWhatGoStrconvRejects) {
  const char* cases[] = {
      "",    ".",    "e3",     "1e",     "1e+",     "1.2.3",    "v1",   "1a",    "1-2",
      " 1",  "1 ",   "latest", "0x",     "0x1",     "0x1.8",    "0xg",  "1__0",  "_1",
      "1_",  "1_.5", "1._5",   "1e_3",   "+nan",    "-nan",     "nanx", "infin", "infx",
      "++1", "-",    "1e400",  "-1e400", "1.8e308", "0x1p2000", "1,5",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_go_float(text).has_value());
  }
}

TEST(PolicyFilter, AllowTagsForms) {
  struct Case {
    const char* expression;
    const char* tag;
    bool allowed;
  };
  const Case cases[] = {
      {"", "anything", true},
      {"any", "anything", true},
      {"ANY", "anything", true},
      {"Any", "", true},
      {"regexp:^v1\\.", "v1.2.3", true},
      {"regexp:^v1\\.", "v10.0", false},
      {"regexp:alpine", "1.2.3-alpine", true}, // unanchored
      {"regexp:alpine", "1.2.3", false},
      {"REGEXP:^1", "1.0", true},
      {"RegExp:^1", "2.0", false},
      {"regexp:", "anything", true}, // the empty expression matches everywhere
      {"regexp:a:b", "xa:by", true}, // only the first ':' separates the prefix
      {"regexp:^[0-9]+$", "123", true},
      {"regexp:^[0-9]+$", "123a", false},
      {"regexp:^\\d+\\.\\d+\\.\\d+$", "1.2.3", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.expression) + " ~ " + c.tag);
    const auto allow = AllowTags::compile(c.expression);
    ASSERT_TRUE(allow.has_value()) << allow.error().message;
    EXPECT_EQ(allow->allows(c.tag), c.allowed);
  }
  EXPECT_TRUE(AllowTags::compile("any")->allows_all());
  EXPECT_FALSE(AllowTags::compile("regexp:x")->allows_all());
}

TEST(PolicyFilter, AllowTagsErrorsNameTheValue) {
  for (const char* expression : {"regexp:[", "regexp:(a", "glob:*", "v1.*", "anything", "regex:^v",
                                 "regexp:(?<name>x)", "regexp:a{1001}"}) {
    SCOPED_TRACE(expression);
    const auto allow = AllowTags::compile(expression);
    ASSERT_FALSE(allow.has_value());
    EXPECT_EQ(allow.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(allow.error().message.find(std::string("allow-tags \"") + expression + "\""),
              std::string::npos)
        << allow.error().message;
  }
}

TEST(PolicyFilter, PatternAndExtract) {
  struct Case {
    const char* pattern;
    const char* extract;
    const char* tag;
    bool matched;
    const char* value;
  };
  const Case cases[] = {
      {"^RELEASE\\.(?P<timestamp>.*)Z$", "$timestamp", "RELEASE.2024-01-02T03-04-05Z", true,
       "2024-01-02T03-04-05"},
      {"^RELEASE\\.(?P<timestamp>.*)Z$", "$timestamp", "RELEASE.2024", false, ""},
      {"^RELEASE\\.(?P<timestamp>.*)Z$", "${timestamp}", "RELEASE.1Z", true, "1"},
      {"^main-(\\d+)-([0-9a-f]+)$", "$1", "main-42-abc123", true, "42"},
      {"^main-(\\d+)-([0-9a-f]+)$", "${2}.${1}", "main-42-abc123", true, "abc123.42"},
      {"^main-(\\d+)-([0-9a-f]+)$", "$2.$1", "main-42-abc123", true, "abc123.42"},
      {"^main-(\\d+)-([0-9a-f]+)$", "$0", "main-42-abc123", true, "main-42-abc123"},
      {"^main-(\\d+)-([0-9a-f]+)$", "v$1-x", "main-42-abc123", true, "v42-x"},
      {"^main-(\\d+)", "$$$1", "main-7", true, "$7"},
      {"^main-(\\d+)", "$", "main-7", true, "$"},       // a bare '$' is text
      {"^main-(\\d+)", "a$-b", "main-7", true, "a$-b"}, // '$' without a name is text
      {"^main-(\\d+)", "$1$1", "main-7", true, "77"},
      {"(a)|(b)", "[$1][$2]", "b", true, "[][b]"},     // a group outside the match: nothing
      {"(?P<n_1>[0-9]+)", "$n_1", "x12y", true, "12"}, // unanchored
      {"^v", "", "v1.2", true, "v1.2"},                // no extract: the tag itself
      {"^v", "", "1.2", false, ""},
      {"^v", "fixed", "v1", true, "fixed"},
      {"(?P<x>a)|(?P<x>b)", "<$x>", "b", true, "<b>"}, // Go: the first named group that matched
      {"(?P<x>a)|(?P<x>b)", "<$x>", "a", true, "<a>"},
  };
  std::string scratch = "left over";
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " / " + c.extract + " ~ " + c.tag);
    const auto pattern = TagPattern::compile(c.pattern, c.extract);
    ASSERT_TRUE(pattern.has_value()) << pattern.error().message;
    EXPECT_EQ(pattern->extracts(), std::string(c.extract) != "");
    std::string_view value;
    ASSERT_EQ(pattern->apply(c.tag, scratch, value), c.matched);
    if (c.matched) {
      EXPECT_EQ(value, c.value);
    }
  }
}

TEST(PolicyFilter, ManyGroupsExtract) {
  std::string pattern;
  for (int i = 0; i < 20; ++i) {
    pattern += "(.)";
  }
  const auto p = TagPattern::compile(pattern, "$20$1${17}");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  std::string scratch;
  std::string_view value;
  ASSERT_TRUE(p->apply("abcdefghijklmnopqrstuvwxyz", scratch, value));
  EXPECT_EQ(value, "taq");
}

TEST(PolicyFilter, PatternAndExtractErrors) {
  struct Case {
    const char* pattern;
    const char* extract;
    const char* names; // expected in the message
    const char* field; // the option at fault, in Error::where
  };
  const Case cases[] = {
      {"(", "", "filterTags.pattern \"(\"", "filterTags.pattern"},
      {"[a-", "", "filterTags.pattern \"[a-\"", "filterTags.pattern"},
      {"^(\\d+)$", "$2", "filterTags.extract \"$2\"", "filterTags.extract"},
      {"^(?P<ts>\\d+)$", "$timestamp", "filterTags.extract \"$timestamp\"", "filterTags.extract"},
      {"^(\\d+)$", "$1x", "${N}", "filterTags.extract"},
      {"^(\\d+)$", "${1", "filterTags.extract \"${1\"", "filterTags.extract"},
      {"^(\\d+)$", "${}", "filterTags.extract \"${}\"", "filterTags.extract"},
      {"^(\\d+)$", "${-}", "filterTags.extract", "filterTags.extract"},
      {"", "$1", "needs a filterTags.pattern", "filterTags.extract"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " / " + c.extract);
    const auto p = TagPattern::compile(c.pattern, c.extract);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(p.error().message.find(c.names), std::string::npos) << p.error().message;
    ASSERT_TRUE(p.error().where);
    EXPECT_EQ(p.error().where->field, c.field);
  }
}

} // namespace
} // namespace common::policy::detail
