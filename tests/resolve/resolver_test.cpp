// resolve_all over a fake TagSource: results in spec order whatever the parallelism, per-image
// errors, and newest-build's build times (platform misses skipped, other failures reported).
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/resolve/resolver.hpp"
#include "common/spec/loader.hpp"

#include "tests/support/fake_tag_source.hpp"

namespace common::resolve {
namespace {

// The shared fake (tests/support) as these tests want it: five tags everywhere; created time =
// the tag's position; "broken" repositories fail; "noarch-1" has no build time for any platform
// (not_found); list_tags sleeps a little so that threads overlap.
struct FakeSource : tests::FakeTagSource {
  FakeSource() {
    default_tags = {"1.0.0", "1.2.0", "noarch-1", "2.0.0", "1.10.0"};
    created_at = {{"1.0.0", 1000}, {"1.2.0", 5000}, {"2.0.0", 3000}, {"1.10.0", 4000}};
    failing.emplace("/broken", util::Error(util::ErrorKind::transient, "the registry is down"));
    delay = std::chrono::microseconds(200);
  }
  void fail_created_for(const std::string& tag) {
    failing_created.emplace(
        tag, util::Error(util::ErrorKind::transient, "config of " + tag + " timed out"));
  }
};

std::vector<spec::ImageUpdater> load(const std::string& yaml) {
  auto loaded = spec::parse_stream(yaml, "test.yaml");
  EXPECT_FALSE(spec::has_errors(loaded.diagnostics));
  return std::move(loaded.updaters);
}

std::string updater(const std::string& name, const std::vector<std::string>& images,
                    const std::string& argocd_extra = "") {
  std::string y =
      "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nmetadata: {name: " + name +
      ", namespace: ns}\nspec:\n  kind: argocd\n  images:\n";
  for (const auto& i : images) {
    y += "  - \"" + i + "\"\n";
  }
  y += "  argocd:\n    app: {name: " + name + "}\n" + argocd_extra + "---\n";
  return y;
}

TEST(ResolveAll, SameResultsInSpecOrderWhateverTheParallelism) {
  std::string yaml;
  for (int u = 0; u < 6; ++u) {
    yaml += updater("u" + std::to_string(u),
                    {"a=ghcr.io/acme/app" + std::to_string(u) + ":^1.0",
                     "b=ghcr.io/acme/broken" + std::to_string(u), "c=nginx:~2"});
  }
  const auto updaters = load(yaml);
  ASSERT_EQ(updaters.size(), 6u);
  std::vector<std::vector<std::string>> runs;
  for (const std::size_t jobs : {1u, 3u, 8u}) {
    FakeSource source;
    ResolveOptions options;
    options.jobs = jobs;
    const auto results = resolve_all(updaters, source, options);
    ASSERT_EQ(results.size(), 18u);
    std::vector<std::string> flat;
    for (const auto& r : results) {
      flat.push_back(r.updater + " " + r.alias + " " + r.tag + " " + r.digest + " " +
                     (r.error ? r.error->message : "-"));
    }
    runs.push_back(flat);
    EXPECT_EQ(results[0].updater, "ns/u0");
    EXPECT_EQ(results[0].tag, "1.10.0");
    ASSERT_TRUE(results[1].error);
    EXPECT_EQ(results[1].error->message, "the registry is down");
    EXPECT_EQ(results[1].error->kind, util::ErrorKind::transient) << "the source's kind, kept";
    EXPECT_EQ(results[2].tag, "2.0.0");
    EXPECT_EQ(results[17].updater, "ns/u5");
    EXPECT_EQ(results[17].alias, "c");
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

TEST(ResolveAll, NewestBuildSkipsTagsWithoutABuildTimeAndReportsOtherFailures) {
  const auto updaters =
      load(updater("nb", {"app=ghcr.io/acme/app"}, "    update-strategy: {app: newest-build}\n"));
  for (const std::size_t jobs : {1u, 4u}) {
    FakeSource source;
    ResolveOptions options;
    options.jobs = jobs;
    auto results = resolve_all(updaters, source, options);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_FALSE(results[0].error) << results[0].error->message;
    EXPECT_EQ(results[0].tag, "1.2.0") << "created 5000 s, the newest";
    ASSERT_EQ(results[0].warnings.size(), 1u);
    EXPECT_EQ(results[0].warnings[0], "1 tag skipped: no build time for the wanted platforms");

    FakeSource failing;
    failing.fail_created_for("2.0.0");
    results = resolve_all(updaters, failing, options);
    ASSERT_EQ(results.size(), 1u);
    ASSERT_TRUE(results[0].error);
    EXPECT_EQ(results[0].error->message, "config of 2.0.0 timed out");
    EXPECT_EQ(results[0].error->kind, util::ErrorKind::transient);
    EXPECT_EQ(results[0].tag, "");
  }
}

// Each image's error keeps the kind its source gave, so callers decide by kind (retry, exit
// code, HTTP status) and never by the text.
TEST(ResolveAll, ErrorsKeepTheirKind) {
  struct Case {
    std::string image;
    util::ErrorKind kind;
    std::string says;
  };
  const std::vector<Case> cases{
      {"a=ghcr.io/acme/app:^9.0", util::ErrorKind::not_found, ""},
      {"a=ghcr.io/acme/broken:^1.0", util::ErrorKind::transient, "is down"},
  };
  for (const auto& c : cases) {
    const auto updaters = load(updater("k", {c.image}));
    FakeSource source;
    const auto results = resolve_all(updaters, source);
    ASSERT_EQ(results.size(), 1u) << c.image;
    ASSERT_TRUE(results[0].error) << c.image;
    EXPECT_EQ(results[0].error->kind, c.kind) << c.image << ": " << results[0].error->message;
    EXPECT_NE(results[0].error->message.find(c.says), std::string::npos)
        << results[0].error->message;
  }
}

TEST(ResolveAll, NoUpdatersNoWork) {
  FakeSource source;
  EXPECT_TRUE(resolve_all({}, source).empty());
  EXPECT_EQ(source.requests(), 0);
}

} // namespace
} // namespace common::resolve
