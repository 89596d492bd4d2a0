// Flux OCI artifacts pushed with common::oci::push_flux_artifact to the real registries of
// tests/harness (distribution 2.8): the plain one (push, a second identical push that writes
// nothing, a changed push, pulled back with skopeo and checked), the basic-auth one and the
// bearer-token ones (the token asked for "pull,push"; an anonymous pull-only token cannot push).
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/http/poco_client.hpp"
#include "common/image/digest.hpp"
#include "common/oci/flux_artifact.hpp"
#include "common/registry/client.hpp"
#include "common/util/clock.hpp"

#include "tests/integration/services_env.hpp"
#include "tests/support/process.hpp"

namespace it {
namespace {

using common::artifact::pack;
using common::artifact::unpack;
using common::image::sha256_digest;
using common::oci::Annotations;
using common::oci::push_flux_artifact;
using nlohmann::json;
using test_support::read_text_file;
using test_support::run_process;
using test_support::TempDir;

const common::util::Tree k_tree = {
    {"kustomization.yaml", "resources:\n- deploy.yaml\n", false},
    {"apps/web/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n", false},
    {"hooks/render.sh", "#!/bin/sh\n", true},
};

const Annotations k_annotations{"https://github.com/acme/deploy", "main@sha1:0123456789abcdef", {}};

class FluxPush : public ServicesTest {
protected:
  void SetUp() override {
    ServicesTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    auto http = common::http::PocoClient::create({});
    ASSERT_TRUE(http) << http.error().message;
    m_http = std::move(*http);
  }

  common::registry::Client client(const std::string& api_url,
                                  std::optional<common::credentials::Credential> credential = {}) {
    common::registry::Endpoint endpoint;
    endpoint.name = "harness";
    endpoint.prefix = host_of(api_url);
    endpoint.api_url = api_url;
    endpoint.rate_limit = 0;
    common::registry::ClientOptions options;
    options.backoff_base = std::chrono::milliseconds(50);
    return common::registry::Client(endpoint, *m_http, m_clock, std::move(credential), options);
  }

  // skopeo copy docker://HOST/repo:tag dir:OUT, over plain HTTP, without credentials.
  void pull(const std::string& reference, const std::string& out) {
    TempDir policy_dir;
    const std::string policy =
        policy_dir.write("policy.json", R"({"default":[{"type":"insecureAcceptAnything"}]})");
    // Through env: run_process does not search PATH.
    const auto run =
        run_process({"/usr/bin/env", "skopeo", "--policy", policy, "copy", "--src-tls-verify=false",
                     "--src-no-creds", "docker://" + reference, "dir:" + out},
                    {}, 60);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  }

  common::util::SystemClock m_clock;
  std::unique_ptr<common::http::PocoClient> m_http;
};

TEST_F(FluxPush, PushOnceThenNothingThenPullBackWithSkopeo) {
  const std::string repo = unique_repo("fluxpush/plain");
  const std::string layer = pack(k_tree).value();
  auto registry = client(env("REGISTRY_PLAIN"));

  auto first = push_flux_artifact(registry, repo, "latest", layer, k_annotations);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->pushed);
  EXPECT_EQ(registry.head_digest(repo, "latest").value(), first->manifest_digest);

  auto second = push_flux_artifact(registry, repo, "latest", layer, k_annotations);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->pushed);
  EXPECT_EQ(second->manifest_digest, first->manifest_digest);

  TempDir out;
  ASSERT_NO_FATAL_FAILURE(
      pull(env("REGISTRY_PLAIN_HOST") + "/" + repo + ":latest", out.path() + "/artifact"));
  const std::string dir = out.path() + "/artifact";
  const std::string manifest_text = read_text_file(dir + "/manifest.json");
  EXPECT_EQ(sha256_digest(manifest_text), first->manifest_digest)
      << "skopeo copied the manifest unchanged";
  const json manifest = json::parse(manifest_text);
  EXPECT_EQ(manifest["schemaVersion"], 2);
  EXPECT_EQ(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(manifest["config"]["mediaType"], "application/vnd.cncf.flux.config.v1+json");
  ASSERT_EQ(manifest["layers"].size(), 1u);
  EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/vnd.cncf.flux.content.v1.tar+gzip");
  EXPECT_EQ(manifest["annotations"],
            (json{{"org.opencontainers.image.created", "1970-01-01T00:00:00Z"},
                  {"org.opencontainers.image.source", "https://github.com/acme/deploy"},
                  {"org.opencontainers.image.revision", "main@sha1:0123456789abcdef"}}));
  const std::string layer_digest = manifest["layers"][0]["digest"];
  EXPECT_EQ(layer_digest, sha256_digest(layer));
  EXPECT_EQ(manifest["layers"][0]["size"], layer.size());
  // dir: names blobs by their hex digest.
  const std::string pulled = read_text_file(dir + "/" + layer_digest.substr(7));
  EXPECT_EQ(sha256_digest(pulled), layer_digest);
  auto files = unpack(pulled);
  ASSERT_TRUE(files) << files.error().message;
  common::util::Tree expected = k_tree;
  std::sort(expected.begin(), expected.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  EXPECT_EQ(*files, expected);
  const std::string config_digest = manifest["config"]["digest"];
  const json config = json::parse(read_text_file(dir + "/" + config_digest.substr(7)));
  EXPECT_EQ(config["rootfs"]["diff_ids"][0], common::artifact::tar_digest(layer).value());
}

TEST_F(FluxPush, ChangedContentOrRevisionIsPushed) {
  const std::string repo = unique_repo("fluxpush/changes");
  auto registry = client(env("REGISTRY_PLAIN"));
  const std::string layer = pack(k_tree).value();
  const auto first = push_flux_artifact(registry, repo, "latest", layer, k_annotations).value();
  ASSERT_TRUE(first.pushed);

  Annotations next = k_annotations;
  next.revision = "main@sha1:fedcba9876543210";
  const auto second = push_flux_artifact(registry, repo, "latest", layer, next).value();
  EXPECT_TRUE(second.pushed);
  EXPECT_NE(second.manifest_digest, first.manifest_digest);

  common::util::Tree changed = k_tree;
  changed[1].content += "metadata: {name: web}\n";
  const auto third =
      push_flux_artifact(registry, repo, "latest", pack(changed).value(), next).value();
  EXPECT_TRUE(third.pushed);
  EXPECT_EQ(registry.head_digest(repo, "latest").value(), third.manifest_digest);
  // The first content pushed again gives the first digest again (reproducible).
  const auto again = push_flux_artifact(registry, repo, "latest", layer, k_annotations).value();
  EXPECT_TRUE(again.pushed);
  EXPECT_EQ(again.manifest_digest, first.manifest_digest);
}

TEST_F(FluxPush, BasicAuthRegistry) {
  const std::string repo = unique_repo("fluxpush/basic");
  const std::string layer = pack(k_tree).value();
  auto anonymous = client(env("REGISTRY_BASIC"));
  auto refused = push_flux_artifact(anonymous, repo, "v1", layer, k_annotations);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, common::util::ErrorKind::auth) << refused.error().message;

  auto registry = client(env("REGISTRY_BASIC"),
                         common::credentials::Credential{env("BASIC_USER"), env("BASIC_PASS")});
  auto pushed = push_flux_artifact(registry, repo, "v1", layer, k_annotations);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_TRUE(pushed->pushed);
  auto again = push_flux_artifact(registry, repo, "v1", layer, k_annotations);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->pushed);
  EXPECT_EQ(again->manifest_digest, pushed->manifest_digest);
}

TEST_F(FluxPush, TokenRegistryAsksForPullAndPush) {
  const std::string repo = unique_repo("fluxpush/token");
  const std::string layer = pack(k_tree).value();
  auto registry = client(env("REGISTRY_TOKEN"),
                         common::credentials::Credential{env("TOKEN_USER"), env("TOKEN_PASS")});
  auto pushed = push_flux_artifact(registry, repo, "v1", layer, k_annotations);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_TRUE(pushed->pushed);
  auto again = push_flux_artifact(registry, repo, "v1", layer, k_annotations);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->pushed);

  // The token log: push operations asked for pull,push on this repository, and got it.
  bool asked_push = false;
  for (const std::string& line : read_lines(env("TOKEN_LOG"))) {
    const json entry = json::parse(line, nullptr, false);
    if (!entry.is_object() || !entry.contains("scopes")) {
      continue;
    }
    for (const auto& scope : entry["scopes"]) {
      if (scope == "repository:" + repo + ":pull,push") {
        asked_push = true;
        EXPECT_EQ(entry["status"], 200);
        EXPECT_EQ(entry["user"], env("TOKEN_USER"));
      }
    }
  }
  EXPECT_TRUE(asked_push) << "no token request with scope repository:" << repo << ":pull,push";
}

TEST_F(FluxPush, AnonymousPullOnlyTokenCannotPush) {
  const std::string repo = unique_repo("fluxpush/anon");
  auto registry = client(env("REGISTRY_TOKEN_ANON"));
  auto refused = push_flux_artifact(registry, repo, "v1", pack(k_tree).value(), k_annotations);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, common::util::ErrorKind::auth) << refused.error().message;
}

} // namespace
} // namespace it
