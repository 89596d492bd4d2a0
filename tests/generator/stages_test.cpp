// The reconcile's stages on their own (common/generator/stages.hpp).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/generator/stages.hpp"
#include "common/util/clock.hpp"

#include "tests/support/process.hpp"

namespace common::generator {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

store::Object object_named(const std::string& name,
                           std::map<std::string, std::string> annotations = {}) {
  store::Object o;
  o.key = {"demo", name};
  o.uid = "uid-1";
  o.generation = 1;
  o.annotations = std::move(annotations);
  o.spec_json = json{{"kind", "fluxcd"},
                     {"images", {"web=127.0.0.1:5000/demo/web"}},
                     {"fluxcd",
                      {{"interval", "2m"},
                       {"policy", {{"semver", {{"range", ">=1.0.0"}}}}},
                       {"sourceRef", {{"url", "https://git.example/deploy.git"}}},
                       {"update", {{"path", "apps"}}}}}}
                    .dump();
  return o;
}

resolve::ImageResult image(const std::string& alias, std::optional<util::Error> error = {}) {
  resolve::ImageResult r;
  r.alias = alias;
  r.image = "127.0.0.1:5000/demo/" + alias;
  r.repository = r.image;
  r.strategy = "semver";
  if (error) {
    r.error = error;
  } else {
    r.tag = "1.2.0";
    r.digest = "sha256:" + std::string(64, 'a');
    r.reason = "highest";
  }
  return r;
}

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
  EXPECT_EQ(interval_of(loaded, 5min), std::chrono::nanoseconds(5min)) << "argocd: the default";
}

TEST(LoadUpdater, InvalidSpecsAndTheFluxInterval) {
  const Loaded flux = load_updater(object_named("web"));
  ASSERT_TRUE(flux.updater) << flux.invalid;
  EXPECT_EQ(interval_of(flux, 5min), std::chrono::nanoseconds(2min));

  store::Object bad = object_named("bad");
  bad.spec_json = "not json";
  const Loaded invalid = load_updater(bad);
  EXPECT_FALSE(invalid.updater);
  EXPECT_TRUE(invalid.invalid.starts_with("the stored spec is not valid")) << invalid.invalid;
  EXPECT_EQ(interval_of(invalid, 5min), std::chrono::nanoseconds(5min));
}

TEST(Resolved, OutcomeAndImagesOfTheResults) {
  struct Case {
    std::vector<resolve::ImageResult> results;
    std::string invalid;
    status::Progress progress;
    std::string reason;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{image("web"), image("db")}, "", status::Progress::ready, "Resolved", "2 images resolved"},
      {{image("web"), image("db", util::Error(util::ErrorKind::transient, "connection refused")),
        image("mq", util::Error(util::ErrorKind::not_found, "no tag"))},
       "",
       status::Progress::retrying,
       "ResolveFailed",
       "2 of 3 images not resolved; first: db: connection refused"},
      // Stalled when no failure can pass by itself (the outcome table: not_found, invalid_input).
      {{image("web", util::Error(util::ErrorKind::not_found, "no tag qualifies")),
        image("db", util::Error(util::ErrorKind::invalid_input, "bad range"))},
       "",
       status::Progress::stalled,
       "ResolveFailed",
       "2 of 2 images not resolved; first: web: no tag qualifies"},
      {{},
       "the stored spec is not valid; x: y",
       status::Progress::stalled,
       "InvalidSpec",
       "the stored spec is not valid; x: y"},
  };
  for (const Case& c : cases) {
    const Resolved r = resolved(c.results, c.invalid);
    EXPECT_EQ(r.outcome.progress, c.progress) << c.reason;
    EXPECT_EQ(r.outcome.reason, c.reason);
    EXPECT_EQ(r.outcome.message, c.message);
    ASSERT_EQ(r.images.size(), c.results.size());
    for (std::size_t i = 0; i < r.images.size(); ++i) {
      EXPECT_EQ(r.images[i].alias, c.results[i].alias);
      EXPECT_EQ(r.images[i].error, c.results[i].error
                                       ? std::optional<std::string>(c.results[i].error->message)
                                       : std::nullopt);
      EXPECT_EQ(r.images[i].tag, c.results[i].tag);
    }
  }
}

TEST(OciTarget, AnnotationPrefixAndRefusals) {
  GeneratorOptions options;
  options.oci_allowed = {{"demo", {"127.0.0.1:5000/flux"}}, {"*", {"registry.example.com/shared"}}};
  struct Case {
    std::string annotation; // "" = none
    std::string prefix;
    std::string want; // target's to_string(), "" = none, "!..." = error containing
  };
  const std::vector<Case> cases = {
      {"", "", ""},
      {"", "127.0.0.1:5000/ops", "127.0.0.1:5000/ops/demo/web:latest"},
      {"127.0.0.1:5000/flux/web", "", "127.0.0.1:5000/flux/web:latest"},
      {"127.0.0.1:5000/flux/web:v1", "", "127.0.0.1:5000/flux/web:v1"},
      {"registry.example.com/shared/web", "", "registry.example.com/shared/web:latest"},
      {"127.0.0.1:5000/ops/demo/web:x", "127.0.0.1:5000/ops", "127.0.0.1:5000/ops/demo/web:x"},
      {"127.0.0.1:5000/ops/other/web", "127.0.0.1:5000/ops", "!is not a repository namespace"},
      {"127.0.0.1:5000/flux", "", "!is not a repository namespace"},
      {"127.0.0.1:5000/flux-evil/web", "", "!is not a repository namespace"},
      {"127.0.0.1:5000/flux/web@sha256:" + std::string(64, 'a'), "", "!names a digest"},
      {"127.0.0.1:5000/Flux/Web", "", "!must be lowercase"},
  };
  for (const Case& c : cases) {
    options.oci_repository_prefix = c.prefix;
    std::map<std::string, std::string> annotations;
    if (!c.annotation.empty()) {
      annotations[std::string(k_oci_annotation)] = c.annotation;
    }
    auto target = oci_target(object_named("web", annotations), options);
    if (c.want.starts_with("!")) {
      ASSERT_FALSE(target) << c.annotation;
      EXPECT_EQ(target.error().kind, util::ErrorKind::invalid_input);
      EXPECT_NE(target.error().message.find(c.want.substr(1)), std::string::npos)
          << target.error().message;
      continue;
    }
    ASSERT_TRUE(target) << c.annotation << ": " << target.error().message;
    EXPECT_EQ(*target ? (*target)->to_string() : "", c.want) << c.annotation;
  }
}

const util::Tree k_files = {
    {"deployment.yaml",
     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
     "    spec:\n      containers:\n        - name: web\n"
     "          image: 127.0.0.1:5000/demo/web:0.1.0 # {\"$imagepolicy\": \"demo:web\"}\n",
     false}};

TEST(Render, RewritesPacksAndSaysWhyNot) {
  const Loaded loaded = load_updater(object_named("web"));
  ASSERT_TRUE(loaded.updater) << loaded.invalid;
  auto targz = render(*loaded.updater, {image("web")}, k_files, "demo");
  ASSERT_TRUE(targz) << targz.error().error.message;
  auto files = artifact::unpack(*targz);
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_NE((*files)[0].content.find("demo/web:1.2.0"), std::string::npos);

  auto missing =
      render(*loaded.updater, {image("web", util::Error(util::ErrorKind::transient, "down"))},
             k_files, "demo");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "ResolveFailed");
  EXPECT_FALSE(missing.error().stalled);

  util::Tree typo = k_files;
  typo[0].content += "        - name: x\n          image: x:1 # {\"$imagepolicy\": \"demo:wbe\"}\n";
  auto unknown = render(*loaded.updater, {image("web")}, typo, "demo");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().reason, "UnknownSetter");
  EXPECT_TRUE(unknown.error().stalled);

  util::Tree broken = {
      {"bad.yaml", "a: [unclosed\n  image: x:1 # {\"$imagepolicy\": \"demo:web\"}\n", false}};
  auto bad = render(*loaded.updater, {image("web")}, broken, "demo");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, "RenderFailed");
  EXPECT_TRUE(bad.error().stalled) << bad.error().error.message;
}

class PublishTest : public ::testing::Test {
protected:
  test_support::TempDir m_dir;
  util::FakeClock m_clock;
  artifact::Storage m_storage{m_dir.path() + "/artifacts", m_clock};
};

TEST_F(PublishTest, DescribesTheArtifactAsTheExternalArtifactDoes) {
  GeneratorOptions options;
  options.artifact_base_url = "http://svc.example";
  options.external_artifacts_dir = m_dir.path() + "/ea";
  const Fetched fetched{"https://git.example/deploy.git", "main@sha1:abc", {}, {}, false};
  const auto now = util::Timestamp(std::chrono::seconds(1'700'000'000)) + 250ms;
  auto first =
      publish(m_storage, options, object_named("web"), fetched, "bytes", std::nullopt, now);
  ASSERT_TRUE(first) << first.error().error.message;
  EXPECT_TRUE(first->problems.empty());
  EXPECT_TRUE(first->stored.changed);
  const json external = json::parse(first->external_artifact);
  const json& a = external["status"]["artifact"];
  EXPECT_EQ(first->artifact.path, a["path"]);
  EXPECT_EQ(first->artifact.url, a["url"]);
  EXPECT_EQ(first->artifact.revision, a["revision"]);
  EXPECT_EQ(first->artifact.digest, a["digest"]);
  EXPECT_EQ(first->artifact.size, a["size"]);
  EXPECT_EQ(util::format_rfc3339(first->artifact.last_update_time), a["lastUpdateTime"]);
  EXPECT_EQ(json(first->artifact.metadata), a["metadata"]);
  EXPECT_TRUE(std::filesystem::exists(m_dir.path() + "/ea/demo/web.yaml"));

  // The same bytes later: not updated, so its time stays.
  auto again =
      publish(m_storage, options, object_named("web"), fetched, "bytes", first->artifact, now + 1h);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->stored.changed);
  EXPECT_EQ(again->artifact, first->artifact);
}

TEST_F(PublishTest, HousekeepingProblemsAreReportedNotFatal) {
  GeneratorOptions options;
  options.external_artifacts_dir = m_dir.path() + "/ea";
  std::filesystem::create_directories(options.external_artifacts_dir);
  std::ofstream(options.external_artifacts_dir + "/demo") << "a file where the directory goes";
  const Fetched fetched{"u", "r", {}, {}, false};
  auto published =
      publish(m_storage, options, object_named("web"), fetched, "bytes", std::nullopt, {});
  ASSERT_TRUE(published) << published.error().error.message;
  ASSERT_EQ(published->problems.size(), 1u);
  EXPECT_NE(published->problems[0].message.find("cannot create"), std::string::npos);
  EXPECT_TRUE(m_storage.open(published->stored.path)) << "stored and served all the same";

  auto refused =
      publish(m_storage, options, object_named("Not_A_Name"), fetched, "b", std::nullopt, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "StorageFailed");
  EXPECT_FALSE(refused.error().stalled);
}

class ScriptedPusher final : public OciPusher {
public:
  util::Result<oci::PushResult> push(const std::string& reference, std::string_view,
                                     const oci::Annotations& annotations) override {
    references.push_back(reference);
    revision = annotations.revision;
    if (error) {
      return std::unexpected(*error);
    }
    return oci::PushResult{"sha256:" + std::string(64, 'f'), true};
  }
  std::optional<util::Error> error;
  std::vector<std::string> references;
  std::string revision;
};

TEST(Push, RecordsWhereAndSaysWhyNot) {
  auto target = image::parse_reference("127.0.0.1:5000/flux/web:latest");
  ASSERT_TRUE(target);
  const Fetched fetched{"u", "main@sha1:abc", {}, {}, false};
  ScriptedPusher pusher;
  auto pushed = push(&pusher, *target, "bytes", fetched);
  ASSERT_TRUE(pushed) << pushed.error().error.message;
  EXPECT_EQ(*pushed, (status::OciPush{"127.0.0.1:5000/flux/web", "latest",
                                      "sha256:" + std::string(64, 'f')}));
  EXPECT_EQ(pusher.references, std::vector<std::string>{"127.0.0.1:5000/flux/web:latest"});
  EXPECT_EQ(pusher.revision, "main@sha1:abc");

  struct Case {
    OciPusher* pusher;
    std::optional<util::Error> error;
    bool stalled;
  };
  ScriptedPusher failing;
  const std::vector<Case> cases = {
      {nullptr, std::nullopt, true},
      {&failing, util::Error{util::ErrorKind::transient, "503"}, false},
      {&failing, util::Error{util::ErrorKind::invalid_input, "no tag"}, true},
  };
  for (const Case& c : cases) {
    failing.error = c.error;
    auto failed = push(c.pusher, *target, "bytes", fetched);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().reason, "PushFailed");
    EXPECT_EQ(failed.error().stalled, c.stalled) << failed.error().error.message;
  }
}

TEST(InputsDigest, ChangesWithEveryInput) {
  const store::Object object = object_named("web");
  const Loaded loaded = load_updater(object);
  ASSERT_TRUE(loaded.updater);
  const Fetched fetched{"u", "r1", {}, {}, false};
  const GeneratorOptions options;
  const std::string base =
      inputs_digest(object, *loaded.updater, fetched, {image("web")}, std::nullopt, options);
  EXPECT_EQ(base,
            inputs_digest(object, *loaded.updater, fetched, {image("web")}, std::nullopt, options));
  store::Object newer = object;
  newer.generation = 2;
  auto target = image::parse_reference("127.0.0.1:5000/flux/web:latest");
  resolve::ImageResult bumped = image("web");
  bumped.tag = "1.3.0";
  GeneratorOptions moved;
  moved.artifact_base_url = "http://elsewhere";
  for (const std::string& other :
       {inputs_digest(newer, *loaded.updater, fetched, {image("web")}, std::nullopt, options),
        inputs_digest(object, *loaded.updater, Fetched{"u", "r2", {}, {}, false}, {image("web")},
                      std::nullopt, options),
        inputs_digest(object, *loaded.updater, fetched, {bumped}, std::nullopt, options),
        inputs_digest(object, *loaded.updater, fetched, {image("web")}, *target, options),
        inputs_digest(object, *loaded.updater, fetched, {image("web")}, std::nullopt, moved)}) {
    EXPECT_NE(other, base);
  }
}

TEST_F(PublishTest, ForgetRemovesBothAndReportsWhatItCannot) {
  GeneratorOptions options;
  options.external_artifacts_dir = m_dir.path() + "/ea";
  EXPECT_TRUE(forget(m_storage, options, {"demo", "never"})) << "nothing there: fine";

  const Fetched fetched{"u", "r", {}, {}, false};
  auto published =
      publish(m_storage, options, object_named("web"), fetched, "bytes", std::nullopt, {});
  ASSERT_TRUE(published);
  ASSERT_TRUE(forget(m_storage, options, {"demo", "web"}));
  EXPECT_FALSE(m_storage.open(published->stored.path));
  EXPECT_FALSE(std::filesystem::exists(options.external_artifacts_dir + "/demo/web.yaml"));

  std::filesystem::create_directories(options.external_artifacts_dir + "/demo/stuck.yaml/x");
  auto stuck = forget(m_storage, options, {"demo", "stuck"});
  ASSERT_FALSE(stuck);
  EXPECT_NE(stuck.error().message.find("stuck.yaml"), std::string::npos);
}

} // namespace
} // namespace common::generator
