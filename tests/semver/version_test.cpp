#include "common/semver/version.hpp"

#if defined(__GNUC__) && !defined(__clang__)
// The reference implementations below use std::regex, in which GCC 12 reports a false
// -Wmaybe-uninitialized (the std::function of a regex state) when built with -fsanitize=address.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cstdint>
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

struct Accepted {
  std::string_view text;
  std::uint64_t major, minor, patch;
  std::string_view prerelease, metadata;
};

// NewVersion (CoerceNewVersion = true) accepts these; expectations from version_test.go and the
// reference notes.
const Accepted k_accepted[] = {
    {"1.2.3", 1, 2, 3, "", ""},
    {"v1.2.3", 1, 2, 3, "", ""},
    {"1.0", 1, 0, 0, "", ""},
    {"v1.0", 1, 0, 0, "", ""},
    {"1", 1, 0, 0, "", ""},
    {"v1", 1, 0, 0, "", ""},
    {"0", 0, 0, 0, "", ""},
    {"01.1.1", 1, 1, 1, "", ""},
    {"2024.01.15", 2024, 1, 15, "", ""},
    {"1.2-5", 1, 2, 0, "5", ""},
    {"v1.2-5", 1, 2, 0, "5", ""},
    {"1.2-beta.5", 1, 2, 0, "beta.5", ""},
    {"1.25-alpine", 1, 25, 0, "alpine", ""},
    {"1.2.3+test.01", 1, 2, 3, "", "test.01"},
    {"1.2.3-alpha.-1", 1, 2, 3, "alpha.-1", ""},
    {"1.2.0-x.Y.0+metadata", 1, 2, 0, "x.Y.0", "metadata"},
    {"v1.2.0-x.Y.0+metadata-width-hypen", 1, 2, 0, "x.Y.0", "metadata-width-hypen"},
    {"1.2.3-rc1-with-hypen", 1, 2, 3, "rc1-with-hypen", ""},
    {"1.2.2147483648", 1, 2, 2147483648, "", ""},
    {"20221209-update-renovatejson-v4", 20221209, 0, 0, "update-renovatejson-v4", ""},
    {"1.2.3--", 1, 2, 3, "-", ""},
    {"1.2.3-0", 1, 2, 3, "0", ""},
    {"1.2.3-0a.00a", 1, 2, 3, "0a.00a", ""},
    {"1+build", 1, 0, 0, "", "build"},
    {"1.2.3-rc.1+b.2", 1, 2, 3, "rc.1", "b.2"},
    {"18446744073709551615.0.0", 18446744073709551615u, 0, 0, "", ""},
    {"9999999999999999999.0.0", 9999999999999999999u, 0, 0, "", ""},
    {"000000000000000000000000001.0.0", 1, 0, 0, "", ""},
    {"1.0.0-99999999999999999999", 1, 0, 0, "99999999999999999999", ""},
};

const std::string_view k_rejected[] = {
    "",
    "v",
    "V1.2.3",
    "vv1",
    "foo",
    "latest",
    "1.2.beta",
    "v1.2.beta",
    "1.2.3.4",
    "v1.2.3.4",
    "12.3.4.1234",
    "1.",
    "1..2",
    "1.2.3.",
    ".1.2",
    "1.2.3-",
    "1.2.3+",
    "1.2.3-alpha..1",
    "1.2.3-alpha.",
    "1.2.3+meta..x",
    "1.2.3-alpha.01",
    "1.2.3-00",
    "1.2.3_4",
    "1.2.3-alpha_1",
    "1.2.3+meta_1",
    "\n1.2",
    " 1.2.3",
    "1.2.3 ",
    "=1.2.3",
    "1.2.3-beta+meta+more",
    "18446744073709551616",
    "1.18446744073709551616",
    "1.2.99999999999999999999",
    "sha256-abcdef",
    "1.2.3-\xc3\xa9",
};

TEST(SemverParse, AcceptsLooseVersions) {
  for (const Accepted& c : k_accepted) {
    SCOPED_TRACE(c.text);
    const auto v = parse(c.text);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_EQ(v->major, c.major);
    EXPECT_EQ(v->minor, c.minor);
    EXPECT_EQ(v->patch, c.patch);
    EXPECT_EQ(v->prerelease, c.prerelease);
    EXPECT_EQ(v->metadata, c.metadata);
    EXPECT_EQ(v->original, c.text);
  }
}

TEST(SemverParse, RejectsWithInvalidInputNamingTheText) {
  for (const std::string_view text : k_rejected) {
    SCOPED_TRACE(text);
    const auto v = parse(text);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(v.error().message.find("invalid semantic version"), std::string::npos);
  }
  const auto latest = parse("latest");
  ASSERT_FALSE(latest.has_value());
  EXPECT_NE(latest.error().message.find("\"latest\""), std::string::npos) << latest.error().message;
}

TEST(SemverParseFlux, AcceptsOnlyThreePartVersions) {
  const std::string_view accepted[] = {"1.2.3",
                                       "v1.2.3",
                                       "0.0.0",
                                       "1.2.3-rc.1",
                                       "v1.2.3-rc.1",
                                       "1.2.3+build.5",
                                       "1.2.3-beta.1+build.01",
                                       "1.2.3--x",
                                       "1.2.3-alpha.-1",
                                       "01.1.1",
                                       "1.01.1",
                                       "1.1.01",
                                       "2024.01.15",
                                       "v2025.02.03-rc.1",
                                       "1.2-x.3"}; // SplitN gives "1", "2-x", "3": 1.2.0-x.3
  for (const std::string_view text : accepted) {
    SCOPED_TRACE(text);
    const auto v = parse_flux(text);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    EXPECT_EQ(v->original, text);
  }
  const auto rc = parse_flux("v1.2.3-rc.1+b");
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(rc->prerelease, "rc.1");
  EXPECT_EQ(rc->metadata, "b");

  const std::string_view rejected[] = {"1.2",
                                       "v1.2",
                                       "1",
                                       "v1",
                                       "1.2-5",
                                       "1.2.3.4",
                                       "vv1.2.3",
                                       "V1.2.3",
                                       "",
                                       "v",
                                       "1.2.3-",
                                       "1.2.3+",
                                       "1.2.3-01",
                                       "1.2.3-a..b",
                                       "1.2.3_1",
                                       "1..3",
                                       "1.2.",
                                       ".2.3",
                                       "latest",
                                       "20221209-update-renovatejson-v4",
                                       "18446744073709551616.0.0"};
  for (const std::string_view text : rejected) {
    SCOPED_TRACE(text);
    const auto v = parse_flux(text);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().kind, util::ErrorKind::invalid_input);
  }
}

Version must_parse(std::string_view text) {
  auto v = parse(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v ? *v : Version{};
}

struct Ordered {
  std::string_view a, b;
  int expected;
};

// TestCompare of version_test.go plus the orderings the anchors' users run into.
const Ordered k_compare[] = {
    {"1.2.3", "1.5.1", -1},
    {"2.2.3", "1.5.1", 1},
    {"2.2.3", "2.2.2", 1},
    {"3.2-beta", "3.2-beta", 0},
    {"1.3", "1.1.4", 1},
    {"4.2", "4.2-beta", 1},
    {"4.2-beta", "4.2", -1},
    {"4.2-alpha", "4.2-beta", -1},
    {"4.2-alpha", "4.2-alpha", 0},
    {"4.2-beta.2", "4.2-beta.1", 1},
    {"4.2-beta2", "4.2-beta1", 1},
    {"4.2-beta", "4.2-beta.2", -1},
    {"4.2-beta", "4.2-beta.foo", -1},
    {"4.2-beta.2", "4.2-beta", 1},
    {"4.2-beta.foo", "4.2-beta", 1},
    {"1.2+bar", "1.2+baz", 0},
    {"1.0.0-beta.4", "1.0.0-beta.-2", -1},
    {"1.0.0-beta.-2", "1.0.0-beta.-3", -1},
    {"1.0.0-beta.-3", "1.0.0-beta.5", 1},
    {"7.8.0-rc9", "7.8.0-rc10", 1},
    {"7.8.0-rc.9", "7.8.0-rc.10", -1},
    {"1.0.0-BETA", "1.0.0-alpha", -1},
    {"7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.103", -1},
    {"7.43.0-SNAPSHOT.FOO", "7.43.0-SNAPSHOT.103", 1},
    {"1.0.0-1", "1.0.0-a", -1},
    {"v2.0.0", "2.0.0", 0},
    {"v2.0", "2.0.0", 0},
    {"1.2.3+build2", "1.2.3+build1", 0},
    {"01.1.1", "1.1.1", 0},
    {"2024.01.15", "2024.1.9", 1},
    {"18446744073709551615", "18446744073709551614.9.9", 1},
    // A numeric identifier beyond 64 bits fails ParseUint and is compared as a string.
    {"1.0.0-18446744073709551616", "1.0.0-5", 1},
    {"1.0.0-100000000000000000000", "1.0.0-99999999999999999999", -1},
    {"1.0.0-18446744073709551615", "1.0.0-18446744073709551614", 1},
};

TEST(SemverCompare, FollowsMastermindsOrdering) {
  for (const Ordered& c : k_compare) {
    SCOPED_TRACE(std::string(c.a) + " vs " + std::string(c.b));
    const Version a = must_parse(c.a);
    const Version b = must_parse(c.b);
    EXPECT_EQ(compare(a, b), c.expected);
    EXPECT_EQ(compare(b, a), -c.expected);
  }
}

TEST(SemverCompare, TieBreakIsTheOriginalText) {
  const Ordered cases[] = {
      {"v2.0.0", "2.0.0", 1}, {"v2.0.0", "v2.0", 1}, {"1.2.3+build2", "1.2.3+build1", 1},
      {"2.0.0", "2.0.0", 0},  {"1.0.0", "v0.9", 1},  {"4.2-beta", "4.2-beta.2", -1},
  };
  for (const Ordered& c : cases) {
    SCOPED_TRACE(std::string(c.a) + " vs " + std::string(c.b));
    const Version a = must_parse(c.a);
    const Version b = must_parse(c.b);
    EXPECT_EQ(compare_with_tiebreak(a, b), c.expected);
    EXPECT_EQ(compare_with_tiebreak(b, a), -c.expected);
  }
}

std::string newest(std::vector<std::string_view> tags) {
  std::vector<Version> versions;
  for (const std::string_view t : tags) {
    versions.push_back(must_parse(t));
  }
  const auto it =
      std::max_element(versions.begin(), versions.end(), [](const auto& x, const auto& y) {
        return compare_with_tiebreak(x, y) < 0;
      });
  return it->original;
}

TEST(SemverCompare, NewestAmongEqualsIsTheLexicallyGreatest) {
  EXPECT_EQ(newest({"2.0.0", "v2.0", "v2.0.0"}), "v2.0.0");
  EXPECT_EQ(newest({"v2.0.0", "2.0.0", "v2.0"}), "v2.0.0");
  EXPECT_EQ(newest({"1.2.3+build1", "1.2.3+build2"}), "1.2.3+build2");
  EXPECT_EQ(newest({"7.8.0-rc10", "7.8.0-rc9"}), "7.8.0-rc9");
}

TEST(SemverCompare, HandBuiltVersionsCompareLikeSplit) {
  // Versions built by hand bypass parse(); compare still follows strings.Split semantics.
  Version a;
  Version b;
  a.prerelease = "a."; // ["a", ""]: the empty part ties with the missing one
  b.prerelease = "a";
  EXPECT_EQ(compare(a, b), 0);
  b.prerelease = "a.b";
  EXPECT_EQ(compare(a, b), -1);
}

// Differential test against a straightforward port of version.go v3.4.0 (coerceNewVersion's
// regex through std::regex, strings.Split and strconv.ParseUint spelled out), on random input.
namespace reference {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (const char c : s) {
    if (c == sep) {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  return parts;
}

bool parse_uint(const std::string& s, std::uint64_t& out) {
  if (s.empty()) {
    return false;
  }
  out = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (out > (UINT64_MAX - d) / 10) {
      return false;
    }
    out = out * 10 + d;
  }
  return true;
}

bool only(const std::string& s, std::string_view allowed) {
  return s.find_first_not_of(allowed) == std::string::npos;
}

constexpr std::string_view k_num = "0123456789";
constexpr std::string_view k_allowed =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789";

bool validate_prerelease(const std::string& p) {
  for (const std::string& part : split(p, '.')) {
    if (part.empty()) {
      return false;
    }
    if (only(part, k_num)) {
      if (part.size() > 1 && part[0] == '0') {
        return false;
      }
    } else if (!only(part, k_allowed)) {
      return false;
    }
  }
  return true;
}

bool validate_metadata(const std::string& m) {
  for (const std::string& part : split(m, '.')) {
    if (part.empty() || !only(part, k_allowed)) {
      return false;
    }
  }
  return true;
}

std::optional<Version> new_version(const std::string& v) {
  static const std::regex re("^v?([0-9]+)(\\.[0-9]+)?(\\.[0-9]+)?"
                             "(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?"
                             "(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?$");
  std::smatch m;
  if (!std::regex_search(v, m, re)) {
    return std::nullopt;
  }
  Version out;
  out.prerelease = m[5].str();
  out.metadata = m[8].str();
  out.original = v;
  if (!parse_uint(m[1].str(), out.major) ||
      (m[2].length() > 0 && !parse_uint(m[2].str().substr(1), out.minor)) ||
      (m[3].length() > 0 && !parse_uint(m[3].str().substr(1), out.patch))) {
    return std::nullopt;
  }
  if (!out.prerelease.empty() && !validate_prerelease(out.prerelease)) {
    return std::nullopt;
  }
  if (!out.metadata.empty() && !validate_metadata(out.metadata)) {
    return std::nullopt;
  }
  return out;
}

int compare_pre_part(const std::string& s, const std::string& o) {
  if (s == o) {
    return 0;
  }
  if (s.empty()) {
    return -1;
  }
  if (o.empty()) {
    return 1;
  }
  std::uint64_t si = 0;
  std::uint64_t oi = 0;
  const bool sn = parse_uint(s, si);
  const bool on = parse_uint(o, oi);
  if (!sn && !on) {
    return s > o ? 1 : -1;
  }
  if (!on) {
    return -1;
  }
  if (!sn) {
    return 1;
  }
  return si > oi ? 1 : -1;
}

int compare(const Version& a, const Version& b) {
  for (const auto& [x, y] :
       {std::pair{a.major, b.major}, std::pair{a.minor, b.minor}, std::pair{a.patch, b.patch}}) {
    if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  if (a.prerelease.empty() || b.prerelease.empty()) {
    return a.prerelease.empty() == b.prerelease.empty() ? 0 : a.prerelease.empty() ? 1 : -1;
  }
  const auto sp = split(a.prerelease, '.');
  const auto op = split(b.prerelease, '.');
  for (std::size_t i = 0; i < std::max(sp.size(), op.size()); ++i) {
    const int d = compare_pre_part(i < sp.size() ? sp[i] : "", i < op.size() ? op[i] : "");
    if (d != 0) {
      return d;
    }
  }
  return 0;
}

} // namespace reference

std::string random_version_text(std::mt19937& rng) {
  static constexpr std::string_view k_pieces[] = {
      "v",
      "0",
      "1",
      "2",
      "01",
      "00",
      "10",
      "9",
      "18446744073709551616",
      "99999999999999999999",
      ".",
      ".",
      ".",
      "-",
      "-",
      "+",
      "a",
      "b",
      "B",
      "rc",
      "x",
      "-",
      "_",
      " ",
      "V",
      "..",
      "0a",
  };
  std::uniform_int_distribution<std::size_t> len(0, 9);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(k_pieces) - 1);
  std::string s;
  for (std::size_t i = len(rng); i > 0; --i) {
    s += k_pieces[pick(rng)];
  }
  return s;
}

TEST(SemverVersionReference, ParseAndCompareMatchAPortOfVersionGo) {
  std::mt19937 rng(20250627);
  std::vector<Version> accepted;
  std::string failures;
  for (int i = 0; i < 20000; ++i) {
    const std::string text = random_version_text(rng);
    const auto want = reference::new_version(text);
    const auto got = parse(text);
    if (want.has_value() != got.has_value()) {
      failures += "parse [" + text + "]: reference " + (want ? "accepts" : "rejects") + "\n";
      continue;
    }
    // Flux: three dot-separated parts, then the lenient parse.
    const auto dots = std::count(text.begin(), text.end(), '.');
    const bool want_flux = want.has_value() && dots >= 2;
    if (want_flux != parse_flux(text).has_value()) {
      failures +=
          "parse_flux [" + text + "]: reference " + (want_flux ? "accepts" : "rejects") + "\n";
    }
    if (!want) {
      continue;
    }
    if (got->major != want->major || got->minor != want->minor || got->patch != want->patch ||
        got->prerelease != want->prerelease || got->metadata != want->metadata) {
      failures += "parse [" + text + "]: fields differ\n";
    }
    accepted.push_back(*got);
  }
  for (std::size_t i = 0; i + 1 < accepted.size(); ++i) {
    const Version& a = accepted[i];
    const Version& b = accepted[(i * 7919 + 1) % accepted.size()];
    if (compare(a, b) != reference::compare(a, b)) {
      failures += "compare [" + a.original + "] [" + b.original + "]\n";
    }
  }
  EXPECT_TRUE(failures.empty()) << failures;
  EXPECT_GT(accepted.size(), 1000u);
}

} // namespace
} // namespace common::semver
