#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/registry/auth.hpp"
#include "common/util/clock.hpp"

namespace common::registry {
namespace {

struct Parsed {
  std::string header;
  std::vector<Challenge> want;
};

const Parsed k_challenges[] = {
    {R"(Basic realm="test-realm")", {{"basic", {{"realm", "test-realm"}}}}},
    {R"(Bearer realm="http://127.0.0.1:5180/token",service="test-registry",scope="repository:app:pull")",
     {{"bearer",
       {{"realm", "http://127.0.0.1:5180/token"},
        {"service", "test-registry"},
        {"scope", "repository:app:pull"}}}}},
    // Several challenges in one header, spaces around '=' and ',', token values, case.
    {R"(Basic realm="a b", BEARER Realm = "https://auth.example/token" , service=registry.example)",
     {{"basic", {{"realm", "a b"}}},
      {"bearer", {{"realm", "https://auth.example/token"}, {"service", "registry.example"}}}}},
    // Escapes inside quoted strings; a comma inside quotes is not a separator.
    {R"(Bearer realm="https://x/t",scope="repository:a:pull,push",error="say \"hi\"\\")",
     {{"bearer",
       {{"realm", "https://x/t"},
        {"scope", "repository:a:pull,push"},
        {"error", "say \"hi\"\\"}}}}},
    {"Negotiate", {{"negotiate", {}}}},
    {"Negotiate abc+/d==, Basic realm=x",
     {{"negotiate", {{"", "abc+/d=="}}}, {"basic", {{"realm", "x"}}}}},
    {"", {}},
    {" , ", {}},
};

TEST(RegistryAuth, ParsesChallenges) {
  for (const Parsed& c : k_challenges) {
    SCOPED_TRACE(c.header);
    auto got = parse_challenges(c.header);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    ASSERT_EQ(got->size(), c.want.size());
    for (std::size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].scheme, c.want[i].scheme);
      EXPECT_EQ((*got)[i].params, c.want[i].params);
    }
  }
}

TEST(RegistryAuth, RejectsBrokenChallenges) {
  for (const char* header : {R"(Bearer realm="unterminated)", R"(Bearer realm="x\)", "=x"}) {
    SCOPED_TRACE(header);
    auto got = parse_challenges(header);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(got.error().message.find("WWW-Authenticate"), std::string::npos);
  }
}

struct TokenCase {
  std::string body;
  std::string token; // "" = error
  long long expires;
};

const TokenCase k_tokens[] = {
    {R"({"token":"t1","access_token":"a1","expires_in":300})", "t1", 300},
    {R"({"access_token":"a1"})", "a1", 60},
    {R"({"token":"","access_token":"a1"})", "a1", 60},
    {R"({"token":"t","expires_in":30})", "t", 30},
    {R"({"token":"t","expires_in":-5})", "t", 60},
    {R"({"token":"t","expires_in":"300"})", "t", 60},
    {R"({"token":"t","expires_in":0})", "t", 60},
    {R"({"token":42})", "", 0},
    {R"({})", "", 0},
    {R"([1,2])", "", 0},
    {"<html>secret-ish</html>", "", 0},
    {"", "", 0},
};

TEST(RegistryAuth, ParsesTokenResponses) {
  for (const TokenCase& c : k_tokens) {
    SCOPED_TRACE(c.body);
    auto got = parse_token_response(c.body, "https://auth.example/token");
    if (c.token.empty()) {
      ASSERT_FALSE(got.has_value());
      EXPECT_EQ(got.error().kind, util::ErrorKind::invalid_input);
      EXPECT_NE(got.error().message.find("https://auth.example/token"), std::string::npos);
      EXPECT_EQ(got.error().message.find("secret-ish"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->value, c.token);
    EXPECT_EQ(got->expires_in.count(), c.expires);
  }
}

TEST(RegistryAuth, BasicAuthorization) {
  EXPECT_EQ(basic_authorization({"alice", "s3cret"}), "Basic YWxpY2U6czNjcmV0");
  // Long credentials stay on one line (no MIME line breaks).
  const std::string header = basic_authorization({std::string(100, 'u'), std::string(100, 'p')});
  EXPECT_EQ(header.find('\n'), std::string::npos);
  EXPECT_EQ(header.find('\r'), std::string::npos);
}

TEST(RegistryAuth, TokenCacheExpiresBeforeTheToken) {
  util::FakeClock clock;
  TokenCache cache(clock);
  cache.store("r", "s", "repository:a:pull", Token{"tok", std::chrono::seconds(300)});
  EXPECT_EQ(cache.find("r", "s", "repository:a:pull").value_or(""), "tok");
  EXPECT_FALSE(cache.find("r", "s", "repository:b:pull").has_value());
  EXPECT_FALSE(cache.find("r2", "s", "repository:a:pull").has_value());
  clock.advance(std::chrono::seconds(289));
  EXPECT_TRUE(cache.find("r", "s", "repository:a:pull").has_value());
  clock.advance(std::chrono::seconds(1)); // 300 - 10 s margin
  EXPECT_FALSE(cache.find("r", "s", "repository:a:pull").has_value());

  // Short lifetimes keep half of it as margin.
  cache.store("r", "s", "x", Token{"short", std::chrono::seconds(10)});
  clock.advance(std::chrono::seconds(4));
  EXPECT_TRUE(cache.find("r", "s", "x").has_value());
  clock.advance(std::chrono::seconds(1));
  EXPECT_FALSE(cache.find("r", "s", "x").has_value());

  cache.store("r", "s", "y", Token{"t", std::chrono::seconds(60)});
  cache.erase("r", "s", "y");
  EXPECT_FALSE(cache.find("r", "s", "y").has_value());
}

} // namespace
} // namespace common::registry
