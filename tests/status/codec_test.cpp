#include <chrono>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/status/codec.hpp"

namespace common::status {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const util::Timestamp k_t0 = util::Timestamp(std::chrono::seconds(1'700'000'000));

ImageUpdaterStatus full() {
  ImageUpdaterStatus s;
  s.observed_generation = 4;
  s.last_check_time = k_t0;
  ImageResult ok;
  ok.alias = "web";
  ok.image = "127.0.0.1:5000/demo/web";
  ok.repository = "127.0.0.1:5000/demo/web";
  ok.strategy = "semver";
  ok.constraint = "^1.0";
  ok.tag = "1.2.0";
  ok.digest = "sha256:" + std::string(64, 'a');
  ok.reason = "highest version of 2 tags satisfying ^1.0";
  ok.warnings = {"tags served from cache"};
  ImageResult bad = ok;
  bad.alias = "db";
  bad.tag = bad.digest = bad.reason = "";
  bad.warnings.clear();
  bad.error = "connection refused";
  s.images = {ok, bad};
  s.conditions = conditions_for({Progress::stalled, "PushFailed", "no"}, 4, k_t0, {});
  s.source = Source{"https://git.example/deploy.git", "main@sha1:" + std::string(40, 'b')};
  s.artifact = Artifact{"externalartifact/demo/web/x.tar.gz",
                        "http://svc/externalartifact/demo/web/x.tar.gz",
                        "latest@sha256:" + std::string(64, 'c'),
                        "sha256:" + std::string(64, 'c'),
                        1234,
                        k_t0 - 1h,
                        {{"org.opencontainers.image.revision", "main@sha1:bbb"}}};
  s.external_artifact = R"({"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"ExternalArtifact"})";
  s.oci = OciPush{"127.0.0.1:5000/flux/web", "latest", "sha256:" + std::string(64, 'f')};
  s.inputs_digest = "sha256:" + std::string(64, 'd');
  s.last_handled_reconcile_at = "2024-05-01T00:00:00Z";
  s.warnings = {"skipped link.yaml: a symlink"};
  return s;
}

TEST(Codec, RoundTripsEveryField) {
  const ImageUpdaterStatus s = full();
  const std::string text = encode(s);
  auto back = decode(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(encode(*back), text) << "deterministic";
}

TEST(Codec, KeepsTheDocumentedShape) {
  // The names users read (docs/spec.md §9), unchanged from the JSON the service wrote before
  // the status had a type.
  const json j = json::parse(encode(full()));
  EXPECT_EQ(j["observedGeneration"], 4);
  EXPECT_EQ(j["lastCheckTime"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j["images"][0], (json{{"alias", "web"},
                                  {"image", "127.0.0.1:5000/demo/web"},
                                  {"repository", "127.0.0.1:5000/demo/web"},
                                  {"strategy", "semver"},
                                  {"constraint", "^1.0"},
                                  {"tag", "1.2.0"},
                                  {"digest", "sha256:" + std::string(64, 'a')},
                                  {"reason", "highest version of 2 tags satisfying ^1.0"},
                                  {"warnings", {"tags served from cache"}}}));
  EXPECT_EQ(j["images"][1]["error"], "connection refused");
  EXPECT_FALSE(j["images"][1].contains("tag"));
  EXPECT_EQ(j["conditions"][0], (json{{"type", "Ready"},
                                      {"status", "False"},
                                      {"reason", "PushFailed"},
                                      {"message", "no"},
                                      {"observedGeneration", 4},
                                      {"lastTransitionTime", "2023-11-14T22:13:20Z"}}));
  EXPECT_EQ(j["conditions"][1]["type"], "Stalled");
  EXPECT_EQ(j["source"]["revision"], "main@sha1:" + std::string(40, 'b'));
  EXPECT_EQ(j["artifact"]["size"], 1234);
  EXPECT_EQ(j["artifact"]["lastUpdateTime"], "2023-11-14T21:13:20Z");
  EXPECT_EQ(j["artifact"]["metadata"]["org.opencontainers.image.revision"], "main@sha1:bbb");
  EXPECT_EQ(j["externalArtifact"]["kind"], "ExternalArtifact");
  EXPECT_EQ(j["oci"]["tag"], "latest");
  EXPECT_EQ(j["inputsDigest"], "sha256:" + std::string(64, 'd'));
  EXPECT_EQ(j["lastHandledReconcileAt"], "2024-05-01T00:00:00Z");
  EXPECT_EQ(j["warnings"][0], "skipped link.yaml: a symlink");
}

TEST(Codec, EmptyStatusAndOptionalParts) {
  for (const char* text : {"", "{}"}) {
    auto s = decode(text);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(*s, ImageUpdaterStatus{});
  }
  EXPECT_EQ(encode(ImageUpdaterStatus{}),
            R"({"conditions":[],"images":[],"observedGeneration":0})");
  auto unknown = decode(R"({"observedGeneration":2,"somethingNew":{"x":1}})");
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_EQ(unknown->observed_generation, 2);
}

TEST(Codec, DecodingIsStrictAboutTypes) {
  struct Case {
    const char* text;
    const char* field; // in the message
  };
  const std::vector<Case> cases = {
      {"[]", "status: want an object"},
      {"{", "status: not JSON"},
      {R"({"observedGeneration":"1"})", "status.observedGeneration: want an integer"},
      {R"({"observedGeneration":-1})", "status.observedGeneration: want a non-negative"},
      {R"({"observedGeneration":1.5})", "status.observedGeneration: want an integer"},
      {R"({"lastCheckTime":"yesterday"})", "status.lastCheckTime: want an RFC 3339 time"},
      {R"({"images":{}})", "status.images: want a list"},
      {R"({"images":[1]})", "status.images[0]: want an object"},
      {R"({"images":[{"alias":"a"},{"tag":7}]})", "status.images[1].tag: want a string"},
      {R"({"images":[{"warnings":["a",2]}]})", "status.images[0].warnings[1]: want a string"},
      {R"({"conditions":[{"type":"Ready","status":"true"}]})",
       "status.conditions[0].status: want True, False or Unknown"},
      {R"({"conditions":[{"status":"True"}]})", "status.conditions[0].type"},
      {R"({"conditions":[{"type":"Ready","status":"True","lastTransitionTime":5}]})",
       "status.conditions[0].lastTransitionTime: want a string"},
      {R"({"source":"git"})", "status.source: want an object"},
      {R"({"artifact":{"size":"1"}})", "status.artifact.size: want an integer"},
      {R"({"artifact":{"metadata":{"k":1}}})", "status.artifact.metadata.k: want a string"},
      {R"({"externalArtifact":[]})", "status.externalArtifact: want an object"},
      {R"({"oci":{"digest":false}})", "status.oci.digest: want a string"},
      {R"({"inputsDigest":1})", "status.inputsDigest: want a string"},
      {R"({"lastHandledReconcileAt":true})", "status.lastHandledReconcileAt: want a string"},
      {R"({"warnings":"x"})", "status.warnings: want a list of strings"},
  };
  for (const Case& c : cases) {
    auto s = decode(c.text);
    ASSERT_FALSE(s) << c.text;
    EXPECT_EQ(s.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(s.error().message.find(c.field), std::string::npos)
        << c.text << " -> " << s.error().message;
  }
}

TEST(Codec, InvalidUtf8IsReplacedNotFatal) {
  ImageUpdaterStatus s;
  s.conditions = conditions_for({Progress::retrying, "SourceFailed", "bad \xff byte"}, 1, k_t0, {});
  const std::string text = encode(s);
  auto back = decode(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->conditions[0].message, "bad \xEF\xBF\xBD byte");
}

} // namespace
} // namespace common::status
