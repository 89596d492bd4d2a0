// The engine-agnostic accessors: effective settings of one image.
#include <gtest/gtest.h>

#include "common/spec/loader.hpp"

#include "spec_test_util.hpp"

namespace {

using namespace common::spec;
using common::policy::Order;
using common::policy::SemverDialect;
using common::policy::Strategy;
using spec_test::joined;

const ImageUpdater& only(const LoadResult& r) {
  EXPECT_EQ(r.updaters.size(), 1u) << joined(r.diagnostics);
  return r.updaters.at(0);
}

TEST(Model, ArgoPolicyOptions) {
  auto r = parse_stream(std::string(spec_test::k_head) +
                            "  images:\n"
                            "    - nginx:^1.2\n"
                            "    - app=ghcr.io/acme/app:stable\n"
                            "    - web=ghcr.io/acme/web:^2\n"
                            "    - plain=redis\n"
                            "  argocd:\n"
                            "    app: {name: web}\n"
                            "    update-strategy: {app: digest, web: alphabetical}\n"
                            "    allow-tags: regexp:^v\n"
                            "    ignore-tags: {nginx: \"*-dev, *-rc\"}\n"
                            "    platforms: {app: linux/arm64/v8}\n"
                            "    secret: regcred\n",
                        "m.yaml");
  const ImageUpdater& u = only(r);
  struct Want {
    Strategy strategy;
    std::string constraint;
    std::string allow;
    std::vector<std::string> ignore;
    std::size_t platforms;
  };
  const Want want[] = {
      {Strategy::semver, "^1.2", "regexp:^v", {"*-dev", "*-rc"}, 0},
      {Strategy::digest, "stable", "regexp:^v", {}, 1},
      {Strategy::alphabetical, "", "regexp:^v", {}, 0}, // the constraint is not handed on
      {Strategy::semver, "", "regexp:^v", {}, 0},
  };
  ASSERT_EQ(u.images.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    auto s = image_settings(u, u.images[i]);
    EXPECT_EQ(s.policy.strategy, want[i].strategy) << i;
    EXPECT_EQ(s.policy.constraint, want[i].constraint) << i;
    EXPECT_EQ(s.policy.dialect, SemverDialect::masterminds);
    EXPECT_EQ(s.policy.allow_tags, want[i].allow) << i;
    EXPECT_EQ(s.policy.ignore_tags, want[i].ignore) << i;
    EXPECT_EQ(s.platforms.size(), want[i].platforms) << i;
    EXPECT_EQ(s.credentials, "pullsecret:default/regcred") << i;
    EXPECT_EQ(policy_options(u, u.images[i]).strategy, want[i].strategy);
  }
}

TEST(Model, FluxPolicyOptions) {
  struct Case {
    std::string policy;
    Strategy strategy;
    std::string constraint;
    Order order;
  };
  const Case cases[] = {
      {"{semver: {range: 5.0.x}}", Strategy::semver, "5.0.x", Order::asc},
      {"{alphabetical: {order: desc}}", Strategy::alphabetical, "", Order::desc},
      {"{alphabetical: {}}", Strategy::alphabetical, "", Order::asc},
      {"{numerical: {order: ASC}}", Strategy::numerical, "", Order::asc},
  };
  for (const auto& c : cases) {
    auto r = parse_stream("apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
                          "metadata: {name: p, namespace: flux-system}\n"
                          "spec:\n  kind: fluxcd\n  images: [\"ghcr.io/acme/app:^9\"]\n"
                          "  fluxcd:\n    interval: 5m\n    secret: ghcr\n"
                          "    filterTags: {pattern: '^main-(?P<ts>[0-9]+)$', extract: $ts}\n"
                          "    policy: " +
                              c.policy + "\n",
                          "f.yaml");
    const ImageUpdater& u = only(r);
    auto s = image_settings(u, u.images.at(0));
    EXPECT_EQ(s.policy.strategy, c.strategy) << c.policy;
    EXPECT_EQ(s.policy.constraint, c.constraint) << c.policy; // not the image's "^9"
    EXPECT_EQ(s.policy.order, c.order) << c.policy;
    EXPECT_EQ(s.policy.dialect, SemverDialect::flux);
    EXPECT_EQ(s.policy.filter_pattern, "^main-(?P<ts>[0-9]+)$");
    EXPECT_EQ(s.policy.filter_extract, "$ts");
    EXPECT_EQ(s.policy.allow_tags, "");
    EXPECT_EQ(s.credentials, "pullsecret:flux-system/ghcr");
  }
}

TEST(Model, PerAliasWinsOverDefault) {
  auto r = parse_stream(std::string(spec_test::k_head) + "  images: [a, b]\n"
                                                         "  argocd:\n"
                                                         "    app: {name: web}\n"
                                                         "    update-strategy: {a: newest-build}\n"
                                                         "    ignore-tags: [\"*-dev\"]\n"
                                                         "    platforms: [linux/amd64]\n",
                        "d.yaml");
  const ImageUpdater& u = only(r);
  EXPECT_TRUE(r.diagnostics.empty()) << joined(r.diagnostics);
  EXPECT_EQ(policy_options(u, u.images[0]).strategy, Strategy::newest_build);
  EXPECT_EQ(policy_options(u, u.images[1]).strategy, Strategy::semver);
  EXPECT_EQ(policy_options(u, u.images[1]).ignore_tags, std::vector<std::string>{"*-dev"});
  EXPECT_EQ(image_settings(u, u.images[0]).platforms.size(), 1u);
  EXPECT_EQ(image_settings(u, u.images[0]).credentials, "");
}

TEST(Model, ToString) {
  EXPECT_EQ(to_string(Engine::argocd), "argocd");
  EXPECT_EQ(to_string(Engine::fluxcd), "fluxcd");
  EXPECT_EQ(to_string(WriteMethod::git), "git");
  EXPECT_EQ(to_string(WriteMethod::argocd), "argocd");
}

} // namespace
