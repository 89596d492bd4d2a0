#include <gtest/gtest.h>

#include "common/gitsource/remote_url.hpp"

namespace common::gitsource {
namespace {

using util::ErrorKind;

TEST(GitRemoteUrl, ParsesAllowedUrls) {
  struct Case {
    std::string text;
    RemoteUrl want;
    std::string canonical;
  };
  const std::vector<Case> cases = {
      {"https://github.com/org/repo.git",
       {Scheme::https, "", "github.com", 443, "/org/repo.git"},
       "https://github.com/org/repo.git"},
      {"HTTPS://GitLab.Example.COM:8443/g/r",
       {Scheme::https, "", "gitlab.example.com", 8443, "/g/r"},
       "https://gitlab.example.com:8443/g/r"},
      {"https://host.example:443/r",
       {Scheme::https, "", "host.example", 443, "/r"},
       "https://host.example/r"},
      {"ssh://git@github.com/org/repo.git",
       {Scheme::ssh, "git", "github.com", 22, "/org/repo.git"},
       "ssh://git@github.com/org/repo.git"},
      {"ssh://host:2222/srv/r.git",
       {Scheme::ssh, "", "host", 2222, "/srv/r.git"},
       "ssh://host:2222/srv/r.git"},
      {"git+ssh://u@[::1]:2222/r", {Scheme::ssh, "u", "::1", 2222, "/r"}, "ssh://u@[::1]:2222/r"},
      {"http://127.0.0.1:8080/git/deploy.git",
       {Scheme::http, "", "127.0.0.1", 8080, "/git/deploy.git"},
       "http://127.0.0.1:8080/git/deploy.git"},
      {"http://localhost/r", {Scheme::http, "", "localhost", 80, "/r"}, "http://localhost/r"},
      {"git://127.0.0.1:9418/deploy.git",
       {Scheme::git, "", "127.0.0.1", 9418, "/deploy.git"},
       "git://127.0.0.1/deploy.git"},
      {"git://[::1]:1234/d.git",
       {Scheme::git, "", "::1", 1234, "/d.git"},
       "git://[::1]:1234/d.git"},
      {"https://example.com./r",
       {Scheme::https, "", "example.com", 443, "/r"},
       "https://example.com/r"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto got = parse_remote_url(c.text);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, c.want);
    EXPECT_EQ(canonical_url(*got), c.canonical);
    auto again = parse_remote_url(canonical_url(*got));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *got);
  }
}

TEST(GitRemoteUrl, RefusesWhatThePolicyForbids) {
  struct Case {
    std::string text;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {"/srv/git/repo.git", "not an absolute URL"},
      {"git@github.com:org/repo.git", "scp-like"},
      {"file:///srv/git/repo.git", "unsupported scheme"},
      {"ftp://host/r", "unsupported scheme"},
      {"http://github.com/org/repo.git", "loopback hosts only"},
      {"git://github.com/org/repo.git", "loopback hosts only"},
      {"http://10.0.0.1/r", "loopback hosts only"},
      {"https://user:secret@github.com/org/repo.git", "credentials in the URL"},
      {"https://token@github.com/org/repo.git", "credentials in the URL"},
      {"ssh://git:pw@github.com/r", "never a password"},
      {"https://github.com", "no repository path"},
      {"https://github.com/", "no repository path"},
      {"https://github.com/r?x=1", "query or fragment"},
      {"https://github.com/r#main", "query or fragment"},
      {"https://github.com:0/r", "port"},
      {"https://github.com:65536/r", "port"},
      {"https://github.com:/r", "empty port"},
      {"https://git hub.com/r", "white space"},
      {"https://github.com/a\tb", "white space"},
      {"https://caf\xc3\xa9.example/r", "non-ASCII"},
      {"https://[::1/r", "unterminated"},
      {"https://ex$ample.com/r", "malformed host"},
      {"https:///r", "malformed host"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto got = parse_remote_url(c.text);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(got.error().message.find(c.in_message), std::string::npos) << got.error().message;
  }
}

TEST(GitRemoteUrl, MessagesNeverCarryTheUrlsCredentials) {
  auto got = parse_remote_url("https://user:hunter2@github.com/org/repo.git");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message.find("hunter2"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("https://***@github.com/org/repo.git"), std::string::npos)
      << got.error().message;
  EXPECT_EQ(redact_url_text("ftp://a:b@h/p"), "ftp://***@h/p");
  EXPECT_EQ(redact_url_text("https://h/p@x"), "https://h/p@x");
  EXPECT_EQ(redact_url_text("no url"), "no url");
}

TEST(GitRemoteUrl, LoopbackHosts) {
  for (const char* h : {"localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.255.0.9", "::1",
                        "[::1]", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_host(h)) << h;
  }
  for (const char* h : {"", "localhost.example", "128.0.0.1", "127.0.0", "127.0.0.1.5",
                        "127.0.0.256", "::2", "::ffff:10.0.0.1", "example.com", "1277.0.0.1"}) {
    EXPECT_FALSE(is_loopback_host(h)) << h;
  }
}

TEST(GitRemoteUrl, OriginAlwaysHasThePort) {
  EXPECT_EQ(origin(*parse_remote_url("https://github.com/o/r")), "https://github.com:443");
  EXPECT_EQ(origin(*parse_remote_url("ssh://git@[::1]/r")), "ssh://[::1]:22");
  EXPECT_EQ(origin(*parse_remote_url("http://127.0.0.1:81/a")),
            origin(*parse_remote_url("http://127.0.0.1:81/b")));
}

TEST(GitRemoteUrl, MirrorNamesAreHashesOfTheCanonicalUrl) {
  auto a = *parse_remote_url("https://github.com/org/repo.git");
  auto b = *parse_remote_url("HTTPS://GITHUB.COM:443/org/repo.git");
  auto c = *parse_remote_url("https://github.com/org/repo");
  std::string name = mirror_name(a);
  EXPECT_EQ(name.size(), 64u + 4u);
  EXPECT_TRUE(name.ends_with(".git"));
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef"), 64u);
  EXPECT_EQ(mirror_name(b), name);
  EXPECT_NE(mirror_name(c), name);
  EXPECT_EQ(name.find("github"), std::string::npos);
  // SHA-256 of "https://github.com/org/repo.git"
  EXPECT_EQ(name, "deb25368bca228d9b3ede50e41a7b2143b19097eb232c8e7ec655b089b1d70ae.git");
}

} // namespace
} // namespace common::gitsource
