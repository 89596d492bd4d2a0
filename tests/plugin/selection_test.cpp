#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/plugin/selection.hpp"
#include "common/spec/loader.hpp"

#include "tests/support/image_result.hpp"

namespace common::plugin {
namespace {

std::vector<spec::ImageUpdater> load(const std::string& yaml) {
  auto loaded = spec::parse_stream(yaml, "specs.yaml");
  EXPECT_FALSE(spec::has_errors(loaded.diagnostics));
  return std::move(loaded.updaters);
}

const char* k_specs = R"(apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: web, namespace: shop}
spec:
  kind: argocd
  images: ["web=nginx:~1.25"]
  argocd: {app: {name: shop-web}}
---
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: other, namespace: shop}
spec:
  kind: argocd
  images: ["x=redis"]
  argocd: {app: {name: shop-db}}
---
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: any, namespace: shop}
spec:
  kind: argocd
  images: ["y=busybox"]
  argocd: {app: {name: cleared-below}}
---
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: flux, namespace: shop}
spec:
  kind: fluxcd
  images: ["z=nginx"]
  fluxcd: {interval: 1m, policy: {semver: {range: "1.x"}}}
)";

// A spec naming no app (possible for a model built in code; the validator asks for one).
std::vector<spec::ImageUpdater> specs() {
  auto all = load(k_specs);
  all[2].argocd->app.name.clear();
  return all;
}

TEST(SelectForApp, KeepsTheAppsAndTheUnnamedAndSaysWhyForTheRest) {
  const auto s = select_for_app(specs(), "shop-web");
  ASSERT_EQ(s.updaters.size(), 2u);
  EXPECT_EQ(s.updaters[0].metadata.name, "web");
  EXPECT_EQ(s.updaters[1].metadata.name, "any");
  EXPECT_EQ(s.skipped, (std::vector<std::string>{
                           "shop/other: for application shop-db, not shop-web",
                           "shop/flux: kind fluxcd (served by imageupdater-flux-source)"}));
  EXPECT_EQ(select_for_app(specs(), "").updaters.size(), 3u) << "no app: every argocd spec";
}

using tests::image_result;

TEST(Fingerprint, SameImagesSameFingerprintWhateverTheOrder) {
  const auto a = image_result("docker.io/library/nginx", "1.25");
  const auto b = image_result("ghcr.io/acme/app", "v2");
  const std::string f = fingerprint({a, b});
  EXPECT_TRUE(f.starts_with("sha256:")) << f;
  EXPECT_EQ(f.size(), 7u + 64u);
  EXPECT_EQ(fingerprint({b, a}), f);
  EXPECT_EQ(fingerprint({a, b, a}), f) << "duplicates count once";
  EXPECT_NE(fingerprint({a, image_result("ghcr.io/acme/app", "v3")}), f);
}

} // namespace
} // namespace common::plugin

namespace common::plugin {
namespace {

TEST(SelectForApp, ComparesTheApplicationsNamespaceWhenTheSpecNamesOne) {
  auto all = load(R"(apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: a}
spec: {kind: argocd, images: ["web=nginx"], argocd: {app: {name: web, namespace: team-a}}}
---
apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata: {name: b}
spec: {kind: argocd, images: ["web=nginx"], argocd: {app: {name: web}}}
)");
  const auto in_a = select_for_app(all, "web", "team-a");
  ASSERT_EQ(in_a.updaters.size(), 2u);
  const auto in_b = select_for_app(all, "web", "team-b");
  ASSERT_EQ(in_b.updaters.size(), 1u);
  EXPECT_EQ(in_b.updaters[0].metadata.name, "b");
  ASSERT_EQ(in_b.skipped.size(), 1u);
  EXPECT_NE(in_b.skipped[0].find("for application team-a/web, not team-b/web"), std::string::npos)
      << in_b.skipped[0];
}

TEST(CheckCredentials, OnlyTheApplicationsOwnNamespace) {
  struct Case {
    std::string secret;     // spec.argocd.secret.web
    std::string metadata;   // metadata.namespace, "" = none
    std::string error_part; // "" = allowed
  };
  const std::vector<Case> cases = {
      {"", "", ""},
      {"regcred", "", ""}, // bare: the Application's namespace
      {"pullsecret:team-a/regcred", "", ""},
      {"secret:team-a/creds#token", "", ""},
      {"team-a/regcred", "", ""},
      {"regcred", "team-b", "namespace \"team-b\""}, // the spec's own namespace is not trusted
      {"pullsecret:team-b/regcred", "team-b", "namespace \"team-b\""},
      {"pullsecret:team-b/regcred", "", "namespace \"team-b\""},
      {"secret:kube-system/creds#token", "", "namespace \"kube-system\""},
      {"env:AWS_SECRET_ACCESS_KEY", "", "operator configuration"},
      {"ext:/bin/sh", "", "operator configuration"},
  };
  for (const auto& c : cases) {
    std::string doc = "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
                      "metadata: {name: u" +
                      (c.metadata.empty() ? std::string() : ", namespace: " + c.metadata) +
                      "}\nspec:\n  kind: argocd\n  images: [\"web=nginx\"]\n  argocd:\n"
                      "    app: {name: web}\n";
    if (!c.secret.empty()) {
      doc += "    secret:\n      web: \"" + c.secret + "\"\n";
    }
    auto loaded = spec::parse_stream(doc, "specs.yaml", {}, "team-a");
    if (spec::has_errors(loaded.diagnostics)) {
      // The spec's own validation refuses it first (another namespace than the spec's, env:,
      // ext:): the plugin stops there with the file and line.
      ASSERT_FALSE(c.error_part.empty()) << c.secret;
      continue;
    }
    auto got = check_credentials(loaded.updaters, "team-a");
    if (c.error_part.empty()) {
      EXPECT_TRUE(got) << c.secret << ": " << got.error().message;
      continue;
    }
    ASSERT_FALSE(got) << c.secret;
    EXPECT_NE(got.error().message.find(c.error_part), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find("specs.yaml:"), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find("spec.argocd.secret.web"), std::string::npos)
        << got.error().message;
  }
}

} // namespace
} // namespace common::plugin
