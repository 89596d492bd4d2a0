// GeneratorReconciler over a real SqliteStore and artifact Storage in a temporary directory,
// with fakes for the registry (tags), the source and the OCI pusher.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/generator/reconciler.hpp"
#include "common/image/digest.hpp"
#include "common/log/logger.hpp"
#include "common/status/codec.hpp"
#include "common/store/sqlite_store.hpp"

#include "tests/support/fake_tag_source.hpp"
#include "tests/support/process.hpp"

namespace common::generator {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class FakeSources final : public Sources {
public:
  util::Result<Fetched> fetch(const spec::ImageUpdater&, const std::string& known) override {
    ++calls;
    if (error) {
      return std::unexpected(*error);
    }
    if (!known.empty() && known == revision) {
      ++unchanged;
      return Fetched{"https://git.example/deploy.git", revision, {}, {}, true};
    }
    return Fetched{"https://git.example/deploy.git", revision, files, {}, false};
  }
  int unchanged = 0;
  std::string revision = "main@sha1:" + std::string(40, 'a');
  util::Tree files = {
      {"deployment.yaml",
       "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
       "    spec:\n      containers:\n        - name: web\n"
       "          image: 127.0.0.1:5000/demo/web:0.1.0 # {\"$imagepolicy\": \"demo:web\"}\n",
       false}};
  std::optional<util::Error> error;
  int calls = 0;
};

class FakePusher final : public OciPusher {
public:
  util::Result<oci::PushResult> push(const std::string& reference, std::string_view layer,
                                     const oci::Annotations& annotations) override {
    references.push_back(reference);
    revision = annotations.revision;
    const std::string digest = image::sha256_digest(layer);
    const bool changed = digest != last;
    last = digest;
    return oci::PushResult{"sha256:" + std::string(64, 'f'), changed};
  }
  std::vector<std::string> references;
  std::string revision;
  std::string last;
};

const json k_flux_spec = {{"kind", "fluxcd"},
                          {"images", {"web=127.0.0.1:5000/demo/web"}},
                          {"fluxcd",
                           {{"interval", "2m"},
                            {"policy", {{"semver", {{"range", ">=1.0.0"}}}}},
                            {"sourceRef", {{"url", "https://git.example/deploy.git"}}},
                            {"update", {{"path", "apps"}}}}}};

class GeneratorTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Repositories named "...down..." fail as an outage does.
    m_tags.failing.emplace("down", util::Error(util::ErrorKind::transient, "connection refused"));
    auto opened = store::SqliteStore::open(m_dir.path() + "/db", m_clock);
    ASSERT_TRUE(opened) << opened.error().message;
    m_store = std::move(*opened);
    m_storage = std::make_unique<artifact::Storage>(m_dir.path() + "/artifacts", m_clock);
    GeneratorOptions options;
    options.artifact_base_url = "http://svc.example";
    options.external_artifacts_dir = m_dir.path() + "/ea";
    options.oci_allowed = {{"demo", {"127.0.0.1:5000/flux"}}};
    m_reconciler = std::make_unique<GeneratorReconciler>(*m_store, m_tags, m_sources, *m_storage,
                                                         &m_pusher, m_clock, nullptr, options);
  }
  void create(const std::string& name, const json& spec,
              std::map<std::string, std::string> annotations = {}) {
    store::Object o;
    o.key = {"demo", name};
    o.spec_json = spec.dump();
    o.status_json = "{}";
    o.annotations = std::move(annotations);
    ASSERT_TRUE(m_store->create(o));
  }
  json status(const std::string& name) {
    const std::string text = m_store->get({"demo", name})->status_json;
    if (text != "{}") {
      auto typed = status::decode(text); // what is written reads back strictly
      EXPECT_TRUE(typed) << typed.error().message;
    }
    return json::parse(text);
  }
  util::Tree published(const json& s) {
    auto file = m_storage->open(s["artifact"]["path"].get<std::string>());
    EXPECT_TRUE(file) << file.error().message;
    auto bytes = file->read_all();
    auto files = artifact::unpack(*bytes);
    EXPECT_TRUE(files) << files.error().message;
    return *files;
  }

  test_support::TempDir m_dir;
  util::FakeClock m_clock;
  std::unique_ptr<store::SqliteStore> m_store;
  std::unique_ptr<artifact::Storage> m_storage;
  tests::FakeTagSource m_tags;
  FakeSources m_sources;
  FakePusher m_pusher;
  std::unique_ptr<GeneratorReconciler> m_reconciler;
};

TEST_F(GeneratorTest, PublishesTheRenderedSourceAndDescribesIt) {
  create("web", k_flux_spec);
  auto next = m_reconciler->reconcile({"demo", "web"});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(*next, std::chrono::nanoseconds(2min));
  const json s = status("web");
  ASSERT_EQ(s["conditions"][0]["status"], "True") << s.dump(2);
  EXPECT_EQ(s["conditions"][0]["reason"], "Succeeded");
  EXPECT_EQ(s["images"][0]["tag"], "1.2.0");
  EXPECT_EQ(s["source"]["revision"], m_sources.revision);
  const json& a = s["artifact"];
  const std::string digest = a["digest"];
  EXPECT_EQ(a["revision"], "latest@" + digest);
  EXPECT_EQ(a["path"], "externalartifact/demo/web/" + digest.substr(7) + ".tar.gz");
  EXPECT_EQ(a["url"], "http://svc.example/" + a["path"].get<std::string>());
  EXPECT_EQ(a["metadata"]["org.opencontainers.image.revision"], m_sources.revision);
  EXPECT_EQ(s["externalArtifact"]["kind"], "ExternalArtifact");
  EXPECT_TRUE(std::filesystem::exists(m_dir.path() + "/ea/demo/web.yaml"));
  const util::Tree files = published(s);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files[0].content.find("image: 127.0.0.1:5000/demo/web:1.2.0 # {"), std::string::npos)
      << files[0].content;
  EXPECT_TRUE(m_pusher.references.empty()) << "no OCI target given";
}

TEST_F(GeneratorTest, UnchangedInputsPublishNothingNewAndANewTagDoes) {
  create("web", k_flux_spec, {{std::string(k_oci_annotation), "127.0.0.1:5000/flux/web"}});
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "web"}));
  const json first = status("web");
  ASSERT_EQ(m_pusher.references, std::vector<std::string>{"127.0.0.1:5000/flux/web:latest"});
  EXPECT_EQ(first["oci"]["repository"], "127.0.0.1:5000/flux/web");
  EXPECT_EQ(m_pusher.revision, m_sources.revision);

  m_clock.advance(5min);
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "web"}));
  const json warm = status("web");
  EXPECT_EQ(warm["artifact"], first["artifact"]) << "same revision, same lastUpdateTime";
  EXPECT_EQ(m_pusher.references.size(), 1u) << "warm: no push";
  EXPECT_EQ(m_sources.unchanged, 1) << "warm: the files were not read";
  EXPECT_NE(warm["lastCheckTime"], first["lastCheckTime"]);

  m_tags.default_tags.push_back("1.3.0");
  m_clock.advance(5min);
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "web"}));
  const json bumped = status("web");
  EXPECT_NE(bumped["artifact"]["revision"], first["artifact"]["revision"]);
  EXPECT_NE(published(bumped)[0].content.find("demo/web:1.3.0"), std::string::npos)
      << "same source, new tag: the files are read after all";
  EXPECT_EQ(m_pusher.references.size(), 2u);
}

TEST_F(GeneratorTest, FailuresAreReportedAndTheLastArtifactStays) {
  create("web", k_flux_spec);
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "web"}));
  const json good = status("web");

  m_tags.down = true;
  auto resolve_failed = m_reconciler->reconcile({"demo", "web"});
  ASSERT_FALSE(resolve_failed);
  EXPECT_EQ(resolve_failed.error().kind, util::ErrorKind::transient) << "backed off";
  json s = status("web");
  EXPECT_EQ(s["conditions"][0]["reason"], "ResolveFailed");
  EXPECT_EQ(s["artifact"], good["artifact"]);
  m_tags.down = false;

  m_sources.error = util::Error{util::ErrorKind::auth, "https://git.example/deploy.git: 401"};
  ASSERT_FALSE(m_reconciler->reconcile({"demo", "web"}));
  s = status("web");
  EXPECT_EQ(s["conditions"][0]["reason"], "SourceFailed");
  EXPECT_NE(s["conditions"][0]["message"].get<std::string>().find("401"), std::string::npos);

  m_sources.error = util::Error{util::ErrorKind::invalid_input, "bad url"};
  auto stalled = m_reconciler->reconcile({"demo", "web"});
  ASSERT_TRUE(stalled) << "a failure that needs a change waits for the interval";
  s = status("web");
  ASSERT_EQ(s["conditions"].size(), 2u);
  EXPECT_EQ(s["conditions"][1]["type"], "Stalled");
  m_sources.error.reset();

  m_sources.revision = "main@sha1:" + std::string(40, 'b'); // a new commit with a typo
  m_sources.files[0].content +=
      "        - name: typo\n          image: x:1 # {\"$imagepolicy\": \"demo:wbe\"}\n";
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "web"}));
  s = status("web");
  EXPECT_EQ(s["conditions"][0]["reason"], "UnknownSetter");
  EXPECT_NE(s["conditions"][0]["message"].get<std::string>().find(
                "deployment.yaml:11: marker \"demo:wbe\""),
            std::string::npos)
      << s["conditions"][0]["message"];
  EXPECT_EQ(s["artifact"], good["artifact"]);
}

TEST_F(GeneratorTest, ArgoCdUpdatersGetImageStatusOnlyAndDeletionRemovesArtifacts) {
  create("app", {{"kind", "argocd"},
                 {"images", {"web=127.0.0.1:5000/demo/web:^1.0"}},
                 {"argocd", {{"app", {{"name", "web"}}}}}});
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "app"}));
  EXPECT_EQ(status("app")["images"][0]["tag"], "1.2.0");
  EXPECT_FALSE(status("app").contains("artifact"));
  EXPECT_EQ(m_sources.calls, 0);

  create("web", k_flux_spec);
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "web"}));
  const std::string path = status("web")["artifact"]["path"];
  ASSERT_TRUE(m_store->remove({"demo", "web"}, ""));
  auto gone = m_reconciler->reconcile({"demo", "web"});
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->count(), 0);
  EXPECT_FALSE(m_storage->open(path));
  EXPECT_FALSE(std::filesystem::exists(m_dir.path() + "/ea/demo/web.yaml"));
}

} // namespace
} // namespace common::generator

namespace common::generator {
namespace {

TEST_F(GeneratorTest, AnOciAnnotationOutsideTheNamespacesRepositoriesIsRefused) {
  // The push uses the service's credentials: a tenant must not name another team's repository.
  const std::vector<std::string> refs = {"127.0.0.1:5000/other-team/web",
                                         "127.0.0.1:5000/flux-evil/web", "127.0.0.1:5000/flux",
                                         "registry.example.com/flux/web"};
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const std::string name = "web" + std::to_string(i);
    create(name, k_flux_spec, {{std::string(k_oci_annotation), refs[i]}});
    ASSERT_TRUE(m_reconciler->reconcile({"demo", name}));
    const std::string dump = status(name).dump();
    EXPECT_TRUE(m_pusher.references.empty()) << refs[i];
    EXPECT_NE(dump.find("PushFailed"), std::string::npos) << dump;
    EXPECT_NE(dump.find("is not a repository namespace"), std::string::npos) << dump;
  }
}

// Whether a failed resolve is retried is the table's call on the error's kind (util/outcome.hpp),
// not a rule of the reconciler: no qualifying tag waits for the interval, an outage backs off.
TEST_F(GeneratorTest, ResolveFailuresRetryOrStallByKind) {
  create("web", k_flux_spec);
  m_tags.default_tags = {"0.1.0"}; // nothing satisfies >=1.0.0: not_found
  auto none = m_reconciler->reconcile({"demo", "web"});
  ASSERT_TRUE(none) << "stalled: checked again at the interval, " << none.error().message;
  EXPECT_EQ(*none, std::chrono::nanoseconds(2min));
  json s = status("web");
  ASSERT_EQ(s["conditions"].size(), 2u) << s.dump(2);
  EXPECT_EQ(s["conditions"][0]["reason"], "ResolveFailed");
  EXPECT_EQ(s["conditions"][1]["type"], "Stalled");

  m_tags.down = true; // transient
  auto down = m_reconciler->reconcile({"demo", "web"});
  ASSERT_FALSE(down) << "backed off";
  EXPECT_EQ(down.error().kind, util::ErrorKind::transient);
  s = status("web");
  ASSERT_EQ(s["conditions"].size(), 2u) << s.dump(2);
  EXPECT_EQ(s["conditions"][1]["type"], "Reconciling") << "retried, not stalled";
}

} // namespace
} // namespace common::generator

// The image status of argocd updaters (formerly controller::ImageStatusReconciler's tests).
namespace common::generator {
namespace {

const json k_argo_spec = {{"kind", "argocd"},
                          {"images", {"app=127.0.0.1:5000/demo/app:^1.0"}},
                          {"argocd", {{"app", {{"name", "web"}}}}}};

TEST_F(GeneratorTest, ArgoCdResolvedImagesAndReadyTrue) {
  create("web", k_argo_spec);
  auto next = m_reconciler->reconcile({"demo", "web"});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(*next, std::chrono::nanoseconds(5min));
  const json s = status("web");
  EXPECT_EQ(s["observedGeneration"], 1);
  EXPECT_EQ(s["lastCheckTime"], "2023-11-14T22:13:20Z");
  ASSERT_EQ(s["images"].size(), 1u);
  EXPECT_EQ(s["images"][0]["tag"], "1.2.0");
  EXPECT_EQ(s["images"][0]["alias"], "app");
  EXPECT_EQ(s["images"][0]["strategy"], "semver");
  ASSERT_EQ(s["conditions"].size(), 1u) << s.dump(2);
  EXPECT_EQ(s["conditions"][0]["type"], "Ready");
  EXPECT_EQ(s["conditions"][0]["status"], "True");
  EXPECT_EQ(s["conditions"][0]["reason"], "Resolved");
  EXPECT_EQ(s["conditions"][0]["message"], "1 images resolved");
}

TEST_F(GeneratorTest, ArgoCdFailuresAreReportedAndTransitionTimesKeptWhileUnchanged) {
  create("mixed", {{"kind", "argocd"},
                   {"images", {"app=127.0.0.1:5000/demo/app:^1.0", "db=127.0.0.1:5000/demo/down"}},
                   {"argocd", {{"app", {{"name", "web"}}}}}});
  auto next = m_reconciler->reconcile({"demo", "mixed"});
  ASSERT_TRUE(next) << "argocd: checked again at the interval";
  json s = status("mixed");
  ASSERT_EQ(s["conditions"].size(), 2u) << s.dump(2);
  EXPECT_EQ(s["conditions"][0]["status"], "False");
  EXPECT_EQ(s["conditions"][0]["reason"], "ResolveFailed");
  EXPECT_NE(s["conditions"][0]["message"].get<std::string>().find(
                "1 of 2 images not resolved; first: db: "),
            std::string::npos);
  EXPECT_EQ(s["conditions"][1]["type"], "Reconciling");
  EXPECT_EQ(s["conditions"][1]["status"], "True");
  EXPECT_EQ(s["conditions"][1]["reason"], "ProgressingWithRetry");
  EXPECT_TRUE(s["images"][1].contains("error"));
  EXPECT_FALSE(s["images"][1].contains("tag"));
  EXPECT_EQ(s["images"][0]["tag"], "1.2.0");
  const std::string since = s["conditions"][0]["lastTransitionTime"];

  m_clock.advance(10min);
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "mixed"}));
  s = status("mixed");
  EXPECT_EQ(s["conditions"][0]["lastTransitionTime"], since) << "still False: unchanged";
  EXPECT_NE(s["lastCheckTime"], since);
}

TEST_F(GeneratorTest, AStoredSpecThatNoLongerValidatesIsStalled) {
  create("old", {{"kind", "argocd"}, {"images", {"app=127.0.0.1:5000/demo/app"}}});
  auto next = m_reconciler->reconcile({"demo", "old"});
  ASSERT_TRUE(next) << next.error().message;
  const json s = status("old");
  EXPECT_EQ(s["images"], json::array());
  ASSERT_EQ(s["conditions"].size(), 2u) << s.dump(2);
  EXPECT_EQ(s["conditions"][0]["reason"], "InvalidSpec");
  EXPECT_EQ(s["conditions"][1]["type"], "Stalled");
  EXPECT_EQ(s["conditions"][1]["reason"], "InvalidSpec");
}

TEST_F(GeneratorTest, ADeletedObjectIsDoneAndAConcurrentChangeIsAConflict) {
  auto gone = m_reconciler->reconcile({"demo", "gone"});
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_EQ(gone->count(), 0);

  // A tag source that changes the object while its images are being resolved.
  class Meddler final : public resolve::TagSource {
  public:
    Meddler(store::Store& s, resolve::TagSource& inner) : m_store(s), m_inner(inner) {}
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
    resolve::TagSource& m_inner;
  };
  create("web", k_argo_spec);
  Meddler meddler(*m_store, m_tags);
  GeneratorReconciler meddled(*m_store, meddler, m_sources, *m_storage, nullptr, m_clock, nullptr);
  auto result = meddled.reconcile({"demo", "web"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, util::ErrorKind::conflict);
  EXPECT_EQ(status("web"), json::object()) << "nothing written over the newer object";
}

// Nothing is dropped silently: a deletion that cannot remove the files is returned (the
// controller retries it), an unreadable stored status and a failed ExternalArtifact file are
// logged.
TEST_F(GeneratorTest, ProblemsAreReturnedOrLogged) {
  std::FILE* log_file = std::tmpfile();
  ASSERT_NE(log_file, nullptr);
  log::Logger logger(log_file, m_clock);
  GeneratorOptions options;
  options.artifact_base_url = "http://svc.example";
  options.external_artifacts_dir = m_dir.path() + "/ea";
  GeneratorReconciler reconciler(*m_store, m_tags, m_sources, *m_storage, nullptr, m_clock, &logger,
                                 options);
  const auto logged = [&] {
    std::fflush(log_file);
    std::rewind(log_file);
    std::string text;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, log_file)) {
      text.append(buffer, n);
    }
    return text;
  };

  // The ExternalArtifact file cannot be written (its directory is a file): published anyway,
  // and said so.
  std::filesystem::create_directories(m_dir.path() + "/ea");
  std::ofstream(m_dir.path() + "/ea/demo") << "in the way";
  create("web", k_flux_spec);
  ASSERT_TRUE(reconciler.reconcile({"demo", "web"}));
  EXPECT_EQ(status("web")["conditions"][0]["reason"], "Succeeded");
  EXPECT_NE(logged().find("artifact published with a problem"), std::string::npos) << logged();
  EXPECT_NE(logged().find("cannot create"), std::string::npos) << logged();

  // A stored status this service cannot read is replaced, and said so.
  auto object = m_store->get({"demo", "web"});
  ASSERT_TRUE(
      m_store->replace_status(object->key, object->resource_version, R"({"conditions":"broken"})"));
  ASSERT_TRUE(reconciler.reconcile({"demo", "web"}));
  EXPECT_NE(logged().find("stored status unreadable"), std::string::npos) << logged();
  EXPECT_EQ(status("web")["conditions"][0]["reason"], "Succeeded");

  // Deleted, but the ExternalArtifact file cannot be removed (a non-empty directory is there):
  // the reconcile fails, so the deletion is retried; the artifacts themselves are gone.
  std::filesystem::remove(m_dir.path() + "/ea/demo");
  std::filesystem::create_directories(m_dir.path() + "/ea/demo/web.yaml/x");
  const std::string path = status("web")["artifact"]["path"];
  ASSERT_TRUE(m_store->remove({"demo", "web"}, ""));
  auto gone = reconciler.reconcile({"demo", "web"});
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("cannot remove"), std::string::npos) << gone.error().message;
  EXPECT_FALSE(m_storage->open(path)) << "the artifacts go even so";
  std::filesystem::remove_all(m_dir.path() + "/ea/demo/web.yaml");
  EXPECT_TRUE(reconciler.reconcile({"demo", "web"})) << "retried: done";
  std::fclose(log_file);
}


TEST_F(GeneratorTest, ASuspendedObjectIsLeftAloneUntilResumed) {
  json spec = k_argo_spec;
  spec["suspend"] = true;
  create("web", spec);
  auto next = m_reconciler->reconcile({"demo", "web"});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(*next, std::chrono::nanoseconds(0)); // checked again only when told
  EXPECT_EQ(m_tags.requests(), 0u);
  EXPECT_EQ(m_store->get({"demo", "web"})->status_json, "{}");

  store::Object resumed = *m_store->get({"demo", "web"});
  spec["suspend"] = false;
  resumed.spec_json = spec.dump();
  ASSERT_TRUE(m_store->replace(resumed));
  next = m_reconciler->reconcile({"demo", "web"});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(*next, std::chrono::nanoseconds(5min));
  EXPECT_EQ(status("web")["images"][0]["tag"], "1.2.0");
}

TEST_F(GeneratorTest, TheRequestedAtAnnotationIsAnsweredInStatus) {
  create("web", k_argo_spec, {{"reconcile.fluxcd.io/requestedAt", "2024-05-01T10:00:00Z"}});
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "web"}));
  EXPECT_EQ(status("web")["lastHandledReconcileAt"], "2024-05-01T10:00:00Z");
  create("plain", k_argo_spec);
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "plain"}));
  EXPECT_FALSE(status("plain").contains("lastHandledReconcileAt"));
}

// The interval bounds the age of the registry answers a reconcile uses (issue 16: a tag pushed is
// seen within the interval whatever the shared cache's ttl).
TEST_F(GeneratorTest, TheIntervalIsTheOldestRegistryAnswerAccepted) {
  create("argo", k_argo_spec); // argocd kind: the service's --interval (5m)
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "argo"}));
  ASSERT_FALSE(m_tags.max_ages.empty());
  EXPECT_EQ(m_tags.max_ages.back(), std::chrono::nanoseconds(5min));
  create("flux", k_flux_spec); // fluxcd.interval 2m
  ASSERT_TRUE(m_reconciler->reconcile({"demo", "flux"}));
  EXPECT_EQ(m_tags.max_ages.back(), std::chrono::nanoseconds(2min));
}

} // namespace
} // namespace common::generator
