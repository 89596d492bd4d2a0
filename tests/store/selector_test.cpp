#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/store/store.hpp"

namespace common::store {
namespace {

using Op = Requirement::Op;

std::string show(const Selector& s) {
  static constexpr const char* names[] = {"=", "!=", "in", "notin", "exists", "!"};
  std::string out;
  for (const auto& r : s) {
    out += "[" + r.key + " " + names[static_cast<int>(r.op)];
    for (const auto& v : r.values) {
      out += " '" + v + "'";
    }
    out += "]";
  }
  return out;
}

TEST(StoreSelector, ParsesWhatKubernetesAccepts) {
  struct Case {
    const char* text;
    const char* parsed;
  };
  const Case cases[] = {
      {"", ""},
      {"   ", ""},
      {"app=web", "[app = 'web']"},
      {"app==web", "[app = 'web']"},
      {"app = web", "[app = 'web']"},
      {"app!=web", "[app != 'web']"},
      {"app=", "[app = '']"},
      {"app!=,tier", "[app != ''][tier exists]"},
      {"app", "[app exists]"},
      {"!app", "[app !]"},
      {" ! app ", "[app !]"},
      {"app in (web, api)", "[app in 'api' 'web']"},
      {"app in (web,web,api)", "[app in 'api' 'web']"},
      {"app notin (web)", "[app notin 'web']"},
      {"app in (a,)", "[app in '' 'a']"},
      {"app in (,a)", "[app in '' 'a']"},
      {"app=web,tier!=db,!legacy,env in (prod),team",
       "[app = 'web'][tier != 'db'][legacy !][env in 'prod'][team exists]"},
      {"example.com/app=v1.2_3-x", "[example.com/app = 'v1.2_3-x']"},
      {"a.b-c/d_e.f=G", "[a.b-c/d_e.f = 'G']"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto s = parse_selector(c.text);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(show(*s), c.parsed);
  }
}

TEST(StoreSelector, RejectsWhatKubernetesRejects) {
  struct Case {
    const char* text;
    const char* in_message;
  };
  const Case cases[] = {
      {",", "expected a label key"},
      {"app=web,", "expected a label key, found the end"},
      {"app=web,,x", "expected a label key"},
      {"app=web tier=db", "expected ',' or the end"},
      {"app=web=x", "expected ',' or the end"},
      {"!app=web", "expected ',' or the end"},
      {"!", "expected a label key"},
      {"app in web", "expected '('"},
      {"app in ()", "at least one value"},
      {"app in (a b)", "expected ',' or ')'"},
      {"app in (a", "expected ',' or ')'"},
      {"app notin", "expected '('"},
      {"app>1", "unsupported operator"},
      {"app<1", "unsupported operator"},
      {"app = (x)", "expected a label value"},
      {"-app=x", "invalid label key"},
      {"app-=x", "invalid label key"},
      {"Example.com/app=x", "invalid label key"},
      {"/app=x", "invalid label key"},
      {"a/b/c=x", "invalid label key"},
      {"app=-x", "invalid label value"},
      {"app in (ok, bad!)", "expected ',' or ')'"},
      {"app in (x_)", "invalid label value"},
      {"in=x", "expected a label key"},
      {"app=x()", "expected ',' or the end"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto s = parse_selector(c.text);
    ASSERT_FALSE(s.has_value()) << show(*s);
    EXPECT_EQ(s.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(s.error().message.find(c.in_message), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("label selector"), std::string::npos);
  }
}

TEST(StoreSelector, LongKeysAndValues) {
  const std::string name63(63, 'a');
  const std::string prefix253 = std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                                std::string(63, 'd') + "." + std::string(61, 'e');
  ASSERT_EQ(prefix253.size(), 253u);
  EXPECT_TRUE(parse_selector(name63 + "=" + name63).has_value());
  EXPECT_TRUE(parse_selector(prefix253 + "/" + name63).has_value());
  EXPECT_FALSE(parse_selector(name63 + "a=x").has_value());
  EXPECT_FALSE(parse_selector("x=" + name63 + "a").has_value());
  EXPECT_FALSE(parse_selector(prefix253 + "e/x").has_value());
}

TEST(StoreSelector, Matches) {
  const std::map<std::string, std::string> labels = {
      {"app", "web"}, {"tier", "front"}, {"empty", ""}};
  struct Case {
    const char* selector;
    bool match;
  };
  const Case cases[] = {
      {"", true},
      {"app=web", true},
      {"app=api", false},
      {"app!=api", true},
      {"app!=web", false},
      {"missing!=x", true}, // absent satisfies !=
      {"missing=x", false},
      {"empty=", true},
      {"empty!=", false},
      {"app in (api,web)", true},
      {"app in (api)", false},
      {"missing in (x)", false},
      {"app notin (api)", true},
      {"app notin (web)", false},
      {"missing notin (x)", true}, // absent satisfies notin
      {"app", true},
      {"missing", false},
      {"!missing", true},
      {"!app", false},
      {"app=web,tier=front", true},
      {"app=web,tier=back", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.selector);
    auto s = parse_selector(c.selector);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(matches(*s, labels), c.match);
  }
}

} // namespace
} // namespace common::store
