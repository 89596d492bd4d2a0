#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/policy/policy.hpp"
#include "common/semver/constraint.hpp"
#include "common/semver/version.hpp"

namespace common::policy {
namespace {

using util::ErrorKind;

// Tags borrow their names: the list owns them (and is moved, never copied, so views stay valid).
struct TagList {
  explicit TagList(std::vector<std::string> n) : names(std::move(n)) {
    tags.reserve(names.size());
    for (const auto& name : names) {
      tags.push_back(Tag{name, std::nullopt});
    }
  }
  TagList(const TagList&) = delete;
  TagList& operator=(const TagList&) = delete;
  TagList(TagList&&) = default;
  operator std::span<const Tag>() const { return tags; }
  std::size_t size() const { return tags.size(); }

  std::vector<std::string> names;
  std::vector<Tag> tags;
};

TagList make_tags(std::vector<std::string> names) {
  return TagList(std::move(names));
}

Options semver_options(std::string constraint) {
  Options o;
  o.strategy = Strategy::semver;
  o.constraint = std::move(constraint);
  return o;
}

Options with(Strategy strategy, Order order = Order::asc) {
  Options o;
  o.strategy = strategy;
  o.order = order;
  return o;
}

struct SelectCase {
  const char* name;
  Options options;
  std::vector<std::string> tags;
  const char* tag;   // the expected choice, or nullptr for "no tag qualifies"
  const char* value; // the expected compared value (nullptr: the tag)
};

void run(const std::vector<SelectCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto policy = Policy::compile(c.options);
    ASSERT_TRUE(policy.has_value()) << policy.error().message;
    const auto tags = make_tags(c.tags);
    const auto chosen = policy->select(tags);
    if (c.tag == nullptr) {
      ASSERT_FALSE(chosen.has_value()) << chosen->tag;
      EXPECT_EQ(chosen.error().kind, ErrorKind::not_found);
      continue;
    }
    ASSERT_TRUE(chosen.has_value()) << chosen.error().message;
    EXPECT_EQ(chosen->tag, c.tag);
    EXPECT_EQ(chosen->value, c.value != nullptr ? c.value : c.tag);

    // The explained run chooses the same tag.
    std::vector<Verdict> verdicts;
    const auto explained = policy->select(tags, &verdicts);
    ASSERT_TRUE(explained.has_value());
    EXPECT_EQ(explained->tag, chosen->tag);
    EXPECT_EQ(verdicts.size(), tags.size());
  }
}

TEST(Policy, Semver) {
  Options flux = semver_options("");
  flux.dialect = SemverDialect::flux;
  Options flux_range = semver_options(">=1.0.0");
  flux_range.dialect = SemverDialect::flux;
  run({
      {"* excludes pre-releases",
       semver_options(""),
       {"1.0.0", "1.1.0-rc.1", "1.0.1"},
       "1.0.1",
       nullptr},
      {"explicit *", semver_options("*"), {"1.0.0", "1.1.0-rc.1", "1.0.1"}, "1.0.1", nullptr},
      {"*-0 includes pre-releases",
       semver_options("*-0"),
       {"1.0.0", "1.1.0-rc.1", "1.0.1"},
       "1.1.0-rc.1",
       nullptr},
      {"1.25-alpine is a pre-release",
       semver_options(""),
       {"1.24.0", "1.25-alpine", "1.23"},
       "1.24.0",
       nullptr},
      {"1.25-alpine with -0",
       semver_options("*-0"),
       {"1.24.0", "1.25-alpine", "1.23"},
       "1.25-alpine",
       nullptr},
      {"tie-break v2.0.0 over 2.0.0",
       semver_options(""),
       {"2.0.0", "v2.0.0", "v2.0"},
       "v2.0.0",
       nullptr},
      {"tie-break in any order",
       semver_options(""),
       {"v2.0.0", "v2.0", "2.0.0"},
       "v2.0.0",
       nullptr},
      {"all-digit sha wins under * (as the anchors)",
       semver_options(""),
       {"1.2.3", "9966857", "abc1234", "v2.0.0", "latest"},
       "9966857",
       nullptr},
      {"^1.2",
       semver_options("^1.2"),
       {"1.2.0", "1.3.5", "2.0.0", "1.10.1", "1.1.9", "v1.9"},
       "1.10.1",
       nullptr},
      {"partial constraint 1.20 allows patches",
       semver_options("1.20"),
       {"1.20.0", "1.20.3", "1.21.0", "1.19.9"},
       "1.20.3",
       nullptr},
      {"exact pin", semver_options("1.20.0"), {"1.20.0", "1.20.3"}, "1.20.0", nullptr},
      {"or-range",
       semver_options(">=1.0 <3.0 || ~5.1"),
       {"2.9.9", "5.1.7", "5.2.0", "3.0.0"},
       "5.1.7",
       nullptr},
      {"calver",
       semver_options(""),
       {"2024.01.15", "2023.12.31", "2024.1.2"},
       "2024.01.15",
       nullptr},
      {"numbers beat text", semver_options(""), {"1.2.10", "1.2.9"}, "1.2.10", nullptr},
      {"rc9 above rc10 (ASCII)",
       semver_options("*-0"),
       {"7.8.0-rc10", "7.8.0-rc9"},
       "7.8.0-rc9",
       nullptr},
      {"metadata ignored, original breaks the tie",
       semver_options(""),
       {"1.2.3+build2", "1.2.3+build1"},
       "1.2.3+build2",
       nullptr},
      {"nothing satisfies", semver_options("^3"), {"1.0.0", "2.0.0"}, nullptr, nullptr},
      {"no versions at all", semver_options(""), {"latest", "main", "abc"}, nullptr, nullptr},
      {"no tags", semver_options(""), {}, nullptr, nullptr},
      {"flux rejects 1.2", flux, {"1.2", "1.1.0"}, "1.1.0", nullptr},
      {"masterminds takes 1.2", semver_options(""), {"1.2", "1.1.0"}, "1.2", nullptr},
      {"flux takes v-prefixed three parts",
       flux_range,
       {"v2025.2.3-rc.1", "v2025.2.3", "1.0"},
       "v2025.2.3",
       nullptr},
      {"flux rejects the sha", flux, {"9966857", "1.0.0"}, "1.0.0", nullptr},
  });
}

TEST(Policy, AllowAndIgnoreTags) {
  Options unanchored = with(Strategy::alphabetical);
  unanchored.allow_tags = "regexp:rc";
  Options anchored = semver_options("");
  anchored.allow_tags = "REGEXP:^v";
  Options any = with(Strategy::alphabetical);
  any.allow_tags = "ANY";
  Options tag_q = with(Strategy::alphabetical);
  tag_q.ignore_tags = {"tag?"};
  Options tag_star = with(Strategy::alphabetical);
  tag_star.ignore_tags = {"tag*"};
  Options dev = semver_options("*-0");
  dev.ignore_tags = {"*-dev", "*-rc.*"};
  Options everything = semver_options("");
  everything.ignore_tags = {"*"};
  run({
      {"allow regexp is unanchored", unanchored, {"a-rc", "z", "b-rc1"}, "b-rc1", nullptr},
      {"allow prefix in any case, own anchor",
       anchored,
       {"v1.0.0", "2.0.0", "xv3.0.0"},
       "v1.0.0",
       nullptr},
      {"allow any", any, {"a", "b"}, "b", nullptr},
      {"tag? matches tag1, not tag10", tag_q, {"tag1", "tag10", "tag2"}, "tag10", nullptr},
      {"tag* ignores all", tag_star, {"tag1", "tag10"}, nullptr, nullptr},
      {"several globs",
       dev,
       {"1.0.0", "1.1.0-dev", "1.2.0-rc.1", "1.0.5-beta"},
       "1.0.5-beta",
       nullptr},
      {"* disables updates", everything, {"1.0.0"}, nullptr, nullptr},
  });
}

TEST(Policy, FluxFilterTags) {
  Options minio = with(Strategy::alphabetical);
  minio.filter_pattern = R"(^RELEASE\.(?P<timestamp>.*)Z$)";
  minio.filter_extract = "$timestamp";
  Options build_number = with(Strategy::numerical);
  build_number.filter_pattern = R"(^main-[a-f0-9]+-(?P<ts>[0-9]+))";
  build_number.filter_extract = "$ts";
  Options collapse_numerical = with(Strategy::numerical);
  collapse_numerical.filter_pattern = R"(^(\d+)-)";
  collapse_numerical.filter_extract = "$1";
  Options collapse_alpha = with(Strategy::alphabetical);
  collapse_alpha.filter_pattern = R"(^(\d+)-)";
  collapse_alpha.filter_extract = "${1}";
  Options semver_extract = semver_options("^1");
  semver_extract.filter_pattern = R"(^app-(v?\d+\.\d+\.\d+)$)";
  semver_extract.filter_extract = "$1";
  Options only_pattern = semver_options("");
  only_pattern.filter_pattern = "^v";
  run({
      {"extract a named group",
       minio,
       {"RELEASE.2024-01-02T03-04-05Z", "RELEASE.2024-02-01T00-00-00Z", "latest",
        "RELEASE.2023-12-31T23-59-59Z"},
       "RELEASE.2024-02-01T00-00-00Z",
       "2024-02-01T00-00-00"},
      {"numerical on the extraction",
       build_number,
       {"main-abc1234-1700000000", "main-def5678-1700000100", "latest", "main-0123456-999"},
       "main-def5678-1700000100",
       "1700000100"},
      {"same extraction: last tag wins (numerical)",
       collapse_numerical,
       {"5-a", "5-b", "3-c", "x"},
       "5-b",
       "5"},
      {"same extraction: last tag wins (alphabetical)",
       collapse_alpha,
       {"5-a", "3-c", "5-b"},
       "5-b",
       "5"},
      {"semver on the extraction",
       semver_extract,
       {"app-1.2.3", "app-v1.9.0", "1.9.9", "app-2.0.0"},
       "app-v1.9.0",
       "v1.9.0"},
      {"pattern without extract", only_pattern, {"v1.0.0", "2.0.0"}, "v1.0.0", nullptr},
      {"nothing matches the pattern", minio, {"latest", "1.0"}, nullptr, nullptr},
  });
}

TEST(Policy, AlphabeticalAndNumerical) {
  run({
      {"alphabetical asc: greatest byte-wise",
       with(Strategy::alphabetical),
       {"v9", "v10", "a", "Z"},
       "v9",
       nullptr},
      {"alphabetical desc: least",
       with(Strategy::alphabetical, Order::desc),
       {"v9", "v10", "a", "Z"},
       "Z",
       nullptr},
      {"numerical asc: largest",
       with(Strategy::numerical),
       {"1", "10", "9.5", "-3"},
       "10",
       nullptr},
      {"numerical desc: least",
       with(Strategy::numerical, Order::desc),
       {"1", "10", "9.5", "-3"},
       "-3",
       nullptr},
      {"numerical equal values: later wins",
       with(Strategy::numerical),
       {"1.0", "1", "0.5"},
       "1",
       nullptr},
      {"numerical desc equal values: later wins",
       with(Strategy::numerical, Order::desc),
       {"1", "1.0", "2"},
       "1.0",
       nullptr},
      {"numerical Go syntax",
       with(Strategy::numerical),
       {"1e3", "999", "1_000.5"},
       "1_000.5",
       nullptr},
  });
}

TEST(Policy, NumericalFailsOnANonNumber) {
  const auto policy = Policy::compile(with(Strategy::numerical));
  ASSERT_TRUE(policy.has_value());
  const auto tags = make_tags({"1", "2", "latest", "3", "main"});
  const auto chosen = policy->select(tags);
  ASSERT_FALSE(chosen.has_value());
  EXPECT_EQ(chosen.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(chosen.error().message.find("\"latest\""), std::string::npos) << chosen.error().message;

  std::vector<Verdict> verdicts;
  ASSERT_FALSE(policy->select(tags, &verdicts).has_value());
  ASSERT_EQ(verdicts.size(), 3U); // up to the failing tag
  EXPECT_EQ(verdicts[2].tag, "latest");
  EXPECT_FALSE(verdicts[2].kept);
  EXPECT_EQ(verdicts[2].reason, "not a number");

  // Filters run first: an ignored non-number does not fail the policy.
  Options ignoring = with(Strategy::numerical);
  ignoring.ignore_tags = {"latest", "main"};
  const auto filtered = Policy::compile(ignoring)->select(tags);
  ASSERT_TRUE(filtered.has_value()) << filtered.error().message;
  EXPECT_EQ(filtered->tag, "3");
}

Timestamp at(const char* text) {
  return util::parse_rfc3339(text).value();
}

TEST(Policy, NewestBuild) {
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, const char*>> tags; // name, created
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"newest wins",
       {{"a", "2024-01-01T00:00:00Z"},
        {"b", "2024-03-01T00:00:00Z"},
        {"c", "2024-02-01T00:00:00Z"}},
       "b"},
      {"equal dates: greatest name (latest beats f33bacd)",
       {{"latest", "2024-01-01T00:00:00Z"}, {"f33bacd", "2024-01-01T00:00:00Z"}},
       "latest"},
      {"equal dates in the other order",
       {{"f33bacd", "2024-01-01T00:00:00Z"}, {"latest", "2024-01-01T00:00:00Z"}},
       "latest"},
      {"nanoseconds count",
       {{"z", "2024-01-01T00:00:00Z"}, {"a", "2024-01-01T00:00:00.000000001Z"}},
       "a"},
  };
  const auto policy = Policy::compile(with(Strategy::newest_build));
  ASSERT_TRUE(policy.has_value());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Tag> tags;
    for (const auto& [tag, created] : c.tags) {
      tags.push_back(Tag{tag, at(created)});
    }
    const auto chosen = policy->select(tags);
    ASSERT_TRUE(chosen.has_value()) << chosen.error().message;
    EXPECT_EQ(chosen->tag, c.expected);
  }

  const std::vector<Tag> missing = {Tag{"a", at("2024-01-01T00:00:00Z")}, Tag{"b", std::nullopt}};
  const auto chosen = policy->select(missing);
  ASSERT_FALSE(chosen.has_value());
  EXPECT_EQ(chosen.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(chosen.error().message.find("\"b\""), std::string::npos) << chosen.error().message;

  // An ignored tag needs no created time.
  Options ignoring = with(Strategy::newest_build);
  ignoring.ignore_tags = {"b"};
  const auto ok = Policy::compile(ignoring)->select(missing);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->tag, "a");

  std::vector<Verdict> verdicts;
  ASSERT_TRUE(Policy::compile(ignoring)->select(missing, &verdicts).has_value());
  ASSERT_EQ(verdicts.size(), 2U);
  EXPECT_EQ(verdicts[0].reason, "created 2024-01-01T00:00:00Z");
}

TEST(Policy, DigestAndSignatureTags) {
  Options digest = with(Strategy::digest);
  digest.constraint = "latest";
  Options digest_ignored = digest;
  digest_ignored.ignore_tags = {"lat*"};
  Options keep_signatures = with(Strategy::alphabetical);
  keep_signatures.exclude_signature_tags = false;
  run({
      {"digest keeps the tracked tag", digest, {"1.0", "latest", "zzz"}, "latest", nullptr},
      {"digest: tracked tag absent", digest, {"1.0", "Latest"}, nullptr, nullptr},
      {"digest: tracked tag ignored", digest_ignored, {"latest"}, nullptr, nullptr},
      {"signature tags dropped",
       with(Strategy::alphabetical),
       {"sha256-abc.sig", "sha256-abc.att", "sha256-abc.sbom", "a"},
       "a",
       nullptr},
      {"signature tags kept when asked",
       keep_signatures,
       {"sha256-abc.sig", "a"},
       "sha256-abc.sig",
       nullptr},
      {"signature tags dropped under semver",
       semver_options("*-0"),
       {"1.0.0", "2.0.0-x.sig"},
       "1.0.0",
       nullptr},
  });
}

TEST(Policy, ExplainsEveryTagInInputOrder) {
  Options o = semver_options("^1.2");
  o.ignore_tags = {"*-dev"};
  o.allow_tags = "regexp:^[v0-9]";
  const auto policy = Policy::compile(o);
  ASSERT_TRUE(policy.has_value());
  const auto tags = make_tags(
      {"1.2.3", "latest", "1.5.0-dev", "2.0.0", "vfoo", "1.4.0", "sha256-x.sig", "1.3.0-rc.1"});
  std::vector<Verdict> verdicts;
  const auto chosen = policy->select(tags, &verdicts);
  ASSERT_TRUE(chosen.has_value());
  EXPECT_EQ(chosen->tag, "1.4.0");
  const std::vector<Verdict> expected = {
      {"1.2.3", true, "satisfies ^1.2"},
      {"latest", false, "not allowed by regexp:^[v0-9]"},
      {"1.5.0-dev", false, "ignored by glob *-dev"},
      {"2.0.0", false, "outside constraint ^1.2"},
      {"vfoo", false, "not a semantic version"},
      {"1.4.0", true, "satisfies ^1.2"},
      {"sha256-x.sig", false, "signature or attestation tag"},
      {"1.3.0-rc.1", false, "pre-release, excluded by ^1.2 (^1.2-0 includes pre-releases)"},
  };
  ASSERT_EQ(verdicts.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(verdicts[i].tag, expected[i].tag);
    EXPECT_EQ(verdicts[i].kept, expected[i].kept);
    EXPECT_EQ(verdicts[i].reason, expected[i].reason);
  }

  // Verdicts are appended to what the caller already has; with an extraction they show it.
  Options extracting = semver_options("");
  extracting.filter_pattern = R"(^app-(.*)$)";
  extracting.filter_extract = "$1";
  std::vector<Verdict> more = {Verdict{"earlier", false, "x"}};
  ASSERT_TRUE(Policy::compile(extracting)->select(make_tags({"app-1.0.0", "x", "app-y"}), &more));
  ASSERT_EQ(more.size(), 4U);
  EXPECT_EQ(more[1].reason, "satisfies * (extracted \"1.0.0\")");
  EXPECT_EQ(more[2].reason, "not matched by filterTags pattern ^app-(.*)$");
  EXPECT_EQ(more[3].reason, "not a semantic version (extracted \"y\")");
}

TEST(Policy, NoTagQualifiesCountsReasons) {
  Options o = semver_options("^1.2");
  o.ignore_tags = {"*-dev", "*-test"};
  const auto policy = Policy::compile(o);
  ASSERT_TRUE(policy.has_value());
  const auto tags = make_tags({"latest", "main", "abc", "2.0.0", "1.1.0", "1.2.0-dev", "1.3.0-test",
                               "0.1.0", "1.4.0-rc.1", "x.sig"});
  const auto chosen = policy->select(tags);
  ASSERT_FALSE(chosen.has_value());
  EXPECT_EQ(chosen.error().kind, ErrorKind::not_found);
  EXPECT_EQ(chosen.error().message,
            "no tag qualifies among 10 tags: 3 not a semantic version, 3 outside constraint "
            "^1.2, 1 ignored by glob *-dev, 1 ignored by glob *-test, 1 pre-release, excluded "
            "by ^1.2 (^1.2-0 includes pre-releases), 1 signature or attestation tag");

  const auto one = policy->select(make_tags({"latest"}));
  ASSERT_FALSE(one.has_value());
  EXPECT_EQ(one.error().message, "no tag qualifies among 1 tag: 1 not a semantic version");

  const auto none = policy->select({});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().kind, ErrorKind::not_found);
  EXPECT_EQ(none.error().message, "no tag qualifies: there are no tags");
}

TEST(Policy, CompileErrorsNameTheOptionAndValue) {
  struct Case {
    const char* name;
    Options options;
    const char* message; // a part of the expected message
  };
  Options bad_constraint = semver_options("latest");
  Options bad_regexp = semver_options("");
  bad_regexp.allow_tags = "regexp:[";
  Options bad_prefix = semver_options("");
  bad_prefix.allow_tags = "glob:*";
  Options bad_glob = semver_options("");
  bad_glob.ignore_tags = {"ok", "[a"};
  Options bad_pattern = semver_options("");
  bad_pattern.filter_pattern = "(";
  Options bad_extract = semver_options("");
  bad_extract.filter_pattern = "^(a)$";
  bad_extract.filter_extract = "$2";
  Options bad_name = semver_options("");
  bad_name.filter_pattern = "^(?P<ts>a)$";
  bad_name.filter_extract = "$timestamp";
  Options extract_alone = semver_options("");
  extract_alone.filter_extract = "$1";
  Options digest = with(Strategy::digest);
  const std::vector<Case> cases = {
      {"constraint", bad_constraint, "invalid constraint \"latest\": "},
      {"allow regexp", bad_regexp, "allow-tags \"regexp:[\""},
      {"allow prefix", bad_prefix, "allow-tags \"glob:*\""},
      {"glob", bad_glob, "ignore-tags"},
      {"pattern", bad_pattern, "filterTags.pattern \"(\""},
      {"extract group", bad_extract, "filterTags.extract \"$2\""},
      {"extract name", bad_name, "filterTags.extract \"$timestamp\""},
      {"extract without pattern", extract_alone, "filterTags.extract \"$1\""},
      {"digest without a tag", digest,
       "the digest strategy needs the tag to track, e.g. nginx:latest"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto policy = Policy::compile(c.options);
    ASSERT_FALSE(policy.has_value());
    EXPECT_EQ(policy.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(policy.error().message.find(c.message), std::string::npos) << policy.error().message;
  }
  // The glob error names the glob.
  EXPECT_NE(Policy::compile(bad_glob).error().message.find("\"[a\""), std::string::npos);
  // A constraint is ignored by strategies that do not use one.
  Options alpha = with(Strategy::alphabetical);
  alpha.constraint = "latest";
  EXPECT_TRUE(Policy::compile(alpha).has_value());
}

TEST(Policy, KeepsItsOptionsAndMoves) {
  Options o = semver_options("^1");
  o.ignore_tags = {"*-dev"};
  auto policy = Policy::compile(o);
  ASSERT_TRUE(policy.has_value());
  Policy moved = std::move(*policy);
  EXPECT_EQ(moved.options().constraint, "^1");
  EXPECT_EQ(moved.options().ignore_tags.size(), 1U);
  const auto chosen = moved.select(make_tags({"1.0.0", "1.1.0-dev", "1.0.1"}));
  ASSERT_TRUE(chosen.has_value());
  EXPECT_EQ(chosen->tag, "1.0.1");
}

// select() takes shortcuts (a scan before parse(), parse() skipped for plain releases, tags that
// cannot win dropped uncounted when nobody asks why). Check it against the plain algorithm:
// parse every tag, keep what the constraint accepts, take the highest by compare_with_tiebreak
// (the later tag on a full tie), over many tag lists, orders and constraints.
std::optional<std::string> reference_choice(const std::vector<std::string>& tags,
                                            const std::string& constraint, SemverDialect dialect) {
  const auto c = semver::Constraint::parse(constraint.empty() ? "*" : constraint).value();
  std::optional<semver::Version> best;
  std::optional<std::string> chosen;
  for (const auto& tag : tags) {
    if (tag.ends_with(".sig")) {
      continue;
    }
    auto v = dialect == SemverDialect::flux ? semver::parse_flux(tag) : semver::parse(tag);
    if (v && c.check(*v) && (!best || semver::compare_with_tiebreak(*v, *best) >= 0)) {
      best = std::move(*v);
      chosen = tag;
    }
  }
  return chosen;
}

std::vector<std::string> tag_pool() {
  std::vector<std::string> pool = {
      "latest",
      "main",
      "v",
      "V1.2.3",
      "1.2.3.4",
      "1..2",
      "1.2.",
      "1.2.3-",
      "1.2.3+",
      ".1.2",
      "1.2.3-rc.01",
      "1.2.3-rc.1",
      "1.2.3-rc.1+meta",
      "1.2.3+meta",
      "01.02.03",
      "v01.2",
      "99999999999999999999.1.1",
      "18446744073709551615.0.0",
      "18446744073709551616.0.0",
      "9966857",
      "3fa2b1c",
      "0",
      "v0",
      "1",
      "1.2",
      "v1.2",
      "2.0.0",
      "v2.0.0",
      "v2.0",
      "2.0",
      "2.0.0-0",
      "2.0.0-alpha",
      "2.0.0+b1",
      "2.0.0+b2",
      "1.2.3-14-gabc1234",
      "2024.01.15",
      "1.25-alpine",
      "1.2-5",
      "x.sig",
      "1.2.3.sig",
      "v1.2.3-rc.1",
      "-1.2.3",
      "+1.2.3",
      "1.-2",
      "1.2.3-a..b",
      "1.2.3-a_b",
      "1.2.3 ",
      " 1.2.3",
      "1.2.3-rc.1.2",
      "5.1.0",
      "5.1.98-rc.1",
      "0.3.1",
      "0.3.0-beta",
      "2.9.9",
      "3.0.0",
  };
  // Deterministic pseudo-random versions with many collisions on major.minor.patch.
  std::uint32_t state = 42;
  const auto next = [&](std::uint32_t k) {
    state = state * 1103515245U + 12345U;
    return (state >> 16) % k;
  };
  const char* forms[] = {"", "v", "", "0"};
  const char* suffixes[] = {"", "", "", "-rc.1", "-rc.2", "-alpine", "+b1", "-1-gabc", ".9", "-"};
  for (int i = 0; i < 400; ++i) {
    std::string t = forms[next(4)] + std::to_string(next(6));
    const auto parts = next(3);
    if (parts >= 1) {
      t += "." + std::to_string(next(4));
    }
    if (parts >= 2) {
      t += "." + std::to_string(next(4));
    }
    t += suffixes[next(10)];
    pool.push_back(t);
  }
  return pool;
}

TEST(Policy, SemverShortcutsAgreeWithTheReference) {
  const std::vector<std::string> constraints = {"",
                                                "*",
                                                "*-0",
                                                "^1.2",
                                                ">=1.0 <3.0 || ~5.1",
                                                "~0.3",
                                                "<1.0.0-0",
                                                "1.2.3 - 2.0.0",
                                                ">=2.0.0-0",
                                                "!=2.0.0",
                                                "<0.0.0",
                                                "2.x-0",
                                                ">=1.2.3-rc.1 <1.2.4",
                                                "=2.0",
                                                "5.1 || 0.3"};
  std::vector<std::string> tags = tag_pool();
  std::vector<std::vector<std::string>> orders = {tags, tags};
  std::reverse(orders[1].begin(), orders[1].end());
  std::uint32_t state = 7;
  for (int k = 0; k < 4; ++k) {
    auto shuffled = tags;
    for (std::size_t i = shuffled.size(); i > 1; --i) {
      state = state * 1664525U + 1013904223U;
      std::swap(shuffled[i - 1], shuffled[state % i]);
    }
    orders.push_back(shuffled);
  }
  for (const SemverDialect dialect : {SemverDialect::masterminds, SemverDialect::flux}) {
    for (const auto& constraint : constraints) {
      Options o = semver_options(constraint);
      o.dialect = dialect;
      const auto policy = Policy::compile(o);
      ASSERT_TRUE(policy.has_value()) << constraint << ": " << policy.error().message;
      for (std::size_t k = 0; k < orders.size(); ++k) {
        SCOPED_TRACE(constraint + " order " + std::to_string(k) +
                     (dialect == SemverDialect::flux ? " flux" : ""));
        const auto expected = reference_choice(orders[k], constraint, dialect);
        const auto list = make_tags(orders[k]);
        std::vector<Verdict> verdicts;
        const auto fast = policy->select(list);
        const auto explained = policy->select(list, &verdicts);
        ASSERT_EQ(fast.has_value(), expected.has_value());
        ASSERT_EQ(explained.has_value(), expected.has_value());
        if (expected) {
          EXPECT_EQ(fast->tag, *expected);
          EXPECT_EQ(explained->tag, *expected);
        }
      }
    }
  }
}

TEST(Policy, SemverVerdictsAgreeWithParse) {
  // Every tag alone: the reason must be what parse() and check() say, whatever the fast path.
  for (const SemverDialect dialect : {SemverDialect::masterminds, SemverDialect::flux}) {
    for (const char* constraint : {"*-0", "^1.2"}) {
      Options o = semver_options(constraint);
      o.dialect = dialect;
      o.exclude_signature_tags = false;
      const auto policy = Policy::compile(o);
      ASSERT_TRUE(policy.has_value());
      const auto c = semver::Constraint::parse(constraint).value();
      for (const auto& tag : tag_pool()) {
        SCOPED_TRACE(tag + " under " + constraint);
        const auto v =
            dialect == SemverDialect::flux ? semver::parse_flux(tag) : semver::parse(tag);
        const bool pre_excluded = v && !v->prerelease.empty() &&
                                  std::string_view(constraint).find('-') == std::string_view::npos;
        const std::string expected =
            !v             ? "not a semantic version"
            : pre_excluded ? std::string("pre-release, excluded by ") + constraint + " (" +
                                 constraint + "-0 includes pre-releases)"
            : !c.check(*v) ? std::string("outside constraint ") + constraint
                           : std::string("satisfies ") + constraint;
        std::vector<Verdict> verdicts;
        const auto one = make_tags({tag});
        const auto chosen = policy->select(one, &verdicts);
        ASSERT_EQ(verdicts.size(), 1U);
        EXPECT_EQ(verdicts[0].reason, expected);
        EXPECT_EQ(chosen.has_value(), v && c.check(*v));
        if (chosen) {
          EXPECT_EQ(chosen->value, v->original);
        }
      }
    }
  }
}

} // namespace
} // namespace common::policy

namespace common::policy {
namespace {

TEST(Policy, CandidatesAreTheTagsPastTheFilters) {
  Options o;
  o.strategy = Strategy::newest_build;
  o.ignore_tags = {"*-dev"};
  o.allow_tags = "regexp:^[0-9a-z]";
  const auto policy = Policy::compile(o);
  ASSERT_TRUE(policy.has_value());
  const std::vector<Tag> tags = {{"1.0.0", {}}, {"sha256-x.sig", {}}, {"1.0.0-dev", {}},
                                 {"foo", {}},   {"_bar", {}},         {"main-1", {}}};
  EXPECT_EQ(policy->candidates(tags), (std::vector<std::size_t>{0, 3, 5}));
}

} // namespace
} // namespace common::policy
