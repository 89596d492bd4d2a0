#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/gitsource/known_hosts.hpp"
#include "common/util/strings.hpp"

namespace common::gitsource {
namespace {

using util::ErrorKind;

// ssh wire format of two made-up ed25519 keys and their base64 (as in known_hosts)
const std::string k_key1_b64 =
    "AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
const std::string k_key2_b64 =
    "AAAAC3NzaC1lZDI1NTE5AAAAICAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/";

std::string blob(const std::string& b64) {
  auto out = util::decode_base64(b64);
  EXPECT_TRUE(out);
  return out.value_or("");
}

HostKey key1() {
  return HostKey{blob(k_key1_b64), ""};
}
HostKey key2() {
  return HostKey{blob(k_key2_b64), ""};
}

HostKeyVerdict verdict(const std::string& text, const std::string& host, std::uint16_t port,
                       const HostKey& key) {
  auto v = check_host_key(text, host, port, key);
  EXPECT_TRUE(v.has_value()) << v.error().message;
  return v.value_or(HostKeyVerdict::unknown_host);
}

TEST(GitKnownHosts, KeysAreSshWireFormat) {
  EXPECT_EQ(blob(k_key1_b64).substr(4, 11), "ssh-ed25519");
}

TEST(GitKnownHosts, GlobMatch) {
  struct Case {
    std::string pattern;
    std::string text;
    bool match;
  };
  const std::vector<Case> cases = {
      {"*.example.com", "git.example.com", true},
      {"GIT.example.com", "git.EXAMPLE.com", true},
      {"git?.example.com", "git1.example.com", true},
      {"*", "", true},
      {"a*b*c", "aXXbYYc", true},
      {"*.example.com", "example.com", false},
      {"git?.example.com", "git.example.com", false},
      {"a*b*c", "aXXbYY", false},
      // Only '*' and '?' are special, as in OpenSSH: brackets and backslashes are literal.
      {"[git.example.com]:2222", "[git.example.com]:2222", true},
      {"[*.example.com]:2222", "[git.example.com]:2222", true},
      {"[gh]it.example.com", "git.example.com", false},
      {"a\\*", "a\\b", true},
      {"a\\*", "a*", false},
      {"*", "a/b.c", true},
      // A NUL never matches on a prefix.
      {"git.example.com", std::string("git.example.com\0evil", 20), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(glob_match(c.pattern, c.text), c.match) << c.pattern << " ~ " << c.text;
  }
}

TEST(GitKnownHosts, PlainEntries) {
  const std::string text = "# comment\n"
                           "\n"
                           "github.com,140.82.121.4 ssh-ed25519 " +
                           k_key1_b64 + " comment here\n" + "  [127.0.0.1]:2222 ssh-ed25519 " +
                           k_key2_b64 + "\n";
  EXPECT_EQ(verdict(text, "github.com", 22, key1()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "GitHub.com", 22, key1()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "140.82.121.4", 22, key1()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "github.com", 22, key2()), HostKeyVerdict::mismatch);
  EXPECT_EQ(verdict(text, "gitlab.com", 22, key1()), HostKeyVerdict::unknown_host);
  // a port other than 22 needs a [host]:port entry, as in OpenSSH
  EXPECT_EQ(verdict(text, "github.com", 2222, key1()), HostKeyVerdict::unknown_host);
  EXPECT_EQ(verdict(text, "127.0.0.1", 2222, key2()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "127.0.0.1", 22, key2()), HostKeyVerdict::unknown_host);
}

TEST(GitKnownHosts, SeveralKeysForOneHost) {
  const std::string text = "h ssh-ed25519 " + k_key1_b64 + "\nh ssh-ed25519 " + k_key2_b64 + "\n";
  EXPECT_EQ(verdict(text, "h", 22, key1()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "h", 22, key2()), HostKeyVerdict::trusted);
}

TEST(GitKnownHosts, WildcardsAndNegation) {
  const std::string text = "*.example.com,!evil.example.com ssh-ed25519 " + k_key1_b64 + "\n";
  EXPECT_EQ(verdict(text, "git.example.com", 22, key1()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "evil.example.com", 22, key1()), HostKeyVerdict::unknown_host);
}

TEST(GitKnownHosts, HashedEntries) {
  // ssh-keygen -H style, salt 00 01 .. 13
  const std::string text =
      "|1|AAECAwQFBgcICQoLDA0ODxAREhM=|/vGHEQmgsSrggHW81/s0OAW0mAs= ssh-ed25519 " + k_key1_b64 +
      "\n|1|AAECAwQFBgcICQoLDA0ODxAREhM=|zKYaAqmSav3Qxr2sffNqWFIcbe4= ssh-ed25519 " + k_key2_b64 +
      "\n";
  EXPECT_EQ(verdict(text, "github.com", 22, key1()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "github.com", 22, key2()), HostKeyVerdict::mismatch);
  EXPECT_EQ(verdict(text, "127.0.0.1", 2222, key2()), HostKeyVerdict::trusted);
  EXPECT_EQ(verdict(text, "gitlab.com", 22, key1()), HostKeyVerdict::unknown_host);
}

TEST(GitKnownHosts, RevokedAndCertAuthorityMarkers) {
  const std::string text = "@revoked h ssh-ed25519 " + k_key1_b64 + "\nh ssh-ed25519 " +
                           k_key1_b64 + "\n@cert-authority h ssh-ed25519 " + k_key2_b64 + "\n";
  EXPECT_EQ(verdict(text, "h", 22, key1()), HostKeyVerdict::revoked);
  // a CA line is not a host key: key2 is not trusted by it
  EXPECT_EQ(verdict(text, "h", 22, key2()), HostKeyVerdict::mismatch);
}

TEST(GitKnownHosts, FallsBackToTheSha256) {
  HostKey by_hash;
  by_hash.sha256 = std::string(32, '\0');
  const std::string text = "h ssh-ed25519 " + k_key1_b64 + "\n";
  EXPECT_EQ(verdict(text, "h", 22, by_hash), HostKeyVerdict::mismatch);
  EXPECT_EQ(verdict(text, "h", 22, HostKey{}), HostKeyVerdict::mismatch);
}

TEST(GitKnownHosts, UnusableTextIsAConfigurationError) {
  const std::vector<std::string> texts = {"", "# only a comment\n", "h ssh-ed25519\n",
                                          "h ssh-ed25519 ***\n",
                                          "@cert-authority h ssh-ed25519 " + k_key1_b64};
  for (const auto& text : texts) {
    SCOPED_TRACE(text);
    auto v = check_host_key(text, "h", 22, key1());
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().kind, ErrorKind::invalid_input);
  }
  // one bad line among good ones is skipped, as OpenSSH does
  auto v = check_host_key("garbage\nh ssh-ed25519 " + k_key1_b64 + "\n", "h", 22, key1());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, HostKeyVerdict::trusted);
}

} // namespace
} // namespace common::gitsource
