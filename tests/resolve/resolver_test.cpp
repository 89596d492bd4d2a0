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

namespace common::resolve {
namespace {

// Tags per repository name; created time = the tag's position; "broken/*" repositories fail;
// tags starting with "noarch" have no build time for any platform (not_found), "bad" fails.
class FakeSource final : public TagSource {
public:
  util::Result<TagList> list_tags(const Target& target) override {
    ++m_requests;
    std::this_thread::sleep_for(std::chrono::microseconds(200)); // let threads overlap
    const std::string name = target.repository.name();
    if (name.find("/broken") != std::string::npos) {
      return util::fail(util::ErrorKind::transient, "registry of " + name + " is down");
    }
    return TagList{{"1.0.0", "1.2.0", "noarch-1", "2.0.0", "1.10.0"}, ""};
  }
  util::Result<util::Timestamp> created(const Target&, const std::string& tag,
                                        const std::vector<image::Platform>&) override {
    ++m_requests;
    if (tag.starts_with("noarch")) {
      return util::fail(util::ErrorKind::not_found, "no linux/amd64 variant of " + tag);
    }
    if (tag == m_bad_tag) {
      return util::fail(util::ErrorKind::transient, "config of " + tag + " timed out");
    }
    const std::map<std::string, int> order{{"1.0.0", 1}, {"1.2.0", 5}, {"2.0.0", 3}, {"1.10.0", 4}};
    return util::Timestamp{std::chrono::sys_seconds(std::chrono::seconds(order.at(tag) * 1000))};
  }
  util::Result<std::string> digest(const Target&, const std::string& tag) override {
    ++m_requests;
    return "sha256:" + std::string(64 - tag.size(), '0') + tag;
  }
  void fail_created_for(std::string tag) { m_bad_tag = std::move(tag); }
  int requests() const { return m_requests; }

private:
  std::atomic<int> m_requests{0};
  std::string m_bad_tag;
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
    EXPECT_EQ(results[1].error->message, "registry of ghcr.io/acme/broken0 is down");
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
