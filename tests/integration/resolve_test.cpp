// `imageupdater-cmp resolve` as a black box against the real registries of tests/harness:
// the plain registry (strategies, platforms, output), basic auth, bearer tokens, TLS and
// Link pagination. Expected answers come from the harness's expected file, never hard-coded
// digests. Faults: resolve_faults_test.cpp; the shared cache: resolve_cache_test.cpp.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/services_env.hpp"
#include "tests/support/process.hpp"

namespace it {
namespace {

using test_support::binary;
using test_support::run_process;
using test_support::TempDir;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string base64(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

void expect_resolved(const Outcome& o, const std::string& tag, const std::string& digest,
                     const ResolveRun& run) {
  EXPECT_EQ(o.error, std::nullopt) << run.dump();
  EXPECT_EQ(o.tag, tag) << run.dump();
  EXPECT_EQ(o.digest, digest) << run.dump();
}

// ------------------------------------------------------------------------------ plain registry

class PlainRegistry : public ServicesTest {
protected:
  std::string host() const { return env("REGISTRY_PLAIN_HOST"); }
};

TEST_F(PlainRegistry, SemverChoosesTheDocumentedHighestTag) {
  const auto run = resolve_cli(
      updater_yaml("demo", {"app=" + host() + "/app:~1.0", "pre=" + host() + "/app:>=1.0.0-0"}));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  ASSERT_EQ(run.outcomes.size(), 2u) << run.dump();
  const Outcome& app = run.of("app");
  expect_resolved(app, expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);
  EXPECT_EQ(app.updater, "demo/demo");
  EXPECT_EQ(app.image, host() + "/app");
  EXPECT_EQ(app.repository, host() + "/app");
  EXPECT_EQ(app.strategy, "semver");
  EXPECT_EQ(app.constraint, "~1.0");
  EXPECT_EQ(app.reason,
            "highest version of " + expected("APP_TAG_COUNT") + " tags satisfying ~1.0");
  EXPECT_TRUE(app.warnings.empty());
  // A constraint with a prerelease admits prereleases (Masterminds).
  expect_resolved(run.of("pre"), expected("APP_HIGHEST_SEMVER_WITH_PRERELEASE"),
                  expected("APP_DIGEST"), run);
}

// The patch of a tag "4.3.P" or "v4.3.P" (P digits), 0 for "4.3" / "v4.3", else -1. (Not
// std::regex: GCC 12's trips -Werror=maybe-uninitialized under the sanitizers.)
int patch_of_4_3(std::string_view tag) {
  if (tag.starts_with('v')) {
    tag.remove_prefix(1);
  }
  if (!tag.starts_with("4.3")) {
    return -1;
  }
  tag.remove_prefix(3);
  if (tag.empty()) {
    return 0;
  }
  if (tag.front() != '.' || tag.size() == 1 || tag.size() > 6) {
    return -1;
  }
  tag.remove_prefix(1);
  int patch = 0;
  for (char c : tag) {
    if (c < '0' || c > '9') {
      return -1;
    }
    patch = patch * 10 + (c - '0');
  }
  return patch;
}

// The highest tag of the 5,000 satisfying ~4.3, computed from the generated list: X.Y.Z with
// an optional 'v', or X.Y (= X.Y.0); suffixed tags are prereleases, which ~4.3 excludes.
TEST_F(PlainRegistry, BigRepositoryWithAConstraint) {
  int best = -1;
  std::vector<std::string> best_tags;
  const auto tags = read_lines(expected("BIG_TAGS_FILE"));
  ASSERT_EQ(std::to_string(tags.size()), expected("BIG_TAG_COUNT"));
  for (const auto& t : tags) {
    const int patch = patch_of_4_3(t);
    if (patch < 0) {
      continue;
    }
    if (patch > best) {
      best = patch;
      best_tags = {t};
    } else if (patch == best) {
      best_tags.push_back(t);
    }
  }
  ASSERT_EQ(best_tags.size(), 1u) << "the seeded list should have one spelling of the answer";

  const auto run = resolve_cli(updater_yaml("big", {"big=" + host() + "/big:~4.3"}));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  const Outcome& big = run.of("big");
  expect_resolved(big, best_tags[0], expected("BIG_DIGEST"), run);
  EXPECT_EQ(big.reason,
            "highest version of " + expected("BIG_TAG_COUNT") + " tags satisfying ~4.3");
}

TEST_F(PlainRegistry, NewestBuildChoosesTheNewestCreatedImage) {
  const auto run = resolve_cli(
      updater_yaml("nb", {"nb=" + host() + "/nb"}, "update-strategy: {nb: newest-build}"));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  const Outcome& nb = run.of("nb");
  ASSERT_EQ(expected("NB_NEWEST_BUILD"), "v3");
  expect_resolved(nb, expected("NB_NEWEST_BUILD"), expected("NB_V3_DIGEST"), run);
  EXPECT_EQ(nb.strategy, "newest-build");
  EXPECT_EQ(nb.constraint, "");
  EXPECT_EQ(nb.reason, "newest build of 3 tags (created " + expected("NB_V3_CREATED") + ")");
}

TEST_F(PlainRegistry, DigestStrategyGivesTheIndexOrListDigest) {
  const auto run = resolve_cli(
      updater_yaml("digest",
                   {"oci=" + host() + "/multi:1.0", "docker=" + host() + "/multi:1.0-docker",
                    "nginx=" + host() + "/library/nginx:latest"},
                   "update-strategy: digest"));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  const Outcome& oci = run.of("oci");
  expect_resolved(oci, "1.0", expected("MULTI_INDEX_DIGEST"), run);
  EXPECT_EQ(oci.strategy, "digest");
  EXPECT_EQ(oci.constraint, "1.0");
  EXPECT_EQ(oci.reason, "tracked tag 1.0");
  expect_resolved(run.of("docker"), "1.0-docker", expected("MULTI_DOCKER_LIST_DIGEST"), run);
  expect_resolved(run.of("nginx"), "latest", expected("NGINX_LATEST_DIGEST"), run);
}

TEST_F(PlainRegistry, NewestBuildWithPlatforms) {
  // Both tags of `multi` have linux/arm64/v8 children created 2024-03-01; allow-tags picks one
  // so that the answer is not a tie.
  const auto run =
      resolve_cli(updater_yaml("platforms", {"arm=" + host() + "/multi", "v8=" + host() + "/multi"},
                               "update-strategy: newest-build\n"
                               "platforms: {arm: linux/arm64, v8: linux/arm64/v8}\n"
                               "allow-tags: {arm: 'regexp:^1\\.0$', v8: 'regexp:^1\\.0-docker$'}"));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  const Outcome& arm = run.of("arm");
  expect_resolved(arm, "1.0", expected("MULTI_INDEX_DIGEST"), run);
  EXPECT_EQ(arm.reason, "newest build of 2 tags (created 2024-03-01T00:00:00Z)");
  expect_resolved(run.of("v8"), "1.0-docker", expected("MULTI_DOCKER_LIST_DIGEST"), run);
}

TEST_F(PlainRegistry, PlatformThatNoImageHasIsAClearError) {
  const auto run = resolve_cli(
      updater_yaml("noplatform", {"s390x=" + host() + "/multi", "app=" + host() + "/app"},
                   "update-strategy: {s390x: newest-build}\n"
                   "platforms: {s390x: linux/s390x}"));
  ASSERT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& s = run.of("s390x");
  ASSERT_TRUE(s.error.has_value()) << run.dump();
  EXPECT_EQ(s.tag, "");
  EXPECT_EQ(s.digest, "");
  EXPECT_EQ(run.of("app").error, std::nullopt) << run.dump();
  // The error says why: the platform wanted, and those the images have.
  EXPECT_TRUE(contains(*s.error, "none of the 2 candidate tags")) << *s.error;
  EXPECT_TRUE(contains(*s.error, "linux/s390x")) << *s.error;
  EXPECT_TRUE(contains(*s.error, "linux/amd64")) << *s.error;
}

TEST_F(PlainRegistry, MissingRepositoryFailsThatImageOnly) {
  const auto run = resolve_cli(updater_yaml(
      "missing", {"gone=" + host() + "/does-not-exist:~1.0", "app=" + host() + "/app:~1.0"}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  ASSERT_EQ(run.outcomes.size(), 2u) << run.dump();
  EXPECT_EQ(run.outcomes[0].alias, "gone"); // spec order
  const Outcome& gone = run.of("gone");
  ASSERT_TRUE(gone.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*gone.error, "404")) << *gone.error;
  EXPECT_TRUE(contains(*gone.error, "does-not-exist")) << *gone.error;
  EXPECT_EQ(gone.tag, "");
  EXPECT_EQ(gone.digest, "");
  expect_resolved(run.of("app"), expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);

  // The table prints both rows too.
  TempDir dir;
  const auto spec =
      dir.write("spec.yaml", updater_yaml("missing", {"gone=" + host() + "/does-not-exist:~1.0",
                                                      "app=" + host() + "/app:~1.0"}));
  const auto table =
      run_process({binary("imageupdater-cmp"), "resolve", "-f", spec, "--no-cache"}, "", 60);
  EXPECT_EQ(table.exit_code, 1) << table.out << table.err;
  EXPECT_TRUE(contains(table.out, "error: ")) << table.out;
  EXPECT_TRUE(contains(table.out, expected("APP_HIGHEST_SEMVER"))) << table.out;
}

TEST_F(PlainRegistry, JsonHasTheDocumentedKeysInOrderAndNullError) {
  TempDir dir;
  const auto spec =
      dir.write("spec.yaml",
                updater_yaml("json", {"app=" + host() + "/app:~1.0", "gone=" + host() + "/nope"}));
  const auto p = run_process(
      {binary("imageupdater-cmp"), "resolve", "-f", spec, "-o", "json", "--no-cache"}, "", 60);
  ASSERT_EQ(p.exit_code, 1) << p.out << p.err;
  const auto doc = nlohmann::ordered_json::parse(p.out, nullptr, false);
  ASSERT_TRUE(doc.is_array() && doc.size() == 2) << p.out;
  const std::vector<std::string> k_keys{"updater",  "alias",      "image",   "repository",
                                        "strategy", "constraint", "tag",     "digest",
                                        "error",    "reason",     "warnings"};
  for (const auto& j : doc) {
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) {
      keys.push_back(it.key());
    }
    EXPECT_EQ(keys, k_keys) << j.dump();
    EXPECT_TRUE(j.at("warnings").is_array()) << j.dump();
  }
  EXPECT_TRUE(doc[0].at("error").is_null()) << doc[0].dump();
  EXPECT_EQ(doc[0].at("tag"), expected("APP_HIGHEST_SEMVER"));
  EXPECT_TRUE(doc[1].at("error").is_string()) << doc[1].dump();
  EXPECT_EQ(doc[1].at("tag"), "");

  const auto yaml = run_process(
      {binary("imageupdater-cmp"), "resolve", "-f", spec, "-o", "yaml", "--no-cache"}, "", 60);
  EXPECT_EQ(yaml.exit_code, 1);
  EXPECT_TRUE(contains(yaml.out, "- updater: \"demo/json\"\n")) << yaml.out;
  EXPECT_TRUE(contains(yaml.out, "  error: null\n")) << yaml.out;
}

// ------------------------------------------------------------------------------ basic auth

class BasicAuth : public ServicesTest {
protected:
  std::string image() const { return "app=" + env("REGISTRY_BASIC_HOST") + "/app:~1.0"; }
  std::string user_pass() const { return env("BASIC_USER") + ":" + env("BASIC_PASS"); }
};

TEST_F(BasicAuth, WithoutCredentialsIsAnAuthError) {
  const auto run = resolve_cli(updater_yaml("basic", {image()}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  EXPECT_EQ(run.signal, 0);
  const Outcome& o = run.of("app");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "requires credentials")) << *o.error;
  EXPECT_TRUE(contains(*o.error, "Basic")) << *o.error;
}

// env: credentials are operator configuration: registries.conf, never a spec.
std::string env_credentials_conf(const TempDir& dir, const std::string& host,
                                 const std::string& variable) {
  return dir.write("registries.conf", "registries:\n- name: r\n  api_url: http://" + host +
                                          "\n  prefix: " + host +
                                          "\n  credentials: env:" + variable + "\n");
}

TEST_F(BasicAuth, EnvCredentials) {
  ScopedEnv creds("IU_IT_BASIC_CREDS", user_pass());
  TempDir dir;
  const auto conf = env_credentials_conf(dir, env("REGISTRY_BASIC_HOST"), "IU_IT_BASIC_CREDS");
  const auto run = resolve_cli(updater_yaml("basic", {image()}), {"--registries-conf", conf});
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  expect_resolved(run.of("app"), expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);
}

TEST_F(BasicAuth, MountedPullSecret) {
  TempDir secrets;
  secrets.write("demo/regcred/.dockerconfigjson", R"({"auths":{")" + env("REGISTRY_BASIC_HOST") +
                                                      R"(":{"auth":")" + base64(user_pass()) +
                                                      R"("}}})");
  const auto spec = updater_yaml("basic", {image()}, "secret: {app: \"pullsecret:demo/regcred\"}");
  const auto run = resolve_cli(spec, {"--secrets-dir", secrets.path()});
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  expect_resolved(run.of("app"), expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);

  // IMAGEUPDATER_SECRETS_DIR instead of the flag.
  ScopedEnv dir("IMAGEUPDATER_SECRETS_DIR", secrets.path());
  const auto by_env = resolve_cli(spec);
  ASSERT_EQ(by_env.exit_code, 0) << by_env.dump();
  EXPECT_EQ(by_env.of("app").tag, expected("APP_HIGHEST_SEMVER"));
}

TEST_F(BasicAuth, WrongPasswordIsAnAuthErrorWithoutThePassword) {
  const std::string password = "Wr0ng-pass-7c1f";
  ScopedEnv creds("IU_IT_BASIC_CREDS", env("BASIC_USER") + ":" + password);
  TempDir dir;
  const auto conf = env_credentials_conf(dir, env("REGISTRY_BASIC_HOST"), "IU_IT_BASIC_CREDS");
  const auto run = resolve_cli(updater_yaml("basic", {image()}), {"--registries-conf", conf});
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("app");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "401")) << *o.error;
  EXPECT_TRUE(contains(*o.error, "refused")) << *o.error;
  for (const auto& secret : {password, base64(env("BASIC_USER") + ":" + password)}) {
    EXPECT_FALSE(contains(run.out, secret)) << run.out;
    EXPECT_FALSE(contains(run.err, secret)) << run.err;
  }
}

// ------------------------------------------------------------------------------ bearer token

class TokenAuth : public ServicesTest {
protected:
  // The token log's lines written after `offset` bytes, parsed.
  std::vector<nlohmann::json> token_log_since(std::size_t offset) const {
    const std::string text = read_text(env("TOKEN_LOG"));
    std::vector<nlohmann::json> out;
    std::string_view rest = std::string_view(text).substr(std::min(offset, text.size()));
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      auto line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) {
        out.push_back(std::move(j));
      }
    }
    return out;
  }
};

// The seeded `app`, not a repository of our own: harness_test.sh takes the token log's first
// 200 for TOKEN_USER to be its own request for app, whichever test ran first.
TEST_F(TokenAuth, PullSecretResolvesAndAsksForPullScopeOnly) {
  TempDir secrets;
  secrets.write("demo/tok/.dockerconfigjson",
                R"({"auths":{")" + env("REGISTRY_TOKEN_HOST") + R"(":{"username":")" +
                    env("TOKEN_USER") + R"(","password":")" + env("TOKEN_PASS") + R"("}}})");
  const std::size_t offset = read_text(env("TOKEN_LOG")).size();
  const auto run =
      resolve_cli(updater_yaml("token", {"app=" + env("REGISTRY_TOKEN_HOST") + "/app:~1.0"},
                               "secret: {app: \"pullsecret:demo/tok\"}"),
                  {"--secrets-dir", secrets.path()});
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  expect_resolved(run.of("app"), expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);

  // Our token request(s), among whatever parallel tests appended meanwhile.
  const auto k_scope = nlohmann::json::array({"repository:app:pull"});
  int ours = 0;
  for (const auto& line : token_log_since(offset)) {
    if (line.at("user") != env("TOKEN_USER") || line.at("status") != 200) {
      continue;
    }
    const auto& scopes = line.at("scopes");
    ours += scopes == k_scope && line.at("path") == "/token" ? 1 : 0;
    // Nobody granted a token asks for more than pull on one repository.
    ASSERT_EQ(scopes.size(), 1u) << line.dump();
    EXPECT_TRUE(scopes[0].get<std::string>().ends_with(":pull")) << line.dump();
  }
  EXPECT_GE(ours, 1) << "no token request for repository:app:pull in " << env("TOKEN_LOG");
}

TEST_F(TokenAuth, AnonymousPullRegistryWithoutCredentials) {
  const std::size_t offset = read_text(env("TOKEN_LOG")).size();
  const auto run =
      resolve_cli(updater_yaml("anon", {"app=" + env("REGISTRY_TOKEN_ANON_HOST") + "/app:~1.0"}));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  expect_resolved(run.of("app"), expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);
  bool anonymous_token = false;
  for (const auto& line : token_log_since(offset)) {
    anonymous_token =
        anonymous_token || (line.at("path") == "/anon/token" && line.at("user").is_null() &&
                            line.at("scopes") == nlohmann::json::array({"repository:app:pull"}));
  }
  EXPECT_TRUE(anonymous_token) << read_text(env("TOKEN_LOG"));
}

TEST_F(TokenAuth, WithoutCredentialsTheTokenServiceRefuses) {
  const auto run =
      resolve_cli(updater_yaml("notoken", {"app=" + env("REGISTRY_TOKEN_HOST") + "/app:~1.0"}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("app");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "token service")) << *o.error;
  EXPECT_TRUE(contains(*o.error, "401")) << *o.error;
}

// ------------------------------------------------------------------------------ TLS

class Tls : public ServicesTest {
protected:
  std::string conf(const std::string& ca_file) const {
    std::string c = "registries:\n- name: tls\n  api_url: https://" + env("REGISTRY_TLS_HOST") +
                    "\n  prefix: " + env("REGISTRY_TLS_HOST") + "\n";
    if (!ca_file.empty()) {
      c += "  ca_file: " + ca_file + "\n";
    }
    return m_dir.write("registries.conf", c);
  }
  std::string spec() const {
    return updater_yaml("tls", {"app=" + env("REGISTRY_TLS_HOST") + "/app:~1.0"});
  }

private:
  TempDir m_dir;
};

TEST_F(Tls, ResolvesWithTheCaFromRegistriesConf) {
  const auto run = resolve_cli(spec(), {"--registries-conf", conf(env("TLS_CA"))});
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  expect_resolved(run.of("app"), expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);

  // IMAGEUPDATER_REGISTRIES_CONF instead of the flag.
  ScopedEnv by_env("IMAGEUPDATER_REGISTRIES_CONF", conf(env("TLS_CA")));
  const auto again = resolve_cli(spec());
  ASSERT_EQ(again.exit_code, 0) << again.dump();
  EXPECT_EQ(again.of("app").digest, expected("APP_DIGEST"));
}

TEST_F(Tls, WithoutTheCaIsACertificateError) {
  const auto run = resolve_cli(spec(), {"--registries-conf", conf("")});
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("app");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "TLS")) << *o.error;
  EXPECT_TRUE(contains(*o.error, "certificate")) << *o.error;
  EXPECT_LT(run.seconds, 10) << "a verification failure is not worth retrying";
}

TEST_F(Tls, WithAnotherCaIsACertificateError) {
  const auto run = resolve_cli(spec(), {"--registries-conf", conf(env("TLS_OTHER_CA"))});
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("app");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "certificate")) << *o.error;
  EXPECT_EQ(o.tag, "");
}

// TLS support is a module loaded on first use (common/http/tls_module.hpp): an installed
// layout finds it in ../lib/imageupdater, and a copy of the executable without it says so.
TEST_F(Tls, InstalledLayoutLoadsTheModuleFromLib) {
  TempDir prefix;
  std::filesystem::create_directories(prefix.path() + "/bin");
  std::filesystem::create_directories(prefix.path() + "/lib/imageupdater");
  const std::string program = prefix.path() + "/bin/imageupdater-cmp";
  std::filesystem::copy_file(binary("imageupdater-cmp"), program);
  std::filesystem::copy_file(binary("imageupdater-tls.so"),
                             prefix.path() + "/lib/imageupdater/imageupdater-tls.so");
  const auto run = resolve_cli(spec(), {"--registries-conf", conf(env("TLS_CA"))}, 60, program);
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  EXPECT_EQ(run.of("app").digest, expected("APP_DIGEST"));
}

TEST_F(Tls, MissingModuleIsAClearErrorAndPlainHttpStillWorks) {
  TempDir prefix;
  const std::string program = prefix.path() + "/imageupdater-cmp";
  std::filesystem::copy_file(binary("imageupdater-cmp"), program);
  const std::string plain = env("REGISTRY_PLAIN_HOST") + "/app:~1.0";
  const auto run = resolve_cli(
      updater_yaml("tls", {"app=" + env("REGISTRY_TLS_HOST") + "/app:~1.0", "plain=" + plain}),
      {"--registries-conf", conf(env("TLS_CA"))}, 60, program);
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("app");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "cannot load TLS support")) << *o.error;
  EXPECT_TRUE(contains(*o.error, prefix.path() + "/imageupdater-tls.so")) << *o.error;
  expect_resolved(run.of("plain"), expected("APP_HIGHEST_SEMVER"), expected("APP_DIGEST"), run);
}

// ------------------------------------------------------------------------------ pagination

// Cumulative tags/list requests for `repo` on a pager listener.
int pager_requests(const std::string& pager, const std::string& repo = "big") {
  auto body = http_get(pager + "/_stats");
  if (!body) {
    return -1;
  }
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "bad /_stats: " << *body;
    return -1;
  }
  return j["tags_requests"].value(repo, 0);
}

// Requests the faults server's other-host recorder saw for `big`.
int other_host_big_requests(const std::string& faults) {
  auto body = http_get(faults + "/_stats");
  if (!body) {
    return -1;
  }
  auto j = nlohmann::json::parse(*body, nullptr, false);
  int n = 0;
  for (const auto& r : j.value("other", nlohmann::json::array())) {
    n += r.value("path", "").starts_with("/v2/big/") ? 1 : 0;
  }
  return n;
}

class Pagination : public ServicesTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(Pagination, FollowsEveryPageToThePlainRegistrysAnswer) {
  const std::string pager = env(GetParam());
  const std::string plain = env("REGISTRY_PLAIN_HOST");
  const int before = pager_requests(pager);
  const auto run = resolve_cli(updater_yaml(
      "paged", {"plain=" + plain + "/big:~4.3", "paged=" + host_of(pager) + "/big:~4.3",
                "plainall=" + plain + "/big", "pagedall=" + host_of(pager) + "/big"}));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  // Both images share one tag list (one session per endpoint): every page once. Other tests
  // (the harness smoke test) may walk `big` on this pager meanwhile under ctest -j, so only a
  // lower bound here; the exact count is checked on a repository of our own below.
  EXPECT_GE(pager_requests(pager) - before, std::stoi(expected("BIG_PAGE_COUNT")));
  for (const auto& [a, b] : {std::pair{"plain", "paged"}, std::pair{"plainall", "pagedall"}}) {
    const Outcome& p = run.of(a);
    const Outcome& q = run.of(b);
    EXPECT_EQ(q.error, std::nullopt) << run.dump();
    EXPECT_EQ(q.tag, p.tag) << b;
    EXPECT_EQ(q.digest, p.digest) << b;
    EXPECT_EQ(q.reason, p.reason) << b;
    // All 5,000 tags arrived, so all 50 pages were followed.
    EXPECT_TRUE(contains(q.reason, "of " + expected("BIG_TAG_COUNT") + " tags")) << q.reason;
    EXPECT_EQ(q.digest, expected("BIG_DIGEST"));
  }
}

// 250 tags of a repository nobody else uses: exactly 3 pages (100, 100, 50), each asked once.
TEST_P(Pagination, AsksForEveryPageExactlyOnce) {
  const std::string pager = env(GetParam());
  const std::string repo = unique_repo("paged");
  std::vector<std::string> push{"/usr/bin/python3",
                                std::string(IU_SOURCE_DIR) + "/tests/harness/seed.py",
                                "image",
                                env("REGISTRY_PLAIN"),
                                repo,
                                "2024-05-01T00:00:00Z"};
  for (int i = 0; i < 250; ++i) {
    push.push_back("1." + std::to_string(i) + ".0");
  }
  const auto pushed = run_process(push, "", 60);
  ASSERT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  const std::string digest = pushed.out.substr(0, pushed.out.find('\n'));

  const auto run = resolve_cli(updater_yaml("own", {"own=" + host_of(pager) + "/" + repo}));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  expect_resolved(run.of("own"), "1.249.0", digest, run);
  EXPECT_EQ(run.of("own").reason, "highest version of 250 tags satisfying *");
  EXPECT_EQ(pager_requests(pager, repo), 3);
}

INSTANTIATE_TEST_SUITE_P(Links, Pagination,
                         ::testing::Values("REGISTRY_PAGED", "REGISTRY_PAGED_ABSOLUTE"));

using ForeignPagination = ServicesTest;

TEST_F(ForeignPagination, LinkToAnotherHostIsRefused) {
  const std::string pager = env("REGISTRY_PAGED_FOREIGN");
  const int before = pager_requests(pager);
  const int other_before = other_host_big_requests(env("REGISTRY_FAULTS"));
  const auto run = resolve_cli(updater_yaml("foreign", {"big=" + host_of(pager) + "/big:~4.3"}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("big");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "another origin")) << *o.error;
  EXPECT_TRUE(contains(*o.error, host_of(env("FAULTS_OTHER")))) << *o.error;
  EXPECT_GE(pager_requests(pager) - before, 1); // the first page (shared with other tests)
  EXPECT_EQ(other_host_big_requests(env("REGISTRY_FAULTS")) - other_before, 0)
      << "the client followed a link to the foreign host";
}

} // namespace
} // namespace it
