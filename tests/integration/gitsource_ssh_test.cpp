// common::gitsource over ssh against the harness's ssh_git_server.py (paramiko): key formats,
// passphrases, rejected keys, and host keys checked against known_hosts.
#include <chrono>

#include <gtest/gtest.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "tests/integration/gitsource_support.hpp"

namespace it {
namespace {

using common::gitsource::GitSource;
using common::util::ErrorKind;
using test_support::contains;

// Debian's libgit2 1.5 leaks a few small buffers and libssh2's known-hosts list inside every ssh
// connect (git_remote_connect_ext): not ours to free. LeakSanitizer is told to ignore what is
// allocated during these fetches only (its stacks through the uninstrumented libgit2 are too short
// for a suppression to match); every other test still checks our libgit2 handles for leaks.
#if defined(__SANITIZE_ADDRESS__)
struct ThirdPartyLeaks {
  ThirdPartyLeaks() { __lsan_disable(); }
  ~ThirdPartyLeaks() { __lsan_enable(); }
};
#else
struct ThirdPartyLeaks {};
#endif

common::util::Result<common::gitsource::Snapshot>
ssh_fetch(GitSource& source, const common::gitsource::FetchRequest& r) {
  [[maybe_unused]] const ThirdPartyLeaks ignored;
  return source.fetch(r);
}

class GitSsh : public GitSourceTest {
protected:
  common::gitsource::FetchRequest ssh_request(const std::string& key_env) const {
    auto r = request(env("GIT_SSH_URL") + "/deploy.git");
    r.path = "apps/web";
    r.auth.ssh_private_key = read_text(env(key_env));
    r.auth.ssh_known_hosts = read_text(env("GIT_SSH_KNOWN_HOSTS"));
    return r;
  }
};

TEST_F(GitSsh, FetchesWithEachKeyFormat) {
  GitSource source(m_cache->path());
  for (const char* key : {"GIT_SSH_KEY", "GIT_SSH_KEY_RSA", "GIT_SSH_KEY_ENCRYPTED"}) {
    SCOPED_TRACE(key);
    auto r = ssh_request(key);
    if (std::string(key) == "GIT_SSH_KEY_ENCRYPTED") {
      r.auth.ssh_passphrase = env("GIT_SSH_PASSPHRASE");
    }
    auto snap = ssh_fetch(source, r);
    ASSERT_TRUE(snap.has_value()) << snap.error().message;
    EXPECT_EQ(snap->revision, "main@sha1:" + expected("GIT_DEPLOY_MAIN_COMMIT"));
    EXPECT_EQ(paths(*snap),
              (std::vector<std::string>{"deployment.yaml", "kustomization.yaml", "render.sh"}));
  }
}

TEST_F(GitSsh, AnUnauthorizedKeyIsAnAuthErrorWithoutRetries) {
  GitSource source(m_cache->path());
  auto r = ssh_request("GIT_SSH_OTHER_KEY");
  auto start = std::chrono::steady_clock::now();
  auto snap = ssh_fetch(source, r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::auth) << snap.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(contains(snap.error().message, "PRIVATE KEY")) << snap.error().message;
}

TEST_F(GitSsh, AWrongPassphraseIsAnAuthError) {
  GitSource source(m_cache->path());
  auto r = ssh_request("GIT_SSH_KEY_ENCRYPTED");
  r.auth.ssh_passphrase = "not-the-passphrase";
  auto snap = ssh_fetch(source, r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::auth) << snap.error().message;
  EXPECT_FALSE(contains(snap.error().message, "not-the-passphrase")) << snap.error().message;
}

TEST_F(GitSsh, AMissingRepositoryIsNotFound) {
  GitSource source(m_cache->path());
  auto r = ssh_request("GIT_SSH_KEY");
  r.url = env("GIT_SSH_URL") + "/nope.git";
  auto snap = ssh_fetch(source, r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::not_found) << snap.error().message;
}

TEST_F(GitSsh, HostKeysAreNeverTrustedOnFirstUse) {
  GitSource source(m_cache->path());
  const std::string known = read_text(env("GIT_SSH_KNOWN_HOSTS"));
  const std::string port = env("GIT_SSH_URL").substr(env("GIT_SSH_URL").rfind(':') + 1);
  // the harness's "other" client key, posing as the server's host key
  const std::string other_pub = read_text(env("GIT_SSH_OTHER_KEY") + ".pub");
  struct Case {
    const char* what;
    std::string known_hosts;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {"unknown host", "[127.0.0.1]:1 " + known.substr(known.find(' ') + 1), "is unknown"},
      {"plain host entry, port not 22", "127.0.0.1 " + known.substr(known.find(' ') + 1),
       "is unknown"},
      {"changed key", "[127.0.0.1]:" + port + " " + other_pub, "does not match"},
      {"revoked", "@revoked " + known, "is revoked"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = ssh_request("GIT_SSH_KEY");
    r.auth.ssh_known_hosts = c.known_hosts;
    auto snap = ssh_fetch(source, r);
    ASSERT_FALSE(snap.has_value());
    EXPECT_EQ(snap.error().kind, ErrorKind::auth) << snap.error().message;
    EXPECT_TRUE(contains(snap.error().message, c.in_message)) << snap.error().message;
  }
}

} // namespace
} // namespace it
