// RegistrySource's sessions: credentials that expire, secret files that rotate, and helpers that
// run without a lock. The registry is a fake HTTP client that asks for Basic auth and records
// what it was sent; the helpers are real scripts run by the process runner.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/cache/disk_cache.hpp"
#include "common/credentials/environment.hpp"
#include "common/credentials/resolver.hpp"
#include "common/http/client.hpp"
#include "common/image/reference.hpp"
#include "common/registry/config.hpp"
#include "common/resolve/registry_source.hpp"
#include "common/util/clock.hpp"

#include "tests/support/process.hpp"

namespace common::resolve {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A registry that wants HTTP Basic: a request without Authorization gets the challenge, one
// with it gets a one-tag list. Every Authorization sent is recorded.
class BasicAuthRegistry final : public http::Client {
public:
  util::Result<http::Response> send(const http::Request& request, const http::Limits&) override {
    const auto auth = http::find_header(request.headers, "Authorization");
    if (!auth) {
      return http::Response{401, {{"WWW-Authenticate", "Basic realm=\"test\""}}, ""};
    }
    {
      const std::lock_guard lock(m_mutex);
      m_sent.emplace_back(*auth);
      if (!m_accepted.empty() && *auth != m_accepted) {
        return http::Response{401, {{"WWW-Authenticate", "Basic realm=\"test\""}}, ""};
      }
    }
    return http::Response{
        200, {{"Content-Type", "application/json"}}, R"({"name":"app","tags":["1.0"]})"};
  }
  // Only this Authorization is let in from now on ("" = any).
  void accept_only(std::string authorization) {
    const std::lock_guard lock(m_mutex);
    m_accepted = std::move(authorization);
  }
  std::size_t sent() const {
    const std::lock_guard lock(m_mutex);
    return m_sent.size();
  }
  std::string last() const {
    const std::lock_guard lock(m_mutex);
    return m_sent.empty() ? std::string() : m_sent.back();
  }

private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_sent;
  std::string m_accepted;
};

// Only environment variables are fake (settable, counted); files and helpers are real.
class TestEnvironment final : public credentials::Environment {
public:
  util::Result<std::string> read_file(const std::string& path, std::size_t max_bytes) override {
    return m_system.read_file(path, max_bytes);
  }
  std::string file_version(const std::string& path) const override {
    return m_system.file_version(path);
  }
  std::optional<std::string> getenv(const std::string&) const override {
    ++lookups;
    const std::lock_guard lock(m_mutex);
    return value;
  }
  util::Result<std::string> run_script(const std::string& path,
                                       const credentials::ScriptLimits& limits) override {
    return m_system.run_script(path, limits);
  }
  void set(std::string v) {
    const std::lock_guard lock(m_mutex);
    value = std::move(v);
  }
  mutable std::atomic<int> lookups{0};

private:
  mutable std::mutex m_mutex;
  std::string value;
  credentials::SystemEnvironment m_system;
};

registry::Endpoint endpoint(const std::string& host, const std::string& credentials,
                            std::optional<std::chrono::seconds> expire = std::nullopt) {
  registry::Endpoint e;
  e.name = host;
  e.prefix = host;
  e.api_url = "https://" + host;
  e.credentials = credentials;
  e.creds_expire = expire;
  e.rate_limit = 0; // the rate limiter would sleep on the fake clock from several threads
  return e;
}

Target target(const std::string& image, const std::string& credentials = "") {
  auto parsed = image::parse_reference(image);
  EXPECT_TRUE(parsed) << image;
  Target t;
  t.repository = *parsed;
  t.repository.tag.clear();
  t.repository.digest.clear();
  t.credentials = credentials;
  return t;
}

SourceOptions no_tag_cache() {
  SourceOptions o;
  o.ttl = 0ns; // every list_tags goes to the registry, so the test sees the credential used
  return o;
}

struct Sources : ::testing::Test {
  util::FakeClock clock;
  BasicAuthRegistry http;
  TestEnvironment env;
  test_support::TempDir dir;

  credentials::ResolverOptions resolver_options() {
    credentials::ResolverOptions o;
    o.secrets_dir = dir.path() + "/secrets";
    o.docker_config = "";
    return o;
  }
  std::string script(const std::string& name, const std::string& body) {
    const std::string path = dir.write("bin/" + name, "#!/bin/sh\n" + body);
    fs::permissions(path, fs::perms::owner_all);
    return path;
  }
  // Lines in a file the helpers append to (0 when it does not exist).
  int lines(const std::string& name) {
    const std::string text = test_support::read_text_file(dir.path() + "/" + name);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }
  // Waits (bounded) until `name` has a line: a helper has started.
  bool wait_for_line(const std::string& name) {
    for (int i = 0; i < 1000 && lines(name) == 0; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    return lines(name) > 0;
  }
};

TEST_F(Sources, AnExpiredCredentialIsResolvedAgain) {
  registry::RegistriesConfig registries({endpoint("a.example", "env:REG_CREDS", 60s)});
  credentials::Resolver creds(env, clock, resolver_options());
  RegistrySource source(registries, creds, http, clock, nullptr, no_tag_cache());
  const Target app = target("a.example/app");

  env.set("u:one");
  ASSERT_TRUE(source.list_tags(app));
  EXPECT_EQ(http.last(), "Basic dTpvbmU="); // u:one
  const auto first = source.client(app).value();
  const int lookups = env.lookups.load();

  env.set("u:two");
  clock.advance(59s);
  ASSERT_TRUE(source.list_tags(app));
  EXPECT_EQ(http.last(), "Basic dTpvbmU=") << "not expired yet";
  EXPECT_EQ(env.lookups.load(), lookups);

  clock.advance(1s); // credsexpire reached
  ASSERT_TRUE(source.list_tags(app));
  EXPECT_EQ(http.last(), "Basic dTp0d28="); // u:two
  const auto second = source.client(app).value();
  EXPECT_NE(second.get(), first.get()) << "a new credential gets a new client";
  EXPECT_TRUE(first) << "the old client lives while it is held";

  // Expired again but unchanged: read again, same client (its token cache kept).
  clock.advance(60s);
  const int before = env.lookups.load();
  ASSERT_TRUE(source.list_tags(app));
  EXPECT_GT(env.lookups.load(), before);
  EXPECT_EQ(source.client(app).value().get(), second.get());
}

TEST_F(Sources, ACredentialRefusedBeforeItExpiresIsResolvedAgainAtOnce) {
  registry::RegistriesConfig registries({endpoint("a.example", "env:REG_CREDS", 3600s)});
  credentials::Resolver creds(env, clock, resolver_options());
  RegistrySource source(registries, creds, http, clock, nullptr, no_tag_cache());
  const Target app = target("a.example/app");
  env.set("u:one");
  ASSERT_TRUE(source.list_tags(app));

  // The token was rotated (and the old one revoked) long before credsexpire.
  env.set("u:two");
  http.accept_only("Basic dTp0d28=");
  auto tags = source.list_tags(app);
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(http.last(), "Basic dTp0d28=");

  // A credential that stays wrong is not retried in a loop: one more read, one error.
  env.set("u:bad");
  http.accept_only("Basic nothing");
  clock.advance(3600s);
  const std::size_t before = http.sent();
  auto refused = source.list_tags(app);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, util::ErrorKind::auth);
  EXPECT_LE(http.sent() - before, 2u);
}

TEST_F(Sources, ARotatedSecretFileIsPickedUpBeforeItExpires) {
  // A Kubernetes secret volume: <secret>/creds -> ..data/creds, ..data -> ..<timestamp>.
  const fs::path secret = dir.path() + "/secrets/team/reg";
  dir.write("secrets/team/reg/..2024_01/creds", "u:one\n");
  fs::create_directory_symlink("..2024_01", secret / "..data");
  fs::create_symlink("..data/creds", secret / "creds");

  registry::RegistriesConfig registries({endpoint("a.example", "secret:team/reg#creds")});
  credentials::Resolver creds(env, clock, resolver_options());
  RegistrySource source(registries, creds, http, clock, nullptr, no_tag_cache());
  const Target app = target("a.example/app");
  ASSERT_TRUE(source.list_tags(app));
  EXPECT_EQ(http.last(), "Basic dTpvbmU=");
  ASSERT_TRUE(source.list_tags(app));
  EXPECT_EQ(http.last(), "Basic dTpvbmU=");

  // The kubelet's update: a new directory, then the ..data symlink swapped atomically. Same
  // size, same second: only the inode tells.
  dir.write("secrets/team/reg/..2024_02/creds", "u:two\n");
  fs::create_directory_symlink("..2024_02", secret / "..data_tmp");
  fs::rename(secret / "..data_tmp", secret / "..data");
  fs::remove_all(secret / "..2024_01");

  ASSERT_TRUE(source.list_tags(app));
  EXPECT_EQ(http.last(), "Basic dTp0d28=");

  // Rewritten in place (a plain file, not a volume).
  fs::remove(secret / "creds");
  dir.write("secrets/team/reg/creds", "u:one\n");
  ASSERT_TRUE(source.list_tags(app));
  EXPECT_EQ(http.last(), "Basic dTpvbmU=");
}

TEST_F(Sources, ASlowHelperForOneRegistryDoesNotHoldUpAnother) {
  const std::string slow =
      script("slow", "echo run >> " + dir.path() + "/slow.runs\n" + "while [ ! -e " + dir.path() +
                         "/release ]; do sleep 0.01; done\necho u:slow\n");
  const std::string fast = script("fast", "echo u:fast\n");
  registry::RegistriesConfig registries(
      {endpoint("a.example", "ext:" + slow), endpoint("b.example", "ext:" + fast)});
  credentials::Resolver creds(env, clock, resolver_options());
  RegistrySource source(registries, creds, http, clock, nullptr, no_tag_cache());

  auto a = std::async(std::launch::async, [&] { return source.list_tags(target("a.example/x")); });
  ASSERT_TRUE(wait_for_line("slow.runs"));
  // a.example's helper is running: b.example resolves meanwhile.
  auto b = std::async(std::launch::async, [&] { return source.list_tags(target("b.example/y")); });
  const bool b_done = b.wait_for(5s) == std::future_status::ready;
  dir.write("release", "");
  ASSERT_TRUE(b_done) << "b.example waited for a.example's helper";
  auto b_tags = b.get();
  ASSERT_TRUE(b_tags) << b_tags.error().message;
  auto a_tags = a.get();
  ASSERT_TRUE(a_tags) << a_tags.error().message;
  EXPECT_EQ(a_tags->tags, std::vector<std::string>{"1.0"});
}

TEST_F(Sources, ConcurrentCallersShareOneHelperRun) {
  const std::string slow =
      script("slow", "echo run >> " + dir.path() + "/slow.runs\n" + "while [ ! -e " + dir.path() +
                         "/release ]; do sleep 0.01; done\necho u:slow\n");
  registry::RegistriesConfig registries({endpoint("a.example", "ext:" + slow)});
  credentials::Resolver creds(env, clock, resolver_options());
  RegistrySource source(registries, creds, http, clock, nullptr, no_tag_cache());

  constexpr int k_callers = 6;
  std::vector<std::future<util::Result<std::shared_ptr<registry::Client>>>> callers;
  for (int i = 0; i < k_callers; ++i) {
    callers.push_back(
        std::async(std::launch::async, [&] { return source.client(target("a.example/x")); }));
  }
  ASSERT_TRUE(wait_for_line("slow.runs"));
  std::this_thread::sleep_for(50ms); // let the other callers queue behind the running helper
  dir.write("release", "");
  std::vector<registry::Client*> clients;
  for (auto& c : callers) {
    auto got = c.get();
    ASSERT_TRUE(got) << got.error().message;
    clients.push_back(got->get());
  }
  EXPECT_EQ(lines("slow.runs"), 1);
  for (registry::Client* c : clients) {
    EXPECT_EQ(c, clients.front());
  }
  ASSERT_TRUE(source.list_tags(target("a.example/x")));
  EXPECT_EQ(http.last(), "Basic dTpzbG93"); // u:slow
}

} // namespace
} // namespace common::resolve

namespace common::resolve {
namespace {

// Tag lists are answered from the cache (disk or in-process) until the ttl, then asked again:
// the service's next interval must see new tags whatever clock it runs on.
TEST_F(Sources, TagListsAreAskedAgainAfterTheTtl) {
  for (const bool disk : {false, true}) {
    registry::RegistriesConfig registries({endpoint("a.example", "env:REG_CREDS", 3600s)});
    credentials::Resolver creds(env, clock, resolver_options());
    cache::DiskCache cache(dir.path() + (disk ? "/cache" : "/unused"), clock);
    SourceOptions options;
    options.ttl = 120s;
    RegistrySource source(registries, creds, http, clock, disk ? &cache : nullptr, options);
    const Target app = target("a.example/app");
    env.set("u:one");
    const std::size_t before = http.sent();
    ASSERT_TRUE(source.list_tags(app));
    EXPECT_EQ(http.sent(), before + 1) << "disk " << disk;
    clock.advance(119s);
    ASSERT_TRUE(source.list_tags(app));
    EXPECT_EQ(http.sent(), before + 1) << "fresh; disk " << disk;
    clock.advance(2s);
    ASSERT_TRUE(source.list_tags(app));
    EXPECT_EQ(http.sent(), before + 2) << "expired; disk " << disk;
  }
}

// A request's max_age (an updater's interval) bounds the age of what the cache answers it with,
// below the source's ttl, while requests without one keep sharing the entry up to the ttl.
TEST_F(Sources, ARequestsMaxAgeBoundsTheAnswersAge) {
  for (const bool disk : {false, true}) {
    registry::RegistriesConfig registries({endpoint("a.example", "env:REG_CREDS", 3600s)});
    credentials::Resolver creds(env, clock, resolver_options());
    cache::DiskCache cache(dir.path() + (disk ? "/cache-max-age" : "/unused"), clock);
    SourceOptions options;
    options.ttl = 120s;
    RegistrySource source(registries, creds, http, clock, disk ? &cache : nullptr, options);
    Target every_10s = target("a.example/maxage");
    every_10s.max_age = 10s;
    const Target plain = target("a.example/maxage");
    env.set("u:one");
    const std::size_t before = http.sent();
    ASSERT_TRUE(source.list_tags(every_10s));
    EXPECT_EQ(http.sent(), before + 1) << "disk " << disk;
    clock.advance(9s);
    ASSERT_TRUE(source.list_tags(every_10s));
    EXPECT_EQ(http.sent(), before + 1) << "younger than 10 s; disk " << disk;
    clock.advance(2s);
    ASSERT_TRUE(source.list_tags(every_10s));
    EXPECT_EQ(http.sent(), before + 2) << "older than 10 s: asked again; disk " << disk;
    clock.advance(30s);
    ASSERT_TRUE(source.list_tags(plain));
    EXPECT_EQ(http.sent(), before + 2) << "30 s old is fresh for the 2-minute ttl; disk " << disk;
    Target longer = plain;
    longer.max_age = 600s; // longer than the ttl: the ttl still applies
    clock.advance(100s);
    ASSERT_TRUE(source.list_tags(longer));
    EXPECT_EQ(http.sent(), before + 3) << "130 s old is past the ttl; disk " << disk;
  }
}

} // namespace
} // namespace common::resolve
