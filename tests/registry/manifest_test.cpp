#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/image/digest.hpp"
#include "common/registry/client.hpp"
#include "common/util/clock.hpp"

#include "tests/registry/fake_http.hpp"

namespace common::registry {

using image::sha256_digest;

namespace {

using testing::FakeHttp;
using testing::k_base;
using testing::make_image;
using testing::make_index;
using testing::response;
using util::ErrorKind;

const image::Platform k_amd64{"linux", "amd64", ""};
const image::Platform k_arm64v8{"linux", "arm64", "v8"};

class ManifestTest : public ::testing::Test {
protected:
  util::FakeClock clock;
  FakeHttp fake{clock};
  Client client{testing::test_endpoint(), fake, clock, std::nullopt, testing::test_options()};
  std::string url(const std::string& ref) const {
    return std::string(k_base) + "/v2/acme/app/manifests/" + ref;
  }
};

TEST_F(ManifestTest, ImageManifestWithAcceptHeaderAndVerifiedDigest) {
  const auto img = make_image("2024-01-01T00:00:00Z", k_amd64);
  testing::serve_image(fake, k_base, "acme/app", "1.0", img);
  auto m = client.get_manifest("acme/app", "1.0");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->media_type, k_oci_manifest);
  EXPECT_EQ(m->digest, img.digest);
  EXPECT_EQ(m->bytes, img.manifest);
  EXPECT_FALSE(m->is_index());
  ASSERT_TRUE(m->config.has_value());
  EXPECT_EQ(m->config->digest, img.config_digest);
  EXPECT_EQ(m->config->size, static_cast<std::int64_t>(img.config.size()));
  ASSERT_EQ(fake.sent().size(), 1u);
  const auto accept = testing::header(fake.sent()[0].request.headers, "Accept").value_or("");
  for (std::string_view type : {k_oci_manifest, k_oci_index, k_docker_manifest, k_docker_list}) {
    EXPECT_NE(accept.find(type), std::string::npos) << type;
  }
}

TEST_F(ManifestTest, IndexChildrenWithPlatforms) {
  const auto a = make_image("2024-01-01T00:00:00Z", k_amd64);
  const auto b = make_image("2024-01-02T00:00:00Z", k_arm64v8);
  const std::string index = make_index({{a, k_amd64}, {b, k_arm64v8}});
  testing::serve_manifest(fake, k_base, "acme/app", "multi", index, std::string(k_oci_index));
  auto m = client.get_manifest("acme/app", "multi");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_TRUE(m->is_index());
  EXPECT_EQ(m->digest, sha256_digest(index));
  ASSERT_EQ(m->children.size(), 2u);
  EXPECT_EQ(m->children[0].digest, a.digest);
  EXPECT_EQ(m->children[0].media_type, k_oci_manifest);
  EXPECT_EQ(m->children[0].platform, k_amd64);
  EXPECT_EQ(m->children[1].platform, k_arm64v8);
  EXPECT_FALSE(m->config.has_value());
}

TEST_F(ManifestTest, MediaTypeFromContentTypeOrStructure) {
  const auto a = make_image("2024-01-01T00:00:00Z", k_amd64, true);
  // A Docker manifest list without "mediaType" in the body: the header says what it is.
  const std::string list = R"({"schemaVersion":2,"manifests":[{"mediaType":")" +
                           std::string(k_docker_manifest) + R"(","digest":")" + a.digest +
                           R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}}]})";
  testing::serve_manifest(fake, k_base, "acme/app", "list", list,
                          std::string(k_docker_list) + "; charset=utf-8");
  auto m = client.get_manifest("acme/app", "list");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->media_type, k_docker_list);
  ASSERT_EQ(m->children.size(), 1u);
  // Neither: the structure decides.
  const std::string bare =
      R"({"schemaVersion":2,"config":{"digest":")" + a.config_digest + R"("}})";
  testing::serve_manifest(fake, k_base, "acme/app", "bare", bare, "application/json");
  m = client.get_manifest("acme/app", "bare");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->media_type, k_oci_manifest);
}

TEST_F(ManifestTest, DigestComputedWhenHeaderMissing) {
  const auto img = make_image("2024-01-01T00:00:00Z", k_amd64);
  testing::serve_manifest(fake, k_base, "acme/app", "1.0", img.manifest,
                          std::string(k_oci_manifest), false);
  auto m = client.get_manifest("acme/app", "1.0");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->digest, img.digest);
}

TEST_F(ManifestTest, DigestMismatchFails) {
  const auto img = make_image("2024-01-01T00:00:00Z", k_amd64);
  const std::string wrong = "sha256:" + std::string(64, '0');
  fake.on(
      "GET", url("1.0"),
      response(200, img.manifest,
               {{"Content-Type", std::string(k_oci_manifest)}, {"Docker-Content-Digest", wrong}}));
  auto m = client.get_manifest("acme/app", "1.0");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(m.error().message.find("digest mismatch"), std::string::npos);
  EXPECT_NE(m.error().message.find(wrong), std::string::npos);

  // Asking by digest: the content must hash to it even without a header.
  fake.on("GET", url(wrong), response(200, img.manifest));
  m = client.get_manifest("acme/app", wrong);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("digest mismatch"), std::string::npos);

  fake.on("GET", url("bad"),
          response(200, img.manifest, {{"Docker-Content-Digest", "sha256:xyz"}}));
  m = client.get_manifest("acme/app", "bad");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().kind, ErrorKind::invalid_input);
}

struct BadManifest {
  std::string body;
  ErrorKind kind;
  std::string error;
};

const BadManifest k_bad[] = {
    {"{not json", ErrorKind::invalid_input, "is not a JSON object"},
    {"", ErrorKind::invalid_input, "is not a JSON object"},
    {R"({"schemaVersion":1,"name":"acme/app","fsLayers":[]})", ErrorKind::unsupported, "schema 1"},
    {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"})",
     ErrorKind::invalid_input, "without \"manifests\""},
    {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"x"}]})",
     ErrorKind::invalid_input, "malformed child"},
    {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{}})",
     ErrorKind::invalid_input, "no valid config"},
    {R"({"schemaVersion":2,"mediaType":"application/vnd.example.thing"})", ErrorKind::unsupported,
     "neither an image manifest nor an index"},
};

TEST_F(ManifestTest, GarbageManifests) {
  for (const BadManifest& c : k_bad) {
    SCOPED_TRACE(c.body);
    FakeHttp local(clock);
    local.on("GET", url("x"), response(200, c.body));
    Client cl(testing::test_endpoint(), local, clock, std::nullopt, testing::test_options());
    auto m = cl.get_manifest("acme/app", "x");
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().kind, c.kind);
    EXPECT_NE(m.error().message.find(c.error), std::string::npos) << m.error().message;
    EXPECT_NE(m.error().message.find("registry \"test\""), std::string::npos);
  }
}

TEST_F(ManifestTest, NotFoundAndBadReferences) {
  fake.on(
      "GET", url("9.9"),
      response(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})"));
  auto m = client.get_manifest("acme/app", "9.9");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().kind, ErrorKind::not_found);
  EXPECT_NE(m.error().message.find("acme/app:9.9"), std::string::npos);
  EXPECT_NE(m.error().message.find("MANIFEST_UNKNOWN: manifest unknown"), std::string::npos);
  for (const char* bad : {"", ".x", "a/b", "a?b", "sha256:abc"}) {
    SCOPED_TRACE(bad);
    auto r = client.get_manifest("acme/app", bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_EQ(fake.sent().size(), 1u);
}

TEST_F(ManifestTest, HeadDigestUsesHeaderElseGet) {
  const auto a = make_image("2024-01-01T00:00:00Z", k_amd64);
  const auto b = make_image("2024-01-02T00:00:00Z", k_arm64v8);
  const std::string index = make_index({{a, k_amd64}, {b, k_arm64v8}});
  testing::serve_manifest(fake, k_base, "acme/app", "multi", index, std::string(k_oci_index));
  auto d = client.head_digest("acme/app", "multi");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(*d, sha256_digest(index));
  EXPECT_EQ(fake.count(url("multi"), "HEAD"), 1u);
  EXPECT_EQ(fake.count(url("multi"), "GET"), 0u);
  const auto accept = testing::header(fake.sent()[0].request.headers, "Accept").value_or("");
  EXPECT_NE(accept.find(k_oci_index), std::string::npos);

  // digest_for: the index digest, as the digest strategy writes it.
  auto pinned = client.digest_for("acme/app", "multi");
  ASSERT_TRUE(pinned.has_value()) << pinned.error().message;
  EXPECT_EQ(*pinned, "multi@" + sha256_digest(index));

  // No header on HEAD: GET and hash.
  testing::serve_manifest(fake, k_base, "acme/app", "nohdr", a.manifest,
                          std::string(k_oci_manifest), false);
  d = client.head_digest("acme/app", "nohdr");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(*d, a.digest);
  EXPECT_EQ(fake.count(url("nohdr"), "GET"), 1u);

  // HEAD not allowed: GET.
  fake.on("HEAD", url("nohead"), response(405));
  fake.on("GET", url("nohead"), response(200, a.manifest));
  d = client.head_digest("acme/app", "nohead");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(*d, a.digest);

  fake.on("HEAD", url("gone"), response(404));
  d = client.head_digest("acme/app", "gone");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().kind, ErrorKind::not_found);
  EXPECT_EQ(fake.count(url("gone"), "GET"), 0u);
}

} // namespace
} // namespace common::registry
