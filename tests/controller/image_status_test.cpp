#include <chrono>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/controller/image_status.hpp"
#include "common/store/sqlite_store.hpp"

#include "tests/support/process.hpp"

namespace common::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// "demo/app" has tags; "demo/down" fails like an unreachable registry.
class FakeSource final : public resolve::TagSource {
public:
  util::Result<resolve::TagList> list_tags(const resolve::Target& target) override {
    ++requests;
    if (target.repository.name().find("down") != std::string::npos) {
      return util::fail(util::ErrorKind::transient, "connection refused");
    }
    return resolve::TagList{tags, ""};
  }
  util::Result<util::Timestamp> created(const resolve::Target&, const std::string&,
                                        const std::vector<image::Platform>&) override {
    return util::fail(util::ErrorKind::not_found, "not used");
  }
  util::Result<std::string> digest(const resolve::Target&, const std::string& tag) override {
    return "sha256:" + std::string(64 - tag.size(), '0') + tag;
  }
  std::vector<std::string> tags = {"1.0.0", "1.2.0", "2.0.0"};
  int requests = 0;
};

class ImageStatusTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto opened = store::SqliteStore::open(m_dir.path() + "/db", m_clock);
    ASSERT_TRUE(opened) << opened.error().message;
    m_store = std::move(*opened);
  }
  store::Object create(const std::string& name, const json& spec) {
    store::Object o;
    o.key = {"demo", name};
    o.spec_json = spec.dump();
    o.status_json = "{}";
    auto created = m_store->create(o);
    EXPECT_TRUE(created) << created.error().message;
    return *created;
  }
  json status(const std::string& name) {
    return json::parse(m_store->get({"demo", name})->status_json);
  }

  test_support::TempDir m_dir;
  util::FakeClock m_clock;
  std::unique_ptr<store::SqliteStore> m_store;
  FakeSource m_source;
};

TEST_F(ImageStatusTest, ResolvedImagesAndReadyTrue) {
  create("web", {{"kind", "argocd"},
                 {"images", {"app=127.0.0.1:5000/demo/app:^1.0"}},
                 {"argocd", {{"app", {{"name", "web"}}}}}});
  ImageStatusReconciler r(*m_store, m_source, m_clock);
  auto next = r.reconcile({"demo", "web"});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(*next, std::chrono::nanoseconds(5min));
  const json s = status("web");
  EXPECT_EQ(s["observedGeneration"], 1);
  EXPECT_EQ(s["lastCheckTime"], "2023-11-14T22:13:20Z");
  ASSERT_EQ(s["images"].size(), 1u);
  EXPECT_EQ(s["images"][0]["tag"], "1.2.0");
  EXPECT_EQ(s["images"][0]["alias"], "app");
  EXPECT_EQ(s["images"][0]["strategy"], "semver");
  EXPECT_EQ(s["conditions"][0]["type"], "Ready");
  EXPECT_EQ(s["conditions"][0]["status"], "True");
  EXPECT_EQ(s["conditions"][0]["reason"], "Resolved");
}

TEST_F(ImageStatusTest, FailuresAreReportedAndTransitionTimesKeptWhileUnchanged) {
  create("mixed", {{"kind", "argocd"},
                   {"images", {"app=127.0.0.1:5000/demo/app:^1.0", "db=127.0.0.1:5000/demo/down"}},
                   {"argocd", {{"app", {{"name", "web"}}}}}});
  ImageStatusReconciler r(*m_store, m_source, m_clock);
  ASSERT_TRUE(r.reconcile({"demo", "mixed"}));
  json s = status("mixed");
  EXPECT_EQ(s["conditions"][0]["status"], "False");
  EXPECT_EQ(s["conditions"][0]["reason"], "ResolveFailed");
  EXPECT_NE(s["conditions"][0]["message"].get<std::string>().find("1 of 2 images not resolved"),
            std::string::npos);
  EXPECT_TRUE(s["images"][1].contains("error"));
  EXPECT_EQ(s["images"][0]["tag"], "1.2.0");
  const std::string since = s["conditions"][0]["lastTransitionTime"];

  m_clock.advance(10min);
  ASSERT_TRUE(r.reconcile({"demo", "mixed"}));
  s = status("mixed");
  EXPECT_EQ(s["conditions"][0]["lastTransitionTime"], since) << "still False: unchanged";
  EXPECT_NE(s["lastCheckTime"], since);
}

TEST_F(ImageStatusTest, FluxIntervalDecidesTheNextCheck) {
  create("flux",
         {{"kind", "fluxcd"},
          {"images", {"app=127.0.0.1:5000/demo/app"}},
          {"fluxcd", {{"interval", "90s"}, {"policy", {{"semver", {{"range", ">=1.0.0"}}}}}}}});
  ImageStatusReconciler r(*m_store, m_source, m_clock);
  auto next = r.reconcile({"demo", "flux"});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(*next, std::chrono::nanoseconds(90s));
  EXPECT_EQ(status("flux")["images"][0]["tag"], "2.0.0");
}

TEST_F(ImageStatusTest, DeletedObjectIsDoneAndAConcurrentChangeIsAConflict) {
  ImageStatusReconciler r(*m_store, m_source, m_clock);
  auto gone = r.reconcile({"demo", "gone"});
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->count(), 0);

  // A source that changes the object while its images are being resolved.
  class Meddler final : public resolve::TagSource {
  public:
    Meddler(store::Store& s, FakeSource& inner) : m_store(s), m_inner(inner) {}
    util::Result<resolve::TagList> list_tags(const resolve::Target& t) override {
      auto o = m_store.get({"demo", "web"});
      o->labels["touched"] = "yes";
      EXPECT_TRUE(m_store.replace(*o));
      return m_inner.list_tags(t);
    }
    util::Result<util::Timestamp> created(const resolve::Target& t, const std::string& tag,
                                          const std::vector<image::Platform>& p) override {
      return m_inner.created(t, tag, p);
    }
    util::Result<std::string> digest(const resolve::Target& t, const std::string& tag) override {
      return m_inner.digest(t, tag);
    }

  private:
    store::Store& m_store;
    FakeSource& m_inner;
  };
  create("web", {{"kind", "argocd"},
                 {"images", {"app=127.0.0.1:5000/demo/app"}},
                 {"argocd", {{"app", {{"name", "web"}}}}}});
  Meddler meddler(*m_store, m_source);
  ImageStatusReconciler meddled(*m_store, meddler, m_clock);
  auto result = meddled.reconcile({"demo", "web"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, util::ErrorKind::conflict);
  EXPECT_EQ(status("web"), json::object()) << "nothing written over the newer object";
}

} // namespace
} // namespace common::controller

namespace common::controller {
namespace {

TEST(LoadUpdater, KeepsLabelsAndAnnotations) {
  // The git-secret and oci-repository annotations are read from the loaded model (issue 13: the
  // git secret was dropped, so a correct one failed with "requires authentication").
  store::Object object;
  object.key = {"demo", "web"};
  object.labels = {{"team", "shop"}};
  object.annotations = {{"imageupdater.kubesphere.io/git-secret", "deploy-key"}};
  object.spec_json = R"({"kind":"argocd","images":["nginx"],"argocd":{"app":{"name":"web"}}})";
  const Loaded loaded = load_updater(object);
  ASSERT_TRUE(loaded.updater) << loaded.invalid;
  EXPECT_EQ(loaded.updater->metadata.annotations.at("imageupdater.kubesphere.io/git-secret"),
            "deploy-key");
  EXPECT_EQ(loaded.updater->metadata.labels.at("team"), "shop");
  EXPECT_EQ(loaded.updater->metadata.namespace_, "demo");
}

} // namespace
} // namespace common::controller
