// make_sources(): file:// sources confined per namespace (issue 13: a tenant could read another
// namespace's directory under a shared --source-root).
#include <gtest/gtest.h>

#include "common/generator/source.hpp"
#include "common/spec/loader.hpp"

#include "tests/support/process.hpp"

namespace common::generator {
namespace {

spec::ImageUpdater flux(const std::string& ns, const std::string& url) {
  const std::string doc = "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
                          "metadata: {name: web, namespace: " +
                          ns +
                          "}\nspec:\n  kind: fluxcd\n  images: [\"web=nginx\"]\n  fluxcd:\n"
                          "    interval: 1m\n    policy: {semver: {range: \"1.x\"}}\n"
                          "    sourceRef: {kind: GitRepository, name: d, url: \"" +
                          url + "\"}\n";
  auto loaded = spec::parse_stream(doc, "t.yaml");
  EXPECT_FALSE(spec::has_errors(loaded.diagnostics)) << doc;
  return loaded.updaters.at(0);
}

TEST(LocalSources, ConfinedToTheNamespacesDirectory) {
  test_support::TempDir dir;
  dir.write("shared/team-a/app/deploy.yaml", "kind: A\n");
  dir.write("shared/team-b/app/deploy.yaml", "kind: B\n");
  dir.write("special/deploy.yaml", "kind: S\n");
  SourceSettings settings;
  settings.git_cache_dir = dir.path() + "/git";
  settings.local_roots = {dir.path() + "/shared", "team-c=" + dir.path() + "/special"};
  auto sources = make_sources(settings);
  struct Case {
    std::string ns, url;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"team-a", "file://" + dir.path() + "/shared/team-a/app", true},
      {"team-a", "file://" + dir.path() + "/shared/team-b/app", false},
      {"team-a", "file://" + dir.path() + "/shared/team-a/../team-b/app", false},
      {"team-a", "file://" + dir.path() + "/shared", false},
      {"team-c", "file://" + dir.path() + "/special", true},
      {"team-a", "file://" + dir.path() + "/special", false},
      {"team-c", "file://" + dir.path() + "/shared/team-c", false}, // no such directory
      {"team-a", "file:///etc", false},
  };
  for (const auto& c : cases) {
    auto got = sources->fetch(flux(c.ns, c.url), "");
    EXPECT_EQ(static_cast<bool>(got), c.ok) << c.ns << " " << c.url;
    if (!got && c.url.find("shared/team-c") == std::string::npos) {
      EXPECT_NE(got.error().message.find("is not inside a directory the service allows"),
                std::string::npos)
          << got.error().message;
      EXPECT_EQ(got.error().message.find("kind: B"), std::string::npos);
    }
  }
}

} // namespace
} // namespace common::generator
