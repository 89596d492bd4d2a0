#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/auth/tokens.hpp"
#include "common/util/sha256.hpp"

namespace common::auth {
namespace {

const std::string k_ci = "ci-token-0123456789abcdef";
const std::string k_dash = "dashboard-token-0123456789";

std::string file_text() {
  return "tokens:\n"
         "  - name: ci\n"
         "    token: " +
         k_ci +
         "\n"
         "    namespaces: [team-a, team-b]\n"
         "    access: write\n"
         "  - name: dashboard\n"
         "    sha256: " +
         util::sha256_hex(k_dash) +
         "\n"
         "    namespaces: [\"*\"]\n"
         "    access: read\n";
}

TEST(TokenAuthenticator, Decisions) {
  auto tokens = TokenAuthenticator::parse(file_text(), "tokens.yaml");
  ASSERT_TRUE(tokens) << tokens.error().message;
  EXPECT_EQ(tokens->size(), 2u);
  using O = Decision::Outcome;
  struct Case {
    std::string header;
    std::string ns;
    bool write;
    O outcome;
    std::string principal;
  };
  const std::vector<Case> cases = {
      {"", "team-a", false, O::unauthenticated, ""},
      {"Basic Y2k6eA==", "team-a", false, O::unauthenticated, ""},
      {"Bearer", "team-a", false, O::unauthenticated, ""},
      {"Bearer nope-nope-nope-nope", "team-a", false, O::unauthenticated, ""},
      {"Bearer " + k_ci, "team-a", true, O::allowed, "ci"},
      {"bearer " + k_ci, "team-b", false, O::allowed, "ci"},
      {"Bearer  " + k_ci + " ", "team-b", false, O::allowed, "ci"},
      {"Bearer " + k_ci, "team-c", false, O::forbidden, "ci"},
      {"Bearer " + k_ci, "", false, O::forbidden, "ci"}, // every namespace needs "*"
      {"Bearer " + k_dash, "anything", false, O::allowed, "dashboard"},
      {"Bearer " + k_dash, "", false, O::allowed, "dashboard"},
      {"Bearer " + k_dash, "team-a", true, O::forbidden, "dashboard"},
  };
  for (const Case& c : cases) {
    const Decision d = tokens->check(c.header, c.ns, c.write);
    EXPECT_EQ(d.outcome, c.outcome) << c.header << " " << c.ns;
    EXPECT_EQ(d.principal, c.principal) << c.header;
    EXPECT_EQ(d.message.find(k_ci), std::string::npos);
    EXPECT_EQ(d.message.find(k_dash), std::string::npos);
  }
}

TEST(TokenAuthenticator, EveryProblemIsReportedWithItsPlaceAndNoSecret) {
  struct Case {
    std::string text;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"", {"t.yaml", "tokens: want a list"}},
      {"tokens: {}", {"t.yaml:1:9: tokens: want a list"}},
      {"tokens: [", {"t.yaml:1:"}},
      {"tokens:\n  - name: a\n    token: tooshort\n    namespaces: [x]\n",
       {"t.yaml:3:12: tokens[0].token: a token must have at least 16 characters"}},
      {"tokens:\n  - name: a\n    sha256: abc\n    namespaces: [x]\n",
       {"t.yaml:3:13: tokens[0].sha256: want 64 hexadecimal digits"}},
      {"tokens:\n  - token: aaaaaaaaaaaaaaaaaaaa\n    namespaces: [Bad_NS]\n    access: root\n    "
       "extra: 1\n",
       {"tokens[0].namespaces[0]: \"Bad_NS\" is neither", "tokens[0].access: \"root\" is not one",
        "unknown field \"extra\"", "tokens[0].name: required"}},
      {"tokens:\n  - name: a\n    namespaces: [x]\n", {"token or sha256 is required"}},
      {"tokens:\n  - name: a\n    token: aaaaaaaaaaaaaaaaaaaa\n    sha256: " +
           std::string(64, 'a') + "\n    namespaces: [x]\n",
       {"give token or sha256, not both"}},
      {"tokens:\n  - name: a\n    token: aaaaaaaaaaaaaaaaaaaa\n",
       {"tokens[0].namespaces: required"}},
      {"tokens:\n  - name: a\n    token: aaaaaaaaaaaaaaaaaaaa\n    namespaces: [x]\n"
       "  - name: a\n    token: bbbbbbbbbbbbbbbbbbbb\n    namespaces: [x]\n",
       {"tokens[1].name: \"a\" is given twice"}},
      {"tokens:\n  - name: a\n    token: aaaaaaaaaaaaaaaaaaaa\n    namespaces: [x]\n"
       "  - name: b\n    token: aaaaaaaaaaaaaaaaaaaa\n    namespaces: [x]\n",
       {"tokens[1]: the same token is given twice (also for \"a\")"}},
  };
  for (const Case& c : cases) {
    auto parsed = TokenAuthenticator::parse(c.text, "t.yaml");
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error().kind, util::ErrorKind::invalid_input);
    for (const std::string& part : c.expected) {
      EXPECT_NE(parsed.error().message.find(part), std::string::npos) << part << "\n"
                                                                      << parsed.error().message;
    }
    EXPECT_EQ(parsed.error().message.find("tooshort"), std::string::npos);
    EXPECT_EQ(parsed.error().message.find("aaaaaaaaaaaaaaaaaaaa"), std::string::npos);
  }
}

TEST(TokenAuthenticator, MissingFileIsNotFound) {
  auto loaded = TokenAuthenticator::load("/nonexistent/tokens.yaml");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind, util::ErrorKind::not_found);
}

TEST(Loopback, Hosts) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"}) {
    EXPECT_TRUE(is_loopback_host(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0", "::", "10.0.0.1", "127.0.0.1.example.com", "1270.0.0.1", ""}) {
    EXPECT_FALSE(is_loopback_host(no)) << no;
  }
}

TEST(BearerToken, SchemeIsCaseInsensitiveAndTheTokenTrimmed) {
  struct Row {
    std::string_view header;
    std::optional<std::string_view> token;
  };
  const Row rows[] = {
      {"Bearer abc", "abc"}, {"bearer  abc ", "abc"},      {"BEARER abc", "abc"},
      {"Bearer  ", ""},      {"Basic dTpw", std::nullopt}, {"Bearer", std::nullopt},
      {"", std::nullopt},    {"Bearerabc", std::nullopt},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(bearer_token(row.header), row.token) << row.header;
  }
}

} // namespace
} // namespace common::auth
