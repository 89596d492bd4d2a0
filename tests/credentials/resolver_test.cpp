#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/credentials/resolver.hpp"

#include "tests/support/process.hpp"

namespace {

using namespace common::credentials;
using namespace std::chrono_literals;
using common::util::ErrorKind;
using common::util::FakeClock;

class FakeEnvironment final : public Environment {
public:
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> vars;
  std::map<std::string, common::util::Result<std::string>> scripts;
  int reads = 0;
  int runs = 0;
  ScriptLimits last_limits;

  common::util::Result<std::string> read_file(const std::string& path,
                                              std::size_t max_bytes) override {
    ++reads;
    auto it = files.find(path);
    if (it == files.end()) {
      return common::util::fail(ErrorKind::not_found, path + ": cannot open: No such file");
    }
    if (it->second.size() > max_bytes) {
      return common::util::fail(ErrorKind::too_large, path + ": too large");
    }
    return it->second;
  }
  std::string file_version(const std::string& path) const override {
    auto it = files.find(path);
    return it == files.end() ? std::string() : "v:" + it->second;
  }
  std::optional<std::string> getenv(const std::string& name) const override {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  }
  common::util::Result<std::string> run_script(const std::string& path,
                                               const ScriptLimits& limits) override {
    ++runs;
    last_limits = limits;
    auto it = scripts.find(path);
    if (it == scripts.end()) {
      return common::util::fail(ErrorKind::not_found, "credential script " + path + ": missing");
    }
    return it->second;
  }
};

std::string docker_config(const std::string& key, const std::string& auth_b64) {
  return R"({"auths": {")" + key + R"(": {"auth": ")" + auth_b64 + R"("}}})";
}
// base64("user:pass") and base64("hub:hubpass")
const std::string k_user_pass = "dXNlcjpwYXNz";
const std::string k_hub = "aHViOmh1YnBhc3M=";

struct Fixture : ::testing::Test {
  FakeEnvironment env;
  FakeClock clock;
  ResolverOptions options() {
    ResolverOptions o;
    o.secrets_dir = "/secrets";
    o.default_namespace = "team";
    o.docker_config = std::nullopt;
    return o;
  }
};

TEST_F(Fixture, PullSecretNamespacedPathThenFallback) {
  env.files["/secrets/ns/regcred/.dockerconfigjson"] =
      docker_config("https://index.docker.io/v1/", k_hub);
  env.files["/secrets/other/.dockerconfigjson"] = docker_config("ghcr.io", k_user_pass);
  Resolver r(env, clock, options());

  auto hub = r.resolve("pullsecret:ns/regcred", "registry-1.docker.io");
  ASSERT_TRUE(hub) << hub.error().message;
  EXPECT_EQ(hub->credential.username, "hub");
  EXPECT_EQ(hub->credential.password, "hubpass");
  EXPECT_EQ(hub->origin,
            "/secrets/ns/regcred/.dockerconfigjson (auths \"https://index.docker.io/v1/\")");

  // <dir>/<name>/ when <dir>/<ns>/<name>/ is absent.
  auto ghcr = r.resolve("pullsecret:ns/other", "ghcr.io");
  ASSERT_TRUE(ghcr) << ghcr.error().message;
  EXPECT_EQ(ghcr->credential.username, "user");
  EXPECT_EQ(ghcr->origin, "/secrets/other/.dockerconfigjson (auths \"ghcr.io\")");

  // KubeSphere bare names, default namespace.
  env.files["/secrets/team/bare/.dockerconfigjson"] = docker_config("quay.io", k_user_pass);
  auto bare = r.resolve("bare", "quay.io");
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->origin, "/secrets/team/bare/.dockerconfigjson (auths \"quay.io\")");
}

TEST_F(Fixture, PullSecretErrorsSayWhereAndNeverWhat) {
  env.files["/secrets/ns/regcred/.dockerconfigjson"] = docker_config("quay.io", k_user_pass);
  Resolver r(env, clock, options());

  auto missing = r.resolve("pullsecret:ns/nope", "ghcr.io");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing.error().message.find("pull secret ns/nope for ghcr.io"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("/secrets/ns/nope/.dockerconfigjson"), std::string::npos);
  EXPECT_NE(missing.error().message.find("/secrets/nope/.dockerconfigjson"), std::string::npos);

  auto no_entry = r.resolve("pullsecret:ns/regcred", "ghcr.io");
  ASSERT_FALSE(no_entry);
  EXPECT_EQ(no_entry.error().kind, ErrorKind::not_found);
  EXPECT_NE(no_entry.error().message.find("/secrets/ns/regcred/.dockerconfigjson"),
            std::string::npos);
  EXPECT_NE(no_entry.error().message.find("entries for quay.io"), std::string::npos);
  EXPECT_EQ(no_entry.error().message.find("pass"), std::string::npos);

  ResolverOptions no_dir = options();
  no_dir.secrets_dir.clear();
  Resolver r2(env, clock, no_dir);
  auto undirected = r2.resolve("pullsecret:ns/regcred", "quay.io");
  ASSERT_FALSE(undirected);
  EXPECT_NE(undirected.error().message.find("no secrets directory"), std::string::npos);
}

TEST_F(Fixture, SecretField) {
  env.files["/secrets/ns/creds/token"] = "robot$ci:s3cr3t\n";
  env.files["/secrets/flat/token"] = "u:p\r\n";
  env.files["/secrets/ns/bad/token"] = "s3cr3t-without-colon";
  env.files["/secrets/ns/multi/token"] = "u:p\nmore:lines\n";
  Resolver r(env, clock, options());

  auto got = r.resolve("secret:ns/creds#token", "ghcr.io");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->credential.username, "robot$ci");
  EXPECT_EQ(got->credential.password, "s3cr3t");
  EXPECT_EQ(got->origin, "/secrets/ns/creds/token");

  auto flat = r.resolve("secret:ns/flat#token", "ghcr.io");
  ASSERT_TRUE(flat) << flat.error().message;
  EXPECT_EQ(flat->credential.password, "p");

  auto bad = r.resolve("secret:ns/bad#token", "ghcr.io");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(bad.error().message.find("secret ns/bad field token (/secrets/ns/bad/token)"),
            std::string::npos)
      << bad.error().message;
  EXPECT_EQ(bad.error().message.find("s3cr3t"), std::string::npos);

  auto multi = r.resolve("secret:ns/multi#token", "ghcr.io");
  ASSERT_FALSE(multi);
  EXPECT_NE(multi.error().message.find("several lines"), std::string::npos);

  auto none = r.resolve("secret:ns/none#token", "ghcr.io");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::not_found);
  EXPECT_NE(none.error().message.find("/secrets/ns/none/token or /secrets/none/token"),
            std::string::npos)
      << none.error().message;
}

TEST_F(Fixture, EnvAndExt) {
  env.vars["REG"] = "u:p";
  env.vars["EMPTY"] = "";
  env.vars["BAD"] = "hunter2";
  env.scripts["/bin/creds"] = std::string("AWS:token\n");
  env.scripts["/bin/garbage"] = std::string("<html>hunter2</html>");
  env.scripts["/bin/slow"] =
      common::util::Result<std::string>(common::util::fail(ErrorKind::transient, "slow"));
  ResolverOptions o = options();
  o.script.timeout = 1234ms;
  Resolver r(env, clock, o);

  auto e = r.resolve("env:REG", "ghcr.io");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->credential.username, "u");
  EXPECT_EQ(e->origin, "env:REG");

  auto unset = r.resolve("env:UNSET", "ghcr.io");
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().kind, ErrorKind::not_found);
  EXPECT_NE(unset.error().message.find("UNSET is not set"), std::string::npos);
  auto empty = r.resolve("env:EMPTY", "ghcr.io");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("EMPTY is empty"), std::string::npos);
  auto bad = r.resolve("env:BAD", "ghcr.io");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("hunter2"), std::string::npos);

  auto x = r.resolve("ext:/bin/creds", "123.dkr.ecr.us-east-1.amazonaws.com");
  ASSERT_TRUE(x) << x.error().message;
  EXPECT_EQ(x->credential.username, "AWS");
  EXPECT_EQ(x->credential.password, "token");
  EXPECT_EQ(env.last_limits.timeout, 1234ms);

  auto garbage = r.resolve("ext:/bin/garbage", "ghcr.io");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(garbage.error().message.find("ext:/bin/garbage output"), std::string::npos);
  EXPECT_EQ(garbage.error().message.find("hunter2"), std::string::npos);

  auto slow = r.resolve("ext:/bin/slow", "ghcr.io");
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().kind, ErrorKind::transient);
}

TEST_F(Fixture, RegistryScopedSource) {
  env.vars["X"] = "u:p";
  Resolver r(env, clock, options());
  EXPECT_TRUE(r.resolve("ghcr.io=env:X", "ghcr.io"));
  EXPECT_TRUE(r.resolve("docker.io=env:X", "registry-1.docker.io"));
  auto other = r.resolve("ghcr.io=env:X", "quay.io");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(other.error().message.find("is for registry ghcr.io, not quay.io"), std::string::npos);
  auto invalid = r.resolve("vault:x", "quay.io");
  ASSERT_FALSE(invalid);
  EXPECT_NE(invalid.error().message.find("vault:x"), std::string::npos);
}

TEST_F(Fixture, CacheExpiry) {
  env.scripts["/bin/creds"] = std::string("u:one\n");
  Resolver r(env, clock, options()); // default expiry 300 s

  ASSERT_TRUE(r.resolve("ext:/bin/creds", "ghcr.io"));
  ASSERT_TRUE(r.resolve("ext:/bin/creds", "quay.io")); // not registry-dependent: cached
  EXPECT_EQ(env.runs, 1);
  env.scripts["/bin/creds"] = std::string("u:two\n");
  clock.advance(299s);
  EXPECT_EQ(r.resolve("ext:/bin/creds", "ghcr.io")->credential.password, "one");
  clock.advance(1s);
  EXPECT_EQ(r.resolve("ext:/bin/creds", "ghcr.io")->credential.password, "two");
  EXPECT_EQ(env.runs, 2);

  // An explicit expiry (registries.conf credsexpire).
  clock.advance(10s);
  env.scripts["/bin/creds"] = std::string("u:three\n");
  EXPECT_EQ(r.resolve("ext:/bin/creds", "ghcr.io", "", 5s)->credential.password, "three");
  clock.advance(4s);
  EXPECT_EQ(r.resolve("ext:/bin/creds", "ghcr.io", "", 5s)->credential.password, "three");
  EXPECT_EQ(env.runs, 3);

  // Zero: never cached.
  EXPECT_TRUE(r.resolve("env:NOPE", "x").error().kind == ErrorKind::not_found);
  env.vars["Z"] = "u:p";
  ASSERT_TRUE(r.resolve("env:Z", "ghcr.io", "", 0s));
  env.vars["Z"] = "u:q";
  EXPECT_EQ(r.resolve("env:Z", "ghcr.io", "", 0s)->credential.password, "q");

  // Errors are not cached.
  env.scripts["/bin/flaky"] =
      common::util::Result<std::string>(common::util::fail(ErrorKind::transient, "down"));
  EXPECT_FALSE(r.resolve("ext:/bin/flaky", "ghcr.io"));
  env.scripts["/bin/flaky"] = std::string("u:p");
  EXPECT_TRUE(r.resolve("ext:/bin/flaky", "ghcr.io"));
}

TEST_F(Fixture, ARewrittenSecretFileIsReadAgainBeforeItExpires) {
  env.files["/secrets/ns/s/.dockerconfigjson"] = docker_config("ghcr.io", k_user_pass);
  env.files["/secrets/ns/f/token"] = "robot:one\n";
  Resolver r(env, clock, options());
  auto pull = r.resolve("pullsecret:ns/s", "ghcr.io");
  auto field = r.resolve("secret:ns/f#token", "ghcr.io");
  ASSERT_TRUE(pull && field);
  EXPECT_EQ(pull->file, "/secrets/ns/s/.dockerconfigjson");
  EXPECT_TRUE(r.current(*pull));
  EXPECT_TRUE(r.current(*field));
  const int reads = env.reads;
  EXPECT_EQ(r.resolve("secret:ns/f#token", "ghcr.io")->credential.password, "one");
  EXPECT_EQ(env.reads, reads) << "unchanged: served from the cache";

  // Rotated in place (Kubernetes swaps the ..data symlink: the path reaches new content).
  env.files["/secrets/ns/s/.dockerconfigjson"] = docker_config("ghcr.io", k_hub);
  env.files["/secrets/ns/f/token"] = "robot:two\n";
  EXPECT_FALSE(r.current(*pull));
  EXPECT_FALSE(r.current(*field));
  EXPECT_EQ(r.resolve("pullsecret:ns/s", "ghcr.io")->credential.username, "hub");
  auto rotated = r.resolve("secret:ns/f#token", "ghcr.io");
  ASSERT_TRUE(rotated);
  EXPECT_EQ(rotated->credential.password, "two");
  EXPECT_TRUE(r.current(*rotated));
}

TEST_F(Fixture, CurrentFollowsTheCallersExpiry) {
  env.vars["REG"] = "u:p";
  Resolver r(env, clock, options());
  auto five = r.resolve("env:REG", "ghcr.io", "", 5s);
  ASSERT_TRUE(five);
  EXPECT_EQ(five->expires, clock.steady_now() + 5s);
  auto fallback = r.resolve("env:REG", "ghcr.io");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->expires, clock.steady_now() + 300s) << "options.default_expire";
  clock.advance(4s);
  EXPECT_TRUE(r.current(*five));
  clock.advance(1s);
  EXPECT_FALSE(r.current(*five));
  EXPECT_TRUE(r.current(*fallback));
  auto zero = r.resolve("env:REG", "ghcr.io", "", 0s);
  ASSERT_TRUE(zero);
  EXPECT_FALSE(r.current(*zero)) << "zero: ask again every time";
}

// A helper that blocks until released, counting its runs (thread-safe, unlike FakeEnvironment).
class GatedEnvironment final : public Environment {
public:
  std::atomic<int> slow_runs{0};
  std::atomic<int> fast_runs{0};
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();

  common::util::Result<std::string> read_file(const std::string& path, std::size_t) override {
    return common::util::fail(ErrorKind::not_found, path);
  }
  std::string file_version(const std::string&) const override { return {}; }
  std::optional<std::string> getenv(const std::string&) const override { return std::nullopt; }
  common::util::Result<std::string> run_script(const std::string& path,
                                               const ScriptLimits&) override {
    if (path == "/bin/slow") {
      ++slow_runs;
      gate.wait();
      return std::string("u:slow");
    }
    ++fast_runs;
    return std::string("u:fast");
  }
};

TEST(ResolverConcurrency, CallersShareOneHelperRunAndOtherKeysDoNotWait) {
  GatedEnvironment env;
  FakeClock clock; // only read while the threads run
  Resolver r(env, clock, {});
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    callers.emplace_back([&] {
      auto got = r.resolve("ext:/bin/slow", "ghcr.io");
      if (got && got->credential.password == "slow") {
        ++ok;
      }
    });
  }
  while (env.slow_runs.load() == 0) {
    std::this_thread::yield();
  }
  // The slow helper is running (and holds no lock): another key resolves meanwhile.
  auto fast = r.resolve("ext:/bin/fast", "ghcr.io");
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->credential.password, "fast");
  env.release.set_value();
  for (auto& t : callers) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(env.slow_runs.load(), 1);
  EXPECT_EQ(env.fast_runs.load(), 1);
}

TEST_F(Fixture, PullSecretCachePerRegistryAndInvalidate) {
  env.files["/secrets/ns/s/.dockerconfigjson"] =
      R"({"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}, "quay.io": {"auth": "aHViOmh1YnBhc3M="}}})";
  Resolver r(env, clock, options());
  EXPECT_EQ(r.resolve("pullsecret:ns/s", "ghcr.io")->credential.username, "user");
  EXPECT_EQ(r.resolve("pullsecret:ns/s", "quay.io")->credential.username, "hub");
  EXPECT_EQ(r.resolve("PullSecret:ns/s", "ghcr.io")->credential.username, "user");
  EXPECT_EQ(env.reads, 2);
  // After a 401: forget this source everywhere.
  r.invalidate("pullsecret:ns/s");
  EXPECT_EQ(r.resolve("pullsecret:ns/s", "ghcr.io")->credential.username, "user");
  EXPECT_EQ(env.reads, 3);
  r.invalidate_all();
  EXPECT_EQ(r.resolve("pullsecret:ns/s", "ghcr.io")->credential.username, "user");
  EXPECT_EQ(env.reads, 4);
  r.invalidate("not a source"); // harmless
}

TEST_F(Fixture, DefaultDockerConfig) {
  {
    Resolver r(env, clock, options());
    EXPECT_EQ(r.docker_config_path(), "");
    auto none = r.resolve_default("ghcr.io");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->credential.empty());
  }
  env.vars["HOME"] = "/home/u";
  {
    Resolver r(env, clock, options());
    EXPECT_EQ(r.docker_config_path(), "/home/u/.docker/config.json");
    auto absent = r.resolve_default("ghcr.io");
    ASSERT_TRUE(absent);
    EXPECT_TRUE(absent->credential.empty());
    EXPECT_EQ(absent->origin, "no docker config at /home/u/.docker/config.json");
  }
  env.vars["DOCKER_CONFIG"] = "/etc/docker-cfg/";
  env.files["/etc/docker-cfg/config.json"] =
      R"({"auths": {"https://index.docker.io/v1/": {"auth": ")" + k_hub +
      R"("}, "ghcr.io": {}}, "credsStore": "desktop"})";
  {
    Resolver r(env, clock, options());
    EXPECT_EQ(r.docker_config_path(), "/etc/docker-cfg/config.json");
    auto hub = r.resolve_default("docker.io", "library/nginx");
    ASSERT_TRUE(hub) << hub.error().message;
    EXPECT_EQ(hub->credential.username, "hub");
    EXPECT_EQ(hub->origin, "/etc/docker-cfg/config.json (auths \"https://index.docker.io/v1/\")");
    // A registry with no entry: anonymous, with the reason.
    auto quay = r.resolve_default("quay.io");
    ASSERT_TRUE(quay);
    EXPECT_TRUE(quay->credential.empty());
    EXPECT_NE(quay->origin.find("no auths entry for quay.io"), std::string::npos);
    // In the credential store: said, not silently anonymous.
    auto ghcr = r.resolve_default("ghcr.io");
    ASSERT_FALSE(ghcr);
    EXPECT_EQ(ghcr.error().kind, ErrorKind::unsupported);
  }
  {
    ResolverOptions o = options();
    o.docker_config = "";
    Resolver r(env, clock, o);
    EXPECT_EQ(r.docker_config_path(), "");
    EXPECT_TRUE(r.resolve_default("docker.io")->credential.empty());
  }
  env.files["/broken.json"] = "{not json";
  {
    ResolverOptions o = options();
    o.docker_config = "/broken.json";
    Resolver r(env, clock, o);
    auto broken = r.resolve_default("docker.io");
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(broken.error().message.find("/broken.json"), std::string::npos);
  }
}

TEST(SplitUserPass, Table) {
  struct Case {
    const char* in;
    const char* user; // nullptr: error
    const char* pass;
  };
  const Case cases[] = {
      {"u:p", "u", "p"},
      {"u:p\n", "u", "p"},
      {"u:p\r\n", "u", "p"},
      {"u:p:q", "u", "p:q"},
      {"<token>:t", "<token>", "t"},
      {"u:p\n\n", nullptr, ""},
      {"u\n:p", nullptr, ""},
      {":p", nullptr, ""},
      {"u:", nullptr, ""},
      {"up", nullptr, ""},
      {"", nullptr, ""},
  };
  for (const auto& c : cases) {
    auto got = split_user_pass(c.in, "test");
    if (c.user == nullptr) {
      EXPECT_FALSE(got) << c.in;
      continue;
    }
    ASSERT_TRUE(got) << c.in;
    EXPECT_EQ(got->username, c.user);
    EXPECT_EQ(got->password, c.pass);
  }
}

// The real environment end to end: mounted secret files and a script in a temp directory.
TEST(ResolverSystem, RealFilesAndScript) {
  test_support::TempDir dir;
  dir.write("secrets/ns/regcred/.dockerconfigjson",
            R"({"auths": {"https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="}}})");
  dir.write("secrets/creds/token", "robot:pw\n");
  std::string script = dir.write("bin/get-creds", "#!/bin/sh\necho 'AWS:tok'\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  std::string garbage = dir.write("bin/garbage", "#!/bin/sh\necho 'nothing useful'\n");
  std::filesystem::permissions(garbage, std::filesystem::perms::owner_all);
  std::string slow = dir.write("bin/slow", "#!/bin/sh\nsleep 20\necho 'u:p'\n");
  std::filesystem::permissions(slow, std::filesystem::perms::owner_all);

  SystemEnvironment env;
  common::util::SystemClock clock;
  ResolverOptions o;
  o.secrets_dir = dir.path() + "/secrets";
  o.docker_config = dir.path() + "/no-such-config.json";
  o.script.timeout = 300ms;
  Resolver r(env, clock, o);

  auto hub = r.resolve("pullsecret:ns/regcred", "https://registry-1.docker.io");
  ASSERT_TRUE(hub) << hub.error().message;
  EXPECT_EQ(hub->credential.username, "hub");
  auto field = r.resolve("secret:ns/creds#token", "ghcr.io");
  ASSERT_TRUE(field) << field.error().message;
  EXPECT_EQ(field->credential.password, "pw");
  EXPECT_EQ(field->origin, dir.path() + "/secrets/creds/token");
  auto ext = r.resolve("ext:" + script, "ecr");
  ASSERT_TRUE(ext) << ext.error().message;
  EXPECT_EQ(ext->credential.username, "AWS");
  auto bad = r.resolve("ext:" + garbage, "ecr");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
  auto timeout = r.resolve("ext:" + slow, "ecr");
  ASSERT_FALSE(timeout);
  EXPECT_EQ(timeout.error().kind, ErrorKind::transient);
  auto anonymous = r.resolve_default("ghcr.io");
  ASSERT_TRUE(anonymous);
  EXPECT_TRUE(anonymous->credential.empty());
}

} // namespace
