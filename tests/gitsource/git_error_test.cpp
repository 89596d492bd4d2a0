#include <git2.h>
#include <gtest/gtest.h>

#include "common/gitsource/git.hpp"

namespace common::gitsource::detail {
namespace {

using util::ErrorKind;

TEST(GitErrors, ClassifiesLibgit2Failures) {
  struct Case {
    GitFailure failure;
    ErrorKind want;
  };
  const std::vector<Case> cases = {
      {{GIT_EAUTH, GIT_ERROR_HTTP, "authentication required"}, ErrorKind::auth},
      {{GIT_ECERTIFICATE, GIT_ERROR_SSL, "the SSL certificate is invalid"}, ErrorKind::auth},
      {{GIT_ENOTFOUND, GIT_ERROR_REFERENCE, "reference not found"}, ErrorKind::not_found},
      {{-1, GIT_ERROR_HTTP, "unexpected http status code: 401"}, ErrorKind::auth},
      {{-1, GIT_ERROR_HTTP, "unexpected http status code: 403"}, ErrorKind::auth},
      {{-1, GIT_ERROR_HTTP, "unexpected http status code: 404"}, ErrorKind::not_found},
      {{-1, GIT_ERROR_HTTP, "unexpected http status code: 502"}, ErrorKind::transient},
      {{-1, GIT_ERROR_NET, "remote error: no such repository: /nope.git"}, ErrorKind::not_found},
      {{-1, GIT_ERROR_NET, "remote error: access denied or repository not exported"},
       ErrorKind::auth},
      {{-1, GIT_ERROR_NET, "early EOF"}, ErrorKind::transient},
      {{-1, GIT_ERROR_HTTP, "cannot redirect from '127.0.0.1' to 'localhost'"},
       ErrorKind::invalid_input},
      {{-1, GIT_ERROR_OS, "failed to connect to 127.0.0.1: Connection refused"},
       ErrorKind::transient},
      {{-1, GIT_ERROR_SSL, "SSL error: handshake failed"}, ErrorKind::transient},
      {{-1, GIT_ERROR_SSL, "the SSL certificate is invalid"}, ErrorKind::auth},
      {{-1, GIT_ERROR_SSH, "Failed to authenticate SSH session: Unable to open public key"},
       ErrorKind::auth},
      {{-1, GIT_ERROR_SSH, "Failed to start SSH session: Unable to exchange encryption keys"},
       ErrorKind::transient},
      {{-1, GIT_ERROR_SSH, "ERROR: Repository not found."}, ErrorKind::not_found},
      {{-1, GIT_ERROR_SSH, "fatal: '/x.git' does not appear to be a git repository"},
       ErrorKind::not_found},
      {{-1, GIT_ERROR_SSH, "Failed to authenticate SSH session: Error parsing PEM"},
       ErrorKind::auth},
      {{-1, GIT_ERROR_ODB, "object not found - no match for id"}, ErrorKind::internal},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.failure.message);
    EXPECT_EQ(classify(c.failure), c.want);
  }
}

TEST(GitErrors, MessagesNameTheUrlAndHideSecrets) {
  GitFailure f{-1, GIT_ERROR_HTTP, "server said: bad token s3cr3t-token for user"};
  auto e = to_error(f, "fetching", "https://h/r.git", {"s3cr3t-token", ""});
  EXPECT_EQ(e.kind, ErrorKind::transient);
  EXPECT_EQ(e.message, "fetching https://h/r.git: server said: bad token *** for user");
  EXPECT_EQ(redact("aXaXa", {"a"}), "***X***X***");
  EXPECT_EQ(redact("abc", {}), "abc");
}

TEST(GitErrors, LastFailureReadsAndClearsTheThreadsError) {
  Libgit2 lib;
  ASSERT_TRUE(lib.ok());
  git_error_set_str(GIT_ERROR_NET, "boom");
  auto f = last_failure(-1);
  EXPECT_EQ(f.code, -1);
  EXPECT_EQ(f.klass, GIT_ERROR_NET);
  EXPECT_EQ(f.message, "boom");
  auto again = last_failure(-3);
  EXPECT_EQ(again.message, "libgit2 error -3");
}

} // namespace
} // namespace common::gitsource::detail
