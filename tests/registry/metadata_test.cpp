#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/image/digest.hpp"
#include "common/registry/client.hpp"
#include "common/util/clock.hpp"
#include "common/util/time.hpp"

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
const image::Platform k_armv7{"linux", "arm", "v7"};
const image::Platform k_unknown{"unknown", "unknown", ""};

util::Timestamp ts(const char* text) {
  return *util::parse_rfc3339(text);
}

class MetadataTest : public ::testing::Test {
protected:
  util::FakeClock clock;
  FakeHttp fake{clock};
  Client client{testing::test_endpoint(), fake, clock, std::nullopt, testing::test_options()};
  std::string blob_url(const std::string& digest) const {
    return std::string(k_base) + "/v2/acme/app/blobs/" + digest;
  }
};

TEST_F(MetadataTest, ConfigCreated) {
  const auto img = make_image("2024-05-06T07:08:09.123456789Z", k_amd64);
  testing::serve_blob(fake, k_base, "acme/app", img.config_digest, img.config);
  auto created = client.get_config_created("acme/app", img.config_digest);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(*created, ts("2024-05-06T07:08:09.123456789Z"));
}

struct BadConfig {
  std::string body;
  ErrorKind kind;
  std::string error;
};

const BadConfig k_bad_configs[] = {
    {R"({"os":"linux"})", ErrorKind::not_found, "no \"created\""},
    {R"({"created":null})", ErrorKind::not_found, "no \"created\""},
    {R"({"created":"yesterday"})", ErrorKind::invalid_input, "yesterday"},
    {R"({"created":12})", ErrorKind::invalid_input, "not a string"},
    {"\x1f\x8b\x08garbage", ErrorKind::invalid_input, "is not a JSON object"},
};

TEST_F(MetadataTest, BadConfigs) {
  for (const BadConfig& c : k_bad_configs) {
    SCOPED_TRACE(c.body);
    const std::string digest = sha256_digest(c.body);
    testing::serve_blob(fake, k_base, "acme/app", digest, c.body);
    auto created = client.get_config_created("acme/app", digest);
    ASSERT_FALSE(created.has_value());
    EXPECT_EQ(created.error().kind, c.kind);
    EXPECT_NE(created.error().message.find(c.error), std::string::npos) << created.error().message;
  }
  // Content that does not hash to the digest asked for.
  const std::string digest = "sha256:" + std::string(64, 'e');
  testing::serve_blob(fake, k_base, "acme/app", digest, R"({"created":"2024-01-01T00:00:00Z"})");
  auto created = client.get_config_created("acme/app", digest);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(created.error().message.find("digest mismatch"), std::string::npos);
}

TEST_F(MetadataTest, BlobRedirectToAnotherHostCarriesNoAuthorization) {
  const auto img = make_image("2024-01-01T00:00:00Z", k_amd64);
  Client authed(testing::test_endpoint(), fake, clock, credentials::Credential{"alice", "s3cret"},
                testing::test_options());
  const std::string storage = "https://storage.example/blobs/abc?X-Amz-Signature=secret";
  // The registry asks for Basic auth, then redirects the blob to storage, relative the second
  // time (same origin, keeps the Authorization), then absolute to another host.
  fake.handle("GET", blob_url(img.config_digest), [&](const http::Request& r) {
    if (!testing::header(r.headers, "Authorization")) {
      return util::Result<http::Response>(
          response(401, "", {{"WWW-Authenticate", R"(Basic realm="r")"}}));
    }
    return util::Result<http::Response>(
        response(307, "", {{"Location", "/v2/acme/app/blobs/moved"}}));
  });
  fake.on("GET", std::string(k_base) + "/v2/acme/app/blobs/moved",
          response(302, "", {{"Location", storage}}));
  fake.on("GET", storage, response(200, img.config));
  auto created = authed.get_config_created("acme/app", img.config_digest);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(*created, ts("2024-01-01T00:00:00Z"));
  const auto sent = fake.sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_TRUE(testing::header(sent[1].request.headers, "Authorization").has_value());
  EXPECT_TRUE(testing::header(sent[2].request.headers, "Authorization").has_value());
  EXPECT_EQ(sent[3].request.url, storage);
  EXPECT_FALSE(testing::header(sent[3].request.headers, "Authorization").has_value());
}

TEST_F(MetadataTest, RedirectLimitsAndDowngrade) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  fake.on("GET", blob_url(digest), response(307, "", {{"Location", "/loop"}}));
  fake.on("GET", std::string(k_base) + "/loop", response(307, "", {{"Location", "/loop"}}));
  auto created = client.get_config_created("acme/app", digest);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().kind, ErrorKind::too_large);
  EXPECT_NE(created.error().message.find("redirects"), std::string::npos);

  const std::string other = "sha256:" + std::string(64, 'b');
  fake.on("GET", blob_url(other),
          response(302, "", {{"Location", "http://storage.example/x?sig=secret"}}));
  created = client.get_config_created("acme/app", other);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(created.error().message.find("plain HTTP"), std::string::npos);
  EXPECT_EQ(created.error().message.find("secret"), std::string::npos);

  const std::string third = "sha256:" + std::string(64, 'c');
  fake.on("GET", blob_url(third), response(302));
  created = client.get_config_created("acme/app", third);
  ASSERT_FALSE(created.has_value());
  EXPECT_NE(created.error().message.find("without a Location"), std::string::npos);
}

struct PlatformCase {
  std::vector<image::Platform> wanted;
  std::string created; // "" = not_found
  std::string platform;
};

// Children: amd64 2024-01-01, arm64/v8 2024-03-01, arm/v7 2024-02-01, unknown/unknown 2025.
const PlatformCase k_platform_cases[] = {
    {{k_amd64}, "2024-01-01T00:00:00Z", "linux/amd64"},
    {{{"linux", "arm64", ""}}, "2024-03-01T00:00:00Z", "linux/arm64/v8"}, // no variant: any
    {{k_arm64v8}, "2024-03-01T00:00:00Z", "linux/arm64/v8"},
    {{{"linux", "arm64", "v9"}}, "", ""}, // a variant must match exactly
    {{{"linux", "arm", "v6"}}, "", ""},
    {{{"linux", "arm", ""}}, "2024-02-01T00:00:00Z", "linux/arm/v7"},
    {{k_amd64, k_armv7}, "2024-02-01T00:00:00Z", "linux/arm/v7"}, // newest among matches
    {{}, "2024-03-01T00:00:00Z", "linux/arm64/v8"},               // all, but not unknown/unknown
    {{{"windows", "amd64", ""}}, "", ""},
};

TEST_F(MetadataTest, CreatedForIndexSelectsPlatformsAndTakesNewest) {
  const auto amd = make_image("2024-01-01T00:00:00Z", k_amd64);
  const auto arm64 = make_image("2024-03-01T00:00:00Z", k_arm64v8);
  const auto armv7 = make_image("2024-02-01T00:00:00Z", k_armv7);
  const auto attest = make_image("2025-01-01T00:00:00Z", k_unknown);
  const std::string index =
      make_index({{amd, k_amd64}, {arm64, k_arm64v8}, {armv7, k_armv7}, {attest, k_unknown}});
  testing::serve_manifest(fake, k_base, "acme/app", "1.0", index, std::string(k_oci_index));
  for (const auto* img : {&amd, &arm64, &armv7, &attest}) {
    testing::serve_image(fake, k_base, "acme/app", img->digest, *img);
  }
  for (const PlatformCase& c : k_platform_cases) {
    std::string name;
    for (const auto& p : c.wanted) {
      name += p.to_string() + " ";
    }
    SCOPED_TRACE(name);
    const std::size_t before = fake.sent().size();
    auto info = client.created_for("acme/app", "1.0", c.wanted);
    if (c.created.empty()) {
      ASSERT_FALSE(info.has_value());
      EXPECT_EQ(info.error().kind, ErrorKind::not_found);
      EXPECT_NE(info.error().message.find(
                    "it has linux/amd64, linux/arm64/v8, linux/arm/v7, unknown/unknown"),
                std::string::npos)
          << info.error().message;
      EXPECT_EQ(fake.sent().size(), before + 1) << "only the index is fetched";
      continue;
    }
    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_EQ(info->created, ts(c.created.c_str()));
    EXPECT_EQ(info->platform, c.platform);
    EXPECT_EQ(info->digest, sha256_digest(index));
  }
  // Children that do not match are never fetched.
  EXPECT_EQ(fake.count(std::string(k_base) + "/v2/acme/app/manifests/" + attest.digest), 0u);
  EXPECT_EQ(fake.count(blob_url(attest.config_digest)), 0u);
}

TEST_F(MetadataTest, CreatedForTiesKeepIndexOrder) {
  const auto a = make_image("2024-01-01T00:00:00Z", k_amd64);
  const auto b = make_image("2024-01-01T00:00:00Z", k_arm64v8);
  const std::string index = make_index({{a, k_amd64}, {b, k_arm64v8}}, true);
  testing::serve_manifest(fake, k_base, "acme/app", "tie", index, std::string(k_docker_list));
  testing::serve_image(fake, k_base, "acme/app", a.digest, a);
  testing::serve_image(fake, k_base, "acme/app", b.digest, b);
  auto info = client.created_for("acme/app", "tie", {});
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->platform, "linux/amd64");
}

TEST_F(MetadataTest, CreatedForSingleImageChecksItsPlatform) {
  const auto img = make_image("2023-06-01T00:00:00Z", k_arm64v8);
  testing::serve_image(fake, k_base, "acme/app", "v2", img);
  auto info = client.created_for("acme/app", "v2", {{"linux", "arm64", ""}});
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->created, ts("2023-06-01T00:00:00Z"));
  EXPECT_EQ(info->digest, img.digest);
  EXPECT_EQ(info->platform, "linux/arm64/v8");

  info = client.created_for("acme/app", "v2", {k_amd64});
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().kind, ErrorKind::not_found);
  EXPECT_NE(info.error().message.find("is linux/arm64/v8, which matches none of linux/amd64"),
            std::string::npos)
      << info.error().message;

  // A config without a platform (an artifact, a chart) is not filtered.
  const auto bare = make_image("2023-01-01T00:00:00Z", {"", "", ""});
  testing::serve_image(fake, k_base, "acme/app", "chart", bare);
  info = client.created_for("acme/app", "chart", {k_amd64});
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->platform, "");

  const auto undated = make_image("", k_amd64);
  testing::serve_image(fake, k_base, "acme/app", "undated", undated);
  info = client.created_for("acme/app", "undated", {k_amd64});
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().kind, ErrorKind::not_found);
}

} // namespace
} // namespace common::registry
