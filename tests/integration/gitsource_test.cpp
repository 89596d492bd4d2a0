// common::gitsource against the harness's git servers: what a fetch returns for each kind of ref
// and transport, and how each kind of failure is reported.
#include <atomic>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/integration/gitsource_support.hpp"

namespace it {
namespace {

using common::gitsource::GitSource;
using common::gitsource::Snapshot;
using common::util::ErrorKind;
using test_support::contains;

std::string base64(const std::string& in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    n |= i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) << 8 : 0;
    n |= i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0;
    out += k[(n >> 18) & 63];
    out += k[(n >> 12) & 63];
    out += i + 1 < in.size() ? k[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? k[n & 63] : '=';
  }
  return out;
}

class GitFetch : public GitSourceTest {
protected:
  std::string daemon() const { return env("GIT_DAEMON_URL") + "/deploy.git"; }
  std::string http() const { return env("GIT_HTTP_URL") + "/deploy.git"; }
  std::string http_auth() const { return env("GIT_HTTP_AUTH_URL") + "/deploy.git"; }
  std::string https() const { return env("GIT_HTTPS_URL") + "/deploy.git"; }

  // The checks every snapshot of main's apps/web passes.
  void expect_main_web(const Snapshot& snap) {
    EXPECT_EQ(snap.commit, expected("GIT_DEPLOY_MAIN_COMMIT"));
    EXPECT_EQ(snap.revision, "main@sha1:" + expected("GIT_DEPLOY_MAIN_COMMIT"));
    EXPECT_EQ(paths(snap),
              (std::vector<std::string>{"deployment.yaml", "kustomization.yaml", "render.sh"}));
    if (const auto* f = file(snap, "deployment.yaml")) {
      EXPECT_TRUE(contains(f->content, "image: 127.0.0.1:5000/demo/web:1.2.3 # "
                                       "{\"$imagepolicy\": \"demo:web\"}"))
          << f->content;
      EXPECT_FALSE(f->executable);
    }
    if (const auto* f = file(snap, "render.sh")) {
      EXPECT_TRUE(f->executable);
      EXPECT_EQ(f->content, "#!/bin/sh\necho rendering web\n");
    }
    EXPECT_TRUE(has_warning(snap, "skipped symlink \"current.yaml\"")) << snap.warnings.size();
    EXPECT_TRUE(has_warning(snap, "skipped submodule \"vendor\""));
  }
};

TEST_F(GitFetch, GitDaemonDefaultBranchSubdirectory) {
  GitSource source(m_cache->path());
  auto r = request(daemon());
  r.path = "apps/web";
  auto snap = source.fetch(r);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  expect_main_web(*snap);
}

TEST_F(GitFetch, AKnownRevisionIsNotReadAgain) {
  GitSource source(m_cache->path());
  auto r = request(daemon());
  r.path = "apps/web";
  auto first = source.fetch(r);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_FALSE(first->unchanged);
  r.known_revision = first->revision;
  auto again = source.fetch(r);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(again->unchanged);
  EXPECT_TRUE(again->files.empty());
  EXPECT_EQ(again->revision, first->revision);
  r.known_revision = "main@sha1:" + std::string(40, '0'); // another revision: read
  auto other = source.fetch(r);
  ASSERT_TRUE(other.has_value()) << other.error().message;
  EXPECT_FALSE(other->unchanged);
  EXPECT_EQ(other->files, first->files);
}

TEST_F(GitFetch, AnonymousHttpRootOfABranch) {
  GitSource source(m_cache->path());
  auto r = request(http());
  r.ref.branch = "release";
  auto snap = source.fetch(r);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(snap->revision, "release@sha1:" + expected("GIT_DEPLOY_RELEASE_COMMIT"));
  EXPECT_EQ(paths(*snap),
            (std::vector<std::string>{"README.md", "apps/web/deployment.yaml",
                                      "apps/web/kustomization.yaml", "apps/web/render.sh",
                                      "apps/worker/deployment.yaml"}));
  if (const auto* f = file(*snap, "apps/web/deployment.yaml")) {
    EXPECT_TRUE(contains(f->content, "demo/web:1.2.0")) << f->content;
  }
}

TEST_F(GitFetch, TagsSemverNamesAndCommits) {
  GitSource source(m_cache->path());
  const std::string c1 = expected("GIT_DEPLOY_V1_0_0_COMMIT");
  const std::string c2 = expected("GIT_DEPLOY_MAIN_COMMIT");
  struct Case {
    const char* what;
    common::gitsource::Ref ref;
    std::string revision;
  };
  auto ref = [](auto set) {
    common::gitsource::Ref r;
    set(r);
    return r;
  };
  const std::vector<Case> cases = {
      {"annotated tag, peeled", ref([](auto& r) { r.tag = "v1.0.0"; }), "v1.0.0@sha1:" + c1},
      {"lightweight tag", ref([](auto& r) { r.tag = "v1.1.0"; }), "v1.1.0@sha1:" + c2},
      {"semver", ref([](auto& r) { r.semver = ">=1.0.0"; }),
       expected("GIT_DEPLOY_HIGHEST_SEMVER_TAG") + "@sha1:" + c2},
      {"semver 1.0.x", ref([](auto& r) { r.semver = "1.0.x"; }), "v1.0.0@sha1:" + c1},
      {"name", ref([](auto& r) { r.name = "refs/heads/release"; }),
       "refs/heads/release@sha1:" + c1},
      {"commit alone", ref([&](auto& r) { r.commit = c1; }), "sha1:" + c1},
      {"commit on its branch", ref([&](auto& r) {
         r.commit = c1;
         r.branch = "main";
       }),
       "main@sha1:" + c1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = request(daemon());
    r.ref = c.ref;
    r.path = "apps/web";
    auto snap = source.fetch(r);
    ASSERT_TRUE(snap.has_value()) << snap.error().message;
    EXPECT_EQ(snap->revision, c.revision);
  }
}

TEST_F(GitFetch, IgnoredRefFieldsAreWarnedAbout) {
  GitSource source(m_cache->path());
  auto r = request(daemon());
  r.ref.tag = "v1.0.0";
  r.ref.branch = "main";
  auto snap = source.fetch(r);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(snap->commit, expected("GIT_DEPLOY_V1_0_0_COMMIT"));
  EXPECT_TRUE(has_warning(*snap, "ref.branch ignored"));
}

TEST_F(GitFetch, BasicAuth) {
  GitSource source(m_cache->path());
  auto r = request(http_auth());
  r.path = "apps/web";
  r.auth.username = env("GIT_USER");
  r.auth.password = env("GIT_PASSWORD");
  auto snap = source.fetch(r);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  expect_main_web(*snap);
}

TEST_F(GitFetch, WrongPasswordFailsQuicklyWithoutLooping) {
  GitSource source(m_cache->path());
  const std::string wrong = "not-the-password-" + std::to_string(::getpid());
  auto r = request(http_auth());
  r.auth.username = env("GIT_USER");
  r.auth.password = wrong;
  auto start = std::chrono::steady_clock::now();
  auto snap = source.fetch(r);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::auth) << snap.error().message;
  EXPECT_TRUE(contains(snap.error().message, "rejected the credentials")) << snap.error().message;
  EXPECT_TRUE(contains(snap.error().message, http_auth())) << snap.error().message;
  EXPECT_FALSE(contains(snap.error().message, wrong)) << snap.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));
  // The wrong credentials went out once: libgit2 would ask again after every 401. lighttpd
  // writes its access log with a delay, so wait for the line.
  const std::string header = "authorization=\"Basic " + base64(env("GIT_USER") + ":" + wrong);
  int sent = 0;
  for (int i = 0; i < 50 && sent == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sent = 0;
    for (const auto& line : read_lines(env("GIT_HTTP_LOG"))) {
      sent += contains(line, header) ? 1 : 0;
    }
  }
  EXPECT_EQ(sent, 1);
}

TEST_F(GitFetch, MissingCredentialsAreAnAuthError) {
  GitSource source(m_cache->path());
  auto snap = source.fetch(request(http_auth()));
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::auth) << snap.error().message;
  EXPECT_TRUE(contains(snap.error().message, "requires authentication")) << snap.error().message;
}

TEST_F(GitFetch, HttpsWithTheCa) {
  GitSource source(m_cache->path());
  for (const std::string& url : {https(), env("GIT_HTTPS_AUTH_URL") + "/deploy.git"}) {
    SCOPED_TRACE(url);
    auto r = request(url);
    r.path = "apps/web";
    r.auth.ca_file = env("GIT_CA");
    if (contains(url, "/auth/")) {
      r.auth.username = env("GIT_USER");
      r.auth.password = env("GIT_PASSWORD");
    }
    auto snap = source.fetch(r);
    ASSERT_TRUE(snap.has_value()) << snap.error().message;
    expect_main_web(*snap);
  }
}

TEST_F(GitFetch, HttpsToAnIpAddressMatchesTheIpSan) {
  // mbedTLS inside libgit2 1.5 cannot match IP SANs; the per-request CA check (OpenSSL) can
  GitSource source(m_cache->path());
  std::string url = https();
  url.replace(url.find("localhost"), 9, "127.0.0.1");
  auto r = request(url);
  r.auth.ca_file = env("GIT_CA");
  auto snap = source.fetch(r);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(snap->commit, expected("GIT_DEPLOY_MAIN_COMMIT"));
}

TEST_F(GitFetch, HttpsWithoutTheCaOrWithAnotherIsNotTrusted) {
  GitSource source(m_cache->path());
  for (const std::string& ca : {std::string(), env("TLS_OTHER_CA")}) {
    SCOPED_TRACE(ca);
    auto r = request(https());
    r.auth.ca_file = ca;
    auto snap = source.fetch(r);
    ASSERT_FALSE(snap.has_value());
    EXPECT_EQ(snap.error().kind, ErrorKind::auth) << snap.error().message;
    EXPECT_TRUE(contains(snap.error().message, "TLS certificate of localhost not trusted"))
        << snap.error().message;
  }
  auto r = request(https());
  r.auth.ca_file = m_cache->path() + "/no-such-ca.pem";
  auto snap = source.fetch(r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::invalid_input) << snap.error().message;
}

TEST_F(GitFetch, BearerToken) {
  GitSource source(m_cache->path());
  for (const std::string& base : {env("GIT_HTTPS_BEARER_URL"), env("GIT_HTTP_BEARER_URL")}) {
    SCOPED_TRACE(base);
    auto r = request(base + "/deploy.git");
    r.auth.bearer_token = env("GIT_BEARER_TOKEN");
    r.auth.ca_file = env("GIT_CA");
    auto snap = source.fetch(r);
    ASSERT_TRUE(snap.has_value()) << snap.error().message;
    EXPECT_EQ(snap->commit, expected("GIT_DEPLOY_MAIN_COMMIT"));

    r.auth.bearer_token = "wrong-token-" + std::to_string(::getpid());
    auto denied = source.fetch(r);
    ASSERT_FALSE(denied.has_value());
    EXPECT_EQ(denied.error().kind, ErrorKind::auth) << denied.error().message;
    EXPECT_FALSE(contains(denied.error().message, r.auth.bearer_token));
  }
}

TEST_F(GitFetch, CredentialsFollowRedirectsOnlyWithinTheOrigin) {
  GitSource source(m_cache->path());
  auto r = request(env("GIT_HTTP_MOVED_URL") + "/deploy.git");
  r.auth.username = env("GIT_USER");
  r.auth.password = env("GIT_PASSWORD");
  auto moved = source.fetch(r);
  ASSERT_TRUE(moved.has_value()) << moved.error().message;
  EXPECT_EQ(moved->commit, expected("GIT_DEPLOY_MAIN_COMMIT"));

  r.url = env("GIT_HTTP_ELSEWHERE_URL") + "/deploy.git";
  auto elsewhere = source.fetch(r);
  ASSERT_FALSE(elsewhere.has_value());
  EXPECT_EQ(elsewhere.error().kind, ErrorKind::auth) << elsewhere.error().message;
  EXPECT_TRUE(contains(elsewhere.error().message, "another origin")) << elsewhere.error().message;

  // a bearer header is sent on every request: libgit2 still follows a redirect on the same
  // host (the header stays there), and refuses one to another host
  auto b = request(env("GIT_HTTP_MOVED_URL") + "/deploy.git");
  b.auth.bearer_token = env("GIT_BEARER_TOKEN");
  auto same_host = source.fetch(b);
  ASSERT_FALSE(same_host.has_value()); // /auth/ wants basic auth
  EXPECT_EQ(same_host.error().kind, ErrorKind::auth) << same_host.error().message;
  b.url = env("GIT_HTTP_ELSEWHERE_URL") + "/deploy.git";
  auto other_host = source.fetch(b);
  ASSERT_FALSE(other_host.has_value());
  EXPECT_EQ(other_host.error().kind, ErrorKind::invalid_input) << other_host.error().message;
  EXPECT_TRUE(contains(other_host.error().message, "redirect")) << other_host.error().message;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // lighttpd's log delay
  // the redirect's target: /auth/ on localhost and the http port (other tests legitimately send
  // bearer tokens to https://localhost:S/bearer/, which logs to the same file)
  const std::string http_base = env("GIT_HTTP_URL");
  const std::string target =
      "host=localhost:" +
      http_base.substr(http_base.rfind(':') + 1, http_base.rfind('/') - http_base.rfind(':') - 1);
  for (const auto& line : read_lines(env("GIT_HTTP_LOG"))) {
    EXPECT_FALSE(contains(line, target + " ") && contains(line, "Bearer")) << line;
  }
}

TEST_F(GitFetch, MissingThingsAreNotFound) {
  GitSource source(m_cache->path());
  struct Case {
    const char* what;
    std::string url;
    std::string branch, path;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {"branch", daemon(), "no-such-branch", "", "branch \"no-such-branch\" not found"},
      {"path", daemon(), "", "apps/nope", "path \"apps/nope\" not found"},
      {"path is a file", http(), "", "README.md", "is not a directory"},
      {"repository (daemon)", env("GIT_DAEMON_URL") + "/nope.git", "", "", "nope.git"},
      {"repository (http)", env("GIT_HTTP_URL") + "/nope.git", "", "", "404"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = request(c.url);
    r.ref.branch = c.branch;
    r.path = c.path;
    auto snap = source.fetch(r);
    ASSERT_FALSE(snap.has_value());
    EXPECT_EQ(snap.error().kind, ErrorKind::not_found) << snap.error().message;
    EXPECT_TRUE(contains(snap.error().message, c.in_message)) << snap.error().message;
  }
  auto r = request(daemon());
  r.ref.commit = expected("GIT_DEPLOY_MAIN_COMMIT");
  r.ref.branch = "release"; // main's tip is not on release
  auto snap = source.fetch(r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::not_found) << snap.error().message;
  EXPECT_TRUE(contains(snap.error().message, "is not on branch \"release\""))
      << snap.error().message;
  r.ref.branch.clear();
  r.ref.commit = std::string(40, 'e');
  snap = source.fetch(r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::not_found) << snap.error().message;
}

// A port nobody listens on: bound and closed again by us.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST_F(GitFetch, UnreachableServerIsTransientWithinTheTimeout) {
  GitSource source(m_cache->path());
  int port = closed_port();
  for (const std::string& url : {"git://127.0.0.1:" + std::to_string(port) + "/deploy.git",
                                 "https://localhost:" + std::to_string(port) + "/git/deploy.git"}) {
    SCOPED_TRACE(url);
    auto r = request(url);
    r.timeout = std::chrono::seconds(5);
    auto start = std::chrono::steady_clock::now();
    auto snap = source.fetch(r);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(snap.has_value());
    EXPECT_EQ(snap.error().kind, ErrorKind::transient) << snap.error().message;
    EXPECT_TRUE(contains(snap.error().message, url)) << snap.error().message;
    EXPECT_LT(took, r.timeout);
  }
}

// A server that accepts connections and then says nothing (issue 13: libgit2 1.5 has no socket
// timeout, and such a server held a worker 150 s per try). Each transport's socket is cut at the
// fetch's deadline.
TEST_F(GitFetch, SilentServerIsTransientWithinTheTimeout) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string port = std::to_string(ntohs(a.sin_port));
  std::atomic<bool> done{false};
  std::vector<int> held;
  std::thread acceptor([&] {
    while (!done) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 100) == 1) {
        held.push_back(::accept(listener, nullptr, nullptr)); // and never answer
      }
    }
  });
  GitSource source(m_cache->path());
  for (const std::string& url :
       {"git://127.0.0.1:" + port + "/deploy.git", "http://127.0.0.1:" + port + "/git/deploy.git",
        "https://localhost:" + port + "/git/deploy.git"}) {
    SCOPED_TRACE(url);
    auto r = request(url);
    r.timeout = std::chrono::seconds(2);
    auto start = std::chrono::steady_clock::now();
    auto snap = source.fetch(r);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(snap.has_value());
    EXPECT_EQ(snap.error().kind, ErrorKind::transient) << snap.error().message;
    EXPECT_TRUE(contains(snap.error().message, "timed out")) << snap.error().message;
    EXPECT_LT(took, std::chrono::seconds(20)) << "bounded by the deadline, not by the OS";
  }
  done = true;
  acceptor.join();
  for (int fd : held) {
    ::close(fd);
  }
  ::close(listener);
}

TEST_F(GitFetch, LimitsAreTooLarge) {
  GitSource source(m_cache->path());
  auto r = request(daemon());
  r.max_files = 2;
  auto snap = source.fetch(r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::too_large) << snap.error().message;
  EXPECT_TRUE(contains(snap.error().message, "max_files (2)")) << snap.error().message;
  r.max_files = 20000;
  r.max_bytes = 100;
  snap = source.fetch(r);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().kind, ErrorKind::too_large) << snap.error().message;
  EXPECT_TRUE(contains(snap.error().message, "max_bytes (100)")) << snap.error().message;
}

} // namespace
} // namespace it
