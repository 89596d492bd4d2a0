// Flux's OCI artifact format built from a layer, and the push that only writes when the
// content changed, against the scripted registry of tests/registry.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/image/digest.hpp"
#include "common/oci/flux_artifact.hpp"
#include "common/util/clock.hpp"

#include "tests/registry/fake_http.hpp"

namespace common::oci {
namespace {

using nlohmann::json;
using registry::testing::FakeHttp;
using registry::testing::k_base;
using registry::testing::response;
using util::ErrorKind;

std::string layer(const std::string& content = "kind: Deployment\n") {
  return artifact::pack({{"deploy.yaml", content, false}}).value();
}

const Annotations k_annotations{"https://github.com/acme/deploy", "main@sha1:0123abcd", {}};

TEST(BuildFluxArtifact, TheManifestIsFluxsFormatWithSortedKeys) {
  const std::string l = layer();
  auto built = build_flux_artifact(l, k_annotations);
  ASSERT_TRUE(built) << built.error().message;
  const std::string expected =
      R"({"annotations":{"org.opencontainers.image.created":"1970-01-01T00:00:00Z",)"
      R"("org.opencontainers.image.revision":"main@sha1:0123abcd",)"
      R"("org.opencontainers.image.source":"https://github.com/acme/deploy"},)"
      R"("config":{"digest":")" +
      built->config_digest +
      R"(","mediaType":"application/vnd.cncf.flux.config.v1+json",)"
      R"("size":)" +
      std::to_string(built->config.size()) +
      R"(},)"
      R"("layers":[{"digest":")" +
      image::sha256_digest(l) +
      R"(","mediaType":"application/vnd.cncf.flux.content.v1.tar+gzip","size":)" +
      std::to_string(l.size()) +
      R"(}],)"
      R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})";
  EXPECT_EQ(built->manifest, expected);
  EXPECT_EQ(built->manifest_digest, image::sha256_digest(built->manifest));
  EXPECT_EQ(built->layer_digest, image::sha256_digest(l));

  const std::string diff_id = artifact::tar_digest(l).value();
  EXPECT_EQ(built->config, R"({"architecture":"","config":{},"created":"1970-01-01T00:00:00Z",)"
                           R"("history":[{"created":"1970-01-01T00:00:00Z"}],"os":"",)"
                           R"("rootfs":{"diff_ids":[")" +
                               diff_id + R"("],"type":"layers"}})");
  EXPECT_EQ(built->config_digest, image::sha256_digest(built->config));
}

TEST(BuildFluxArtifact, SameInputsSameDigests) {
  const auto a = build_flux_artifact(layer(), k_annotations).value();
  const auto b = build_flux_artifact(layer(), k_annotations).value();
  EXPECT_EQ(a.manifest, b.manifest);
  EXPECT_EQ(a.manifest_digest, b.manifest_digest);
  Annotations other = k_annotations;
  other.revision = "main@sha1:ffff";
  const auto c = build_flux_artifact(layer(), other).value();
  EXPECT_NE(c.manifest_digest, a.manifest_digest);
  EXPECT_EQ(c.layer_digest, a.layer_digest);
  EXPECT_NE(build_flux_artifact(layer("x"), k_annotations).value().manifest_digest,
            a.manifest_digest);
}

TEST(BuildFluxArtifact, EmptyAnnotationsAreLeftOutAndCreatedIsChecked) {
  auto built = build_flux_artifact(layer(), Annotations{});
  ASSERT_TRUE(built);
  const json annotations = json::parse(built->manifest)["annotations"];
  EXPECT_EQ(annotations, (json{{"org.opencontainers.image.created", "1970-01-01T00:00:00Z"}}));

  Annotations now;
  now.created = "2025-01-02T03:04:05Z";
  auto stamped = build_flux_artifact(layer(), now);
  ASSERT_TRUE(stamped);
  EXPECT_EQ(json::parse(stamped->config)["created"], "2025-01-02T03:04:05Z");

  now.created = "yesterday";
  EXPECT_EQ(build_flux_artifact(layer(), now).error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(build_flux_artifact("not gzip", Annotations{}).error().kind, ErrorKind::invalid_input);
}

// ---- push
// -----------------------------------------------------------------------------------------

const std::string k_repo_url = std::string(k_base) + "/v2/acme/deploy";

class PushFluxArtifact : public ::testing::Test {
protected:
  util::FakeClock clock;
  FakeHttp fake{clock};
  registry::Client client{registry::testing::test_endpoint(), fake, clock, std::nullopt,
                          registry::testing::test_options()};

  // An empty registry that accepts uploads and manifests.
  void accept_pushes() {
    fake.on("POST", k_repo_url + "/blobs/uploads/",
            response(202, "", {{"Location", "/v2/acme/deploy/blobs/uploads/u"}}));
  }
  void accept_blob(const std::string& digest) {
    fake.on("HEAD", k_repo_url + "/blobs/" + digest, response(404));
    fake.on("PUT", k_repo_url + "/blobs/uploads/u?digest=sha256%3A" + digest.substr(7),
            response(201));
  }
  std::size_t puts() const { return fake.count(k_repo_url, "PUT"); }
};

TEST_F(PushFluxArtifact, PushesBlobsThenTheManifest) {
  const std::string l = layer();
  const FluxArtifact built = build_flux_artifact(l, k_annotations).value();
  fake.on("GET", k_repo_url + "/manifests/latest", response(404));
  accept_pushes();
  accept_blob(built.config_digest);
  accept_blob(built.layer_digest);
  fake.on("PUT", k_repo_url + "/manifests/latest", response(201));
  auto pushed = push_flux_artifact(client, "acme/deploy", "latest", l, k_annotations);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_TRUE(pushed->pushed);
  EXPECT_EQ(pushed->manifest_digest, built.manifest_digest);
  EXPECT_EQ(puts(), 3u);
  // The manifest went last, with its media type.
  const auto sent = fake.sent();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().request.url, k_repo_url + "/manifests/latest");
  EXPECT_EQ(sent.back().request.body, built.manifest);
  EXPECT_EQ(registry::testing::header(sent.back().request.headers, "Content-Type"),
            std::string(registry::k_oci_manifest));
  EXPECT_TRUE(fake.unmatched().empty());
}

TEST_F(PushFluxArtifact, BlobsAlreadyThereAreNotUploaded) {
  const std::string l = layer();
  const FluxArtifact built = build_flux_artifact(l, k_annotations).value();
  fake.on("GET", k_repo_url + "/manifests/latest", response(404));
  fake.on("HEAD", k_repo_url + "/blobs/" + built.config_digest, response(200));
  fake.on("HEAD", k_repo_url + "/blobs/" + built.layer_digest, response(200));
  fake.on("PUT", k_repo_url + "/manifests/latest", response(201));
  auto pushed = push_flux_artifact(client, "acme/deploy", "latest", l, k_annotations);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_TRUE(pushed->pushed);
  EXPECT_EQ(fake.count(k_repo_url + "/blobs/uploads/"), 0u);
  EXPECT_EQ(puts(), 1u);
}

TEST_F(PushFluxArtifact, TheSameContentUnderTheTagIsNotPushedAgain) {
  const std::string l = layer();
  // What a `flux push artifact` without --reproducible would have left: another created time,
  // hence another manifest digest, but the same layer and the same source and revision.
  Annotations at_another_time = k_annotations;
  at_another_time.created = "2025-06-01T12:00:00Z";
  const FluxArtifact existing = build_flux_artifact(l, at_another_time).value();
  registry::testing::serve_manifest(fake, k_base, "acme/deploy", "latest", existing.manifest,
                                    std::string(registry::k_oci_manifest));
  auto pushed = push_flux_artifact(client, "acme/deploy", "latest", l, k_annotations);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_FALSE(pushed->pushed);
  EXPECT_EQ(pushed->manifest_digest, existing.manifest_digest);
  EXPECT_EQ(puts(), 0u);
  EXPECT_EQ(fake.count(k_repo_url + "/blobs/"), 0u);
}

TEST_F(PushFluxArtifact, AChangedRevisionOrLayerIsPushed) {
  const std::string l = layer();
  Annotations old_revision = k_annotations;
  old_revision.revision = "main@sha1:old";
  for (const FluxArtifact& existing :
       {build_flux_artifact(l, old_revision).value(),
        build_flux_artifact(layer("other content"), k_annotations).value()}) {
    FakeHttp local(clock);
    registry::Client c(registry::testing::test_endpoint(), local, clock, std::nullopt,
                       registry::testing::test_options());
    registry::testing::serve_manifest(local, k_base, "acme/deploy", "latest", existing.manifest,
                                      std::string(registry::k_oci_manifest));
    const FluxArtifact ours = build_flux_artifact(l, k_annotations).value();
    local.on("HEAD", k_repo_url + "/blobs/" + ours.config_digest, response(200));
    local.on("HEAD", k_repo_url + "/blobs/" + ours.layer_digest, response(200));
    local.on("PUT", k_repo_url + "/manifests/latest", response(201));
    auto pushed = push_flux_artifact(c, "acme/deploy", "latest", l, k_annotations);
    ASSERT_TRUE(pushed) << pushed.error().message;
    EXPECT_TRUE(pushed->pushed);
    EXPECT_EQ(pushed->manifest_digest, ours.manifest_digest);
  }
}

TEST_F(PushFluxArtifact, RegistryErrorsAreReturned) {
  fake.on("GET", k_repo_url + "/manifests/latest",
          response(403, R"({"errors":[{"code":"DENIED"}]})"));
  auto pushed = push_flux_artifact(client, "acme/deploy", "latest", layer(), k_annotations);
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().kind, ErrorKind::auth);
  EXPECT_EQ(puts(), 0u);
}

} // namespace
} // namespace common::oci
