#include <filesystem>

#include <gtest/gtest.h>

#include "common/gitsource/gitsource.hpp"

namespace common::gitsource {
namespace {

using util::ErrorKind;

TEST(GitRequest, NormalizesPaths) {
  struct Case {
    std::string in, want;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {".", ""},
      {"./", ""},
      {"apps/web", "apps/web"},
      {"./apps/web/", "apps/web"},
      {"apps/web//", "apps/web"},
      {"a", "a"},
      {"a/.b", "a/.b"},
      {"a/b c", "a/b c"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto got = normalize_path(c.in);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, c.want);
  }
  for (const std::string bad :
       {"/apps", "../x", "apps/../x", "apps//web", "apps/./web", "a\nb", "/"}) {
    SCOPED_TRACE(bad);
    auto got = normalize_path(bad);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  }
}

// An Auth from field/value pairs ({"username", "u"}, ...).
Auth auth(std::initializer_list<std::pair<std::string, std::string>> fields) {
  Auth a;
  for (const auto& [field, value] : fields) {
    std::string* slot = field == "username"          ? &a.username
                        : field == "password"        ? &a.password
                        : field == "bearer_token"    ? &a.bearer_token
                        : field == "ssh_private_key" ? &a.ssh_private_key
                        : field == "ssh_passphrase"  ? &a.ssh_passphrase
                        : field == "ssh_known_hosts" ? &a.ssh_known_hosts
                                                     : &a.ca_file;
    *slot = value;
  }
  return a;
}

FetchRequest request(std::string url, Auth auth = {}) {
  FetchRequest r;
  r.url = std::move(url);
  r.auth = std::move(auth);
  return r;
}

TEST(GitRequest, AcceptsConsistentAuth) {
  const std::vector<FetchRequest> ok = {
      request("https://github.com/o/r"),
      request("https://github.com/o/r", auth({{"username", "u"}, {"password", "p"}})),
      request("https://github.com/o/r", auth({{"password", "token-only"}})),
      request("https://github.com/o/r", auth({{"bearer_token", "t"}, {"ca_file", "/x/ca.pem"}})),
      request("http://127.0.0.1:1/auth/r", auth({{"username", "u"}, {"password", "p"}})),
      request("ssh://git@github.com/o/r", auth({{"ssh_private_key", "KEY"},
                                                {"ssh_passphrase", "pp"},
                                                {"ssh_known_hosts", "h k v"}})),
      request("git://127.0.0.1/r"),
  };
  for (const auto& r : ok) {
    SCOPED_TRACE(r.url);
    auto v = validate_request(r);
    EXPECT_TRUE(v.has_value()) << v.error().message;
  }
}

TEST(GitRequest, RefusesInconsistentAuth) {
  struct Case {
    FetchRequest r;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {request("https://h/r", auth({{"username", "u"}, {"password", "p"}, {"bearer_token", "t"}})),
       "one kind"},
      {request("https://h/r", auth({{"bearer_token", "t"}, {"ssh_private_key", "K"}})), "one kind"},
      {request("https://h/r", auth({{"username", "u"}})), "username without password"},
      {request("https://h/r", auth({{"ssh_passphrase", "pp"}})), "ssh_passphrase without"},
      {request("https://h/r", auth({{"ssh_private_key", "K"}})), "needs an ssh:// URL"},
      {request("ssh://git@h/r", auth({{"password", "p"}})), "not a password or token"},
      {request("ssh://git@h/r", auth({{"ssh_known_hosts", "h k v"}})), "needs ssh_private_key"},
      {request("ssh://git@h/r", auth({{"ssh_private_key", "K"}, {"ssh_known_hosts", " \n"}})),
       "needs ssh_known_hosts"},
      {request("git://127.0.0.1/r", auth({{"username", "u"}, {"password", "p"}})), "git:// has no"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in_message);
    auto v = validate_request(c.r);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(v.error().message.find(c.in_message), std::string::npos) << v.error().message;
    for (const std::string secret : {"p", "t", "K", "pp"}) {
      EXPECT_EQ(v.error().message.find("\"" + secret + "\""), std::string::npos);
    }
  }
}

TEST(GitRequest, RefusesBadRefsPathsAndLimits) {
  FetchRequest r = request("https://h/r");
  r.ref.commit = "abc";
  EXPECT_EQ(validate_request(r).error().kind, ErrorKind::invalid_input);
  r = request("https://h/r");
  r.path = "../etc";
  EXPECT_EQ(validate_request(r).error().kind, ErrorKind::invalid_input);
  r = request("https://h/r");
  r.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(validate_request(r).error().kind, ErrorKind::invalid_input);
  r = request("https://h/r");
  r.max_files = 0;
  EXPECT_EQ(validate_request(r).error().kind, ErrorKind::invalid_input);
  r = request("file:///etc");
  EXPECT_EQ(validate_request(r).error().kind, ErrorKind::invalid_input);
}

TEST(GitRequest, FetchFailsFastOnInvalidInputWithoutTouchingTheCache) {
  std::string dir = ::testing::TempDir() + "gitsource-request-test-never-created";
  GitSource source(dir);
  auto got = source.fetch(request("http://github.com/o/r"));
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

} // namespace
} // namespace common::gitsource
