#include "common/semver/constraint.hpp"

#if defined(__GNUC__) && !defined(__clang__)
// The reference implementations below use std::regex, in which GCC 12 reports a false
// -Wmaybe-uninitialized (the std::function of a regex state) when built with -fsanitize=address.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdlib>
#include <iterator>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace common::semver {
namespace {

struct Case {
  std::string_view constraint;
  std::string_view version;
  bool expected;
};

void expect_cases(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.constraint) + " @ " + std::string(c.version));
    const auto constraint = Constraint::parse(c.constraint);
    ASSERT_TRUE(constraint.has_value()) << constraint.error().message;
    const auto version = parse(c.version);
    ASSERT_TRUE(version.has_value()) << version.error().message;
    EXPECT_EQ(constraint->check(*version), c.expected);
  }
}

TEST(SemverConstraintParse, Rejects) {
  const std::string_view rejected[] = {
      "",
      "latest",
      "garbage",
      ">=1.0 <",
      ">= bar",
      "BAR >= 1.2.3",
      "12.3.4.1234",
      "12.3.34~ 1.2.3",
      "||",
      "1 ||",
      "|| 1",
      ">=1,,<2",
      ",1",
      "1,",
      ">1<2",
      "==1",
      "~>=1",
      "!1",
      "V1",
      "v",
      "1.2.3-01", // NewVersion rejects the leading zero: "constraint parser error"
      "1|2",      // '|' is in the part character class, then NewVersion fails
      "1 ||| 2",  // the second segment is "| 2"
      "1x",       // "1x.0.0" does not parse
      "99999999999999999999",
      "1.2.3 -",
      "1.2.3 - ",
      "1 -2",
      "=1 - 2",      // the range rewrite yields "=>= 1, <= 2 "
      ">=1.0 - 2.0", // ">=>= 1.0, <= 2.0 "
      "1 - 2 - 3",
      "1.2.3_1",
      "1.2.3-beta.",
      " \v1",
  };
  for (const std::string_view text : rejected) {
    SCOPED_TRACE(text);
    const auto c = Constraint::parse(text);
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(c.error().message.find("improper constraint"), std::string::npos)
        << c.error().message;
  }
  EXPECT_EQ(Constraint::parse("latest").error().message, "improper constraint: \"latest\"");
  EXPECT_EQ(Constraint::parse("").error().message, "improper constraint: \"\"");
}

TEST(SemverConstraintParse, Accepts) {
  const std::string_view accepted[] = {
      "*",
      "x",
      "X",
      ">= 1.1",
      ">40.50.60, < 50.70",
      "2.0",
      "v2.3.5-20161202202307-sha.e8fc5e5",
      ">= 1.2.3 < 2.0",
      ">= 1.2.3 < 2.0 || => 3.0 < 4",
      ">= 1.2.3, < 2.0 || => 3.0, < 4",
      "3 - 4 || => 3.0, < 4",
      "12.3.34 ~1.2.3",
      "  1.2.3  ",
      "1 , 2",
      "\t>=1\n<2\r",
      "=<1",
      "=>1",
      "~>1.2",
      "^ 1.2",
      "1.2.3+meta",
      ">=1.2.3-0+meta",
      "2 - 3, 4.0.0 - 5.1",
      "1||2",
      "1 || 2",
      "1.0.0 - 2.0.0 || 3.0.0 - 4.0.0",
      "1 - 2>3", // v3.4.0 rewrites to ">= 1, <= 2 >3": the trailing space separates
      "x.2.3",   // after a wildcard major the other parts are not read
      "1.x.|",
      "01.02.03",
  };
  for (const std::string_view text : accepted) {
    SCOPED_TRACE(text);
    const auto c = Constraint::parse(text);
    ASSERT_TRUE(c.has_value()) << c.error().message;
    EXPECT_EQ(c->text(), text);
  }
}

TEST(SemverConstraintCheck, WildcardsAndPartials) {
  expect_cases({
      // *, x, ~*, ~0.0.0: anything but pre-releases
      {"*", "0.0.0", true},
      {"*", "99.1.2", true},
      {"x", "1.2.3", true},
      {"X", "1.2.3", true},
      {"~*", "2.1.1", true},
      {"~0.0.0", "1.2.3", true},
      {"*", "1.2.3-rc.1", false},
      {"x.2.3", "7.0.0", true},
      // 1.2, =1.2, 1.2.x: >=1.2.0 <1.3.0
      {"1.2", "1.2.0", true},
      {"1.2", "1.2.99", true},
      {"1.2", "1.3.0", false},
      {"1.2", "1.1.9", false},
      {"=1.2", "1.2.7", true},
      {"1.2.x", "1.2.7", true},
      {"1.2.x", "1.3.0", false},
      {"1.20", "1.20.5", true},
      {"1.20", "1.21.0", false},
      {"1.20.0", "1.20.1", false},
      {"1.20.0", "v1.20.0", true},
      {"1.20.0", "1.20.0+build", true},
      // 1, 1.x: >=1.0.0 <2.0.0
      {"1", "1.0.0", true},
      {"1", "1.99.99", true},
      {"1", "2.0.0", false},
      {"1.x", "1.4", true},
      {"1.x", "0.9.9", false},
      {"1.x.|", "1.5.0", true},
      // >11 = >=12.0.0, >11.1 = >=11.2.0
      {">11", "11.9.9", false},
      {">11", "12.0.0", true},
      {">11.1", "11.1.9", false},
      {">11.1", "11.2.0", true},
      {">11.1.0", "11.1.1", true},
      // <1.1 = <1.1.0, <1.x = <1.0.0
      {"<1.1", "1.0.9", true},
      {"<1.1", "1.1.0", false},
      {"<1.x", "0.9.9", true},
      {"<1.x", "1.0.0", false},
      // <=1.1 = <1.2.0, <=2.x = <3.0.0
      {"<=1.1", "1.1.99", true},
      {"<=1.1", "1.2.0", false},
      {"<=1.1", "0.5.0", true},
      {"<=2.x", "2.99.0", true},
      {"<=2.x", "3.0.0", false},
      {"<=1.1.0", "1.1.1", false},
      // >=1.2.x = >=1.2.0
      {">=1.2.x", "1.2.0", true},
      {">=1.2.x", "1.1.9", false},
      {">=1.2.x", "9.0.0", true},
      // != with wildcards excludes the whole range
      {"!=4.x", "4.0.0", false},
      {"!=4.x", "4.9.9", false},
      {"!=4.x", "5.0.0", true},
      {"!=4.x", "3.9.9", true},
      {"!=4.1", "4.1.0", false},
      {"!=4.1", "4.1.7", false},
      {"!=4.1", "4.2.0", true},
      {"!=4.1.0", "4.1.1", true},
      {"!=4.1.0", "4.1.0+meta", false},
      // tilde
      {"~1.2.3", "1.2.3", true},
      {"~1.2.3", "1.2.9", true},
      {"~1.2.3", "1.2.2", false},
      {"~1.2.3", "1.3.0", false},
      {"~1", "1.9.0", true},
      {"~1", "2.0.0", false},
      {"~>1.2", "1.2.5", true},
      {"~>1.2", "1.3.0", false},
      {"~1.x", "1.3.5", true},
      // caret
      {"^1.2.3", "1.2.3", true},
      {"^1.2.3", "1.99.0", true},
      {"^1.2.3", "2.0.0", false},
      {"^1.2.3", "1.2.2", false},
      {"^0.2.3", "0.2.9", true},
      {"^0.2.3", "0.3.0", false},
      {"^0.0.3", "0.0.3", true},
      {"^0.0.3", "0.0.4", false},
      {"^0.0", "0.0.9", true},
      {"^0.0", "0.1.0", false},
      {"^0", "0.9.9", true},
      {"^0", "1.0.0", false},
      {"^0.0.0", "0.0.0", true},
      {"^0.0.0", "0.0.1", false},
      {"^1.x", "1.0.0", true},
      {"^1.x", "1.9.9", true},
      {"^1.x", "2.0.0", false},
      // leading zeros are coerced in constraints too
      {"01.02", "1.2.5", true},
  });
}

TEST(SemverConstraintCheck, OperatorsAndSeparators) {
  expect_cases({
      {">=1.1 <2 !=1.2.3", "1.2.3", false},
      {">=1.1 <2 !=1.2.3", "1.2.4", true},
      {">=1.1, <2, !=1.2.3", "1.2.4", true},
      {"> 1.1 , <  2", "1.5.0", true},
      {"=> 1.1", "1.1.0", true},
      {"=< 1.1.0", "1.1.0", true},
      {"=< 1.1.0", "1.1.1", false},
      {"<2 || >=3", "2.5.0", false},
      {"<2 || >=3", "3.0.0", true},
      {"<2||>=3", "1.0.0", true},
      {"=1.2.3", "1.2.3", true},
      {"v1.2.3", "1.2.3", true},
      {"1.2.3+a", "1.2.3+b", true},
  });
}

TEST(SemverConstraintCheck, HyphenRanges) {
  expect_cases({
      {"1.2 - 1.4", "1.2.0", true},
      {"1.2 - 1.4", "1.4.9", true}, // "<= 1.4" is "< 1.5.0"
      {"1.2 - 1.4", "1.5.0", false},
      {"1.2 - 1.4", "1.1.9", false},
      {"1.0.0 - 2.0.0", "2.0.0", true},
      {"1.0.0 - 2.0.0", "2.0.1", false},
      {"1.2.3 - 2.3.4 || 5", "5.1.0", true},
      {"1.2.3 - 2.3.4 || 5", "3.0.0", false},
      {"2 - 3, 4.0.0 - 5.1", "4.5.0", false},
      {"1.1-3", "1.1.0", true}, // not a range: the version 1.1.0-3, dirty patch (~)
      {"1.1-3", "1.2.0", false},
      {"1 - 2>3", "2.5.0", false},
  });
}

TEST(SemverConstraintCheck, PrereleasesNeedAPrereleaseInTheSameAndGroup) {
  expect_cases({
      {">= 1.0.0 <= 2.0.0-beta", "1.0.1-beta", true},
      {">= 1.0.0 <= 2.0.0-beta", "1.0.1", true},
      {">= 1.0.0 <= 2.0.0-beta || > 3", "3.0.1-beta", false},
      {">= 1.0.0 <= 2.0.0-beta || > 3", "1.0.1-beta", true},
      {"~1.2.3-beta.2", "1.2.4-beta.2", true},
      {"~1.2.3-beta.2", "1.3.4-beta.2", false},
      {"^1.2.0-alpha.0", "1.2.1-alpha.1", true},
      {"*-0", "1.0.0-rc.1", true},
      {"*-0", "1.0.0", true},
      {"2.x-0", "2.1.0-rc.1", true},
      {"2.x-0", "3.0.0-rc.1", false},
      {">=7.8.0-0", "7.8.0-rc9", true},
      {">=7.8.0-0", "7.8.0-rc10", true},
      {">=7.8.0-rc9", "7.8.0-rc10", false}, // ASCII: rc10 < rc9
      {"*", "1.0.0-rc.1", false},
      {"1.25", "1.25-alpine", false},
      {"1.25-0", "1.25-alpine", true},
      {">=1.0.0", "2.0.0-rc.1", false},
      {"!=1.2.3", "1.2.4-beta", false},
      {"!=1.2.3 >=0.0.0-0", "1.2.4-beta", true},
      {"!=1.2 >=0.0.0-0", "1.2.4-beta", true}, // dirty patch: the pre-releases differ
      {"!=1.2 >=0.0.0-0", "1.2.4", false},
      {"!=1.2-beta", "1.2.4-beta", false},
  });
}

// Consequences of constraints.go v3.4.0 that its documentation does not state: a wildcard major
// leaves minorDirty and patchDirty unset, so the operators that read them treat "*" as 0.0.0.
TEST(SemverConstraintCheck, WildcardMajorQuirks) {
  expect_cases({
      {"!=*", "0.0.0", false},
      {"!=*", "1.0.0", true},
      {"<=*", "0.0.5", true},
      {"<=*", "0.1.0", false},
      {"^*", "0.0.0", true},
      {"^*", "1.0.0", false},
      {">*", "0.0.0", false},
      {">*", "0.0.1", true},
      {"<*", "0.0.0", false},
      {">=*", "0.0.0", true},
  });
}

TEST(SemverConstraint, CopiesAndMovesKeepTheConstraint) {
  auto parsed = Constraint::parse(">=1.2 <2");
  ASSERT_TRUE(parsed.has_value());
  const auto v = parse("1.5.0");
  ASSERT_TRUE(v.has_value());
  Constraint copy = *parsed;
  Constraint moved = std::move(*parsed);
  EXPECT_TRUE(copy.check(*v));
  EXPECT_TRUE(moved.check(*v));
  EXPECT_EQ(copy.text(), ">=1.2 <2");
  copy = Constraint::parse("<1").value();
  EXPECT_FALSE(copy.check(*v));
  EXPECT_EQ(copy.text(), "<1");
  moved = copy;
  EXPECT_FALSE(moved.check(*v));
}

// Differential test of the hand-written grammar against the regexes of constraints.go v3.4.0,
// run with std::regex (ECMAScript is leftmost-first like Go's regexp; \s is spelled out as Go's
// [\t\n\f\r ]). The reference tokenizes each input as NewConstraint does; the tokens are joined
// into an unambiguous canonical constraint ("op cv, op cv || ..."), and Constraint::parse of the
// original must accept exactly what the reference accepts and check like the canonical form.
namespace reference {

const std::string k_ws = "[\\t\\n\\f\\r ]";
const std::string k_cv = "v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?"
                         "(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?"
                         "(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?";
const std::string k_ops = "=||!=|>|<|>=|=>|<=|=<|~|~>|\\^";

const std::regex& range_re() {
  static const std::regex re(k_ws + "*(" + k_cv + ")" + k_ws + "+-" + k_ws + "+(" + k_cv + ")" +
                             k_ws + "*");
  return re;
}
const std::regex& valid_re() {
  static const std::regex re("^(" + k_ws + "*(" + k_ops + ")" + k_ws + "*(" + k_cv + ")" + k_ws +
                             "*)((?:" + k_ws + "+|," + k_ws + "*)(" + k_ops + ")" + k_ws + "*(" +
                             k_cv + ")" + k_ws + "*)*$");
  return re;
}
const std::regex& find_re() {
  static const std::regex re("(" + k_ops + ")" + k_ws + "*(" + k_cv + ")");
  return re;
}
const std::regex& constraint_re() {
  static const std::regex re("^" + k_ws + "*(" + k_ops + ")" + k_ws + "*(" + k_cv + ")" + k_ws +
                             "*$");
  return re;
}

bool is_x(const std::string& s) {
  return s == "x" || s == "X" || s == "*";
}

// NewConstraint's tokenization; nullopt where it returns an error.
std::optional<std::string> canonical(const std::string& input) {
  std::string o = input;
  for (auto it = std::sregex_iterator(input.begin(), input.end(), range_re());
       it != std::sregex_iterator(); ++it) {
    const std::string t = ">= " + (*it)[1].str() + ", <= " + (*it)[11].str() + " ";
    if (const auto at = o.find((*it)[0].str()); at != std::string::npos) {
      o.replace(at, (*it)[0].length(), t);
    }
  }
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const auto bar = o.find("||", start);
    const std::string segment = o.substr(start, bar == std::string::npos ? bar : bar - start);
    if (!std::regex_search(segment, valid_re())) {
      return std::nullopt;
    }
    std::string group;
    for (auto it = std::sregex_iterator(segment.begin(), segment.end(), find_re());
         it != std::sregex_iterator(); ++it) {
      const std::string token = (*it)[0].str();
      std::smatch m;
      if (!std::regex_search(token, m, constraint_re())) {
        return std::nullopt;
      }
      std::string ver = m[2].str();
      const std::string minor = m[4].length() > 0 ? m[4].str().substr(1) : "";
      const std::string patch = m[5].length() > 0 ? m[5].str().substr(1) : "";
      if (is_x(m[3].str())) {
        ver = "0.0.0" + m[6].str();
      } else if (minor.empty() || is_x(minor)) {
        ver = m[3].str() + ".0.0" + m[6].str();
      } else if (patch.empty() || is_x(patch)) {
        ver = m[3].str() + m[4].str() + ".0" + m[6].str();
      }
      if (!parse(ver)) {
        return std::nullopt;
      }
      group += (group.empty() ? "" : ", ") + m[1].str() + m[2].str();
    }
    out += (out.empty() ? "" : " || ") + group;
    if (bar == std::string::npos) {
      return out;
    }
    start = bar + 2;
  }
}

} // namespace reference

std::string random_chars(std::mt19937& rng) {
  static constexpr std::string_view k_alphabet = "0123456789012xX*|.-+v ,<>=!~^|abAZ\t";
  std::uniform_int_distribution<std::size_t> len(0, 14);
  std::uniform_int_distribution<std::size_t> pick(0, k_alphabet.size() - 1);
  std::string s;
  for (std::size_t i = len(rng); i > 0; --i) {
    s.push_back(k_alphabet[pick(rng)]);
  }
  return s;
}

std::string random_tokens(std::mt19937& rng) {
  static constexpr std::string_view k_tokens[] = {
      "1",     "2",     "0",     "1.2", "1.2.3", "v1.2", "1.x", "x",  "*",    "X.1",
      "1.2.x", "2.*.3", "-beta", "-0",  "+meta", ".4",   "|",   "||", " || ", " - ",
      " -",    "- ",    "-",     " ",   "  ",    ",",    ", ",  "=",  "!=",   ">",
      "<",     ">=",    "=>",    "<=",  "=<",    "~",    "~>",  "^",  "01",   "1x",
  };
  std::uniform_int_distribution<std::size_t> len(1, 8);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(k_tokens) - 1);
  std::string s;
  for (std::size_t i = len(rng); i > 0; --i) {
    s += k_tokens[pick(rng)];
  }
  return s;
}

TEST(SemverConstraintGrammar, ReferenceTokenizesLikeNewConstraint) {
  EXPECT_EQ(reference::canonical(">= 1.2 <3, !=2.x || ~1"), ">=1.2, <3, !=2.x || ~1");
  EXPECT_EQ(reference::canonical("1 - 2>3"), ">=1, <=2, >3");
  EXPECT_EQ(reference::canonical("x.|"), "x.|");
  EXPECT_FALSE(reference::canonical("=1 - 2").has_value());
  EXPECT_FALSE(reference::canonical("1|2").has_value());
  EXPECT_FALSE(reference::canonical("").has_value());
}

TEST(SemverConstraintGrammar, MatchesTheMastermindsRegexes) {
  const int k_iterations = std::getenv("IU_SEMVER_GRAMMAR_ITERATIONS") != nullptr
                               ? std::atoi(std::getenv("IU_SEMVER_GRAMMAR_ITERATIONS"))
                               : 6000;
  std::vector<Version> probes;
  for (const std::string_view p :
       {"0.0.0",      "0.0.1",      "0.1.0",      "0.1.5",   "1.0.0",      "1.1.0",
        "1.2.0",      "1.2.3",      "1.2.4",      "1.3.0",   "2.0.0",      "2.1.0",
        "2.3.4",      "3.0.0",      "4.0.0",      "0.0.0-0", "1.2.0-beta", "1.2.3-0",
        "1.2.3-beta", "2.0.0-rc.1", "1.0.0-meta", "9.9.9"}) {
    probes.push_back(parse(p).value());
  }
  std::mt19937 rng(20250627);
  int accepted = 0;
  std::string failures;
  for (int i = 0; i < k_iterations; ++i) {
    const std::string input = i % 2 == 0 ? random_chars(rng) : random_tokens(rng);
    const auto want = reference::canonical(input);
    const auto got = Constraint::parse(input);
    if (want.has_value() != got.has_value()) {
      failures += "[" + input + "] reference " + (want ? "accepts" : "rejects") + "\n";
      continue;
    }
    if (!want) {
      continue;
    }
    ++accepted;
    const auto canonical = Constraint::parse(*want);
    if (!canonical) {
      failures += "[" + input + "] canonical [" + *want + "] does not parse\n";
      continue;
    }
    for (const Version& p : probes) {
      if (got->check(p) != canonical->check(p)) {
        failures += "[" + input + "] vs [" + *want + "] differ on " + p.original + "\n";
        break;
      }
    }
  }
  EXPECT_TRUE(failures.empty()) << failures;
  EXPECT_GT(accepted, k_iterations / 20) << "the generator should produce valid constraints too";
}

} // namespace
} // namespace common::semver
