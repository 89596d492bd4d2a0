// Pushing: blob existence, monolithic blob uploads (relative, absolute and foreign upload
// locations), manifest PUTs, and the "pull,push" token scope they ask for.
#include <optional>
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
using testing::header;
using testing::k_base;
using testing::response;
using util::ErrorKind;

const std::string k_blob = "layer bytes";
const std::string k_digest = sha256_digest(k_blob);
const std::string k_encoded_digest = "sha256%3A" + k_digest.substr(7);
const std::string k_uploads = std::string(k_base) + "/v2/acme/app/blobs/uploads/";
const std::string k_manifest_url = std::string(k_base) + "/v2/acme/app/manifests/v1";
const credentials::Credential k_alice{"alice", "s3cret"};

class PushTest : public ::testing::Test {
protected:
  util::FakeClock clock;
  FakeHttp fake{clock};

  Client make(std::optional<credentials::Credential> credential = std::nullopt,
              Endpoint endpoint = testing::test_endpoint()) {
    return Client(std::move(endpoint), fake, clock, std::move(credential), testing::test_options());
  }
  // POST answers 202 with `location`; the PUT to `put_url` answers 201.
  void upload_flow(const std::string& location, const std::string& put_url) {
    fake.on("POST", k_uploads, response(202, "", {{"Location", location}}));
    fake.on("PUT", put_url, response(201, "", {{"Docker-Content-Digest", k_digest}}));
  }
  std::vector<testing::Sent> sent(const std::string& method) const {
    std::vector<testing::Sent> out;
    for (const auto& s : fake.sent()) {
      if (s.request.method == method) {
        out.push_back(s);
      }
    }
    return out;
  }
};

TEST_F(PushTest, BlobExists) {
  const std::string url = std::string(k_base) + "/v2/acme/app/blobs/" + k_digest;
  fake.on("HEAD", url, response(200)).on("HEAD", url, response(404));
  Client client = make();
  EXPECT_EQ(client.blob_exists("acme/app", k_digest).value(), true);
  EXPECT_EQ(client.blob_exists("acme/app", k_digest).value(), false);
  EXPECT_EQ(client.blob_exists("acme/app", "sha256:nothex").error().kind, ErrorKind::invalid_input);
  fake.handle("HEAD", url, [](const http::Request&) {
    return util::Result<http::Response>(response(403, R"({"errors":[{"code":"DENIED"}]})"));
  });
  EXPECT_EQ(client.blob_exists("acme/app", k_digest).error().kind, ErrorKind::auth);
}

TEST_F(PushTest, MonolithicUploadToARelativeLocation) {
  upload_flow("/v2/acme/app/blobs/uploads/u1?_state=abc",
              std::string(k_base) +
                  "/v2/acme/app/blobs/uploads/u1?_state=abc&digest=" + k_encoded_digest);
  Client client = make();
  auto pushed = client.push_blob("acme/app", k_digest, k_blob);
  ASSERT_TRUE(pushed) << pushed.error().message;
  const auto puts = sent("PUT");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].request.body, k_blob);
  EXPECT_EQ(header(puts[0].request.headers, "Content-Type"), "application/octet-stream");
  EXPECT_EQ(sent("POST").at(0).request.body, "");
  EXPECT_TRUE(fake.unmatched().empty());
}

TEST_F(PushTest, MonolithicUploadToAnAbsoluteLocationWithoutQuery) {
  upload_flow(std::string(k_base) + "/v2/acme/app/blobs/uploads/u2",
              std::string(k_base) + "/v2/acme/app/blobs/uploads/u2?digest=" + k_encoded_digest);
  auto pushed = make().push_blob("acme/app", k_digest, k_blob);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_TRUE(fake.unmatched().empty());
}

TEST_F(PushTest, AForeignUploadLocationNeverGetsTheCredentials) {
  // Basic auth known after the first 401; the upload goes to a storage host.
  fake.handle("POST", k_uploads, [](const http::Request& r) {
    if (!header(r.headers, "Authorization")) {
      return util::Result<http::Response>(
          response(401, "", {{"WWW-Authenticate", R"(Basic realm="r")"}}));
    }
    return util::Result<http::Response>(
        response(202, "", {{"Location", "https://uploads.example/put/u3?sig=s3"}}));
  });
  fake.on("PUT", "https://uploads.example/put/u3?sig=s3&digest=" + k_encoded_digest, response(201));
  auto pushed = make(k_alice).push_blob("acme/app", k_digest, k_blob);
  ASSERT_TRUE(pushed) << pushed.error().message;
  const auto posts = sent("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_TRUE(header(posts[1].request.headers, "Authorization").has_value());
  const auto puts = sent("PUT");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(header(puts[0].request.headers, "Authorization"), std::nullopt);
}

TEST_F(PushTest, AForeignPlainHttpUploadLocationIsRefused) {
  fake.on("POST", k_uploads, response(202, "", {{"Location", "http://uploads.example/put/u4"}}));
  auto pushed = make(k_alice).push_blob("acme/app", k_digest, k_blob);
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(pushed.error().message.find("plain HTTP"), std::string::npos);
  EXPECT_TRUE(sent("PUT").empty());
}

TEST_F(PushTest, UploadFailures) {
  Client client = make();
  // The bytes must hash to the digest: nothing is sent otherwise.
  auto mismatch = client.push_blob("acme/app", sha256_digest("other"), k_blob);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().kind, ErrorKind::invalid_input);
  EXPECT_TRUE(fake.sent().empty());
  EXPECT_EQ(client.push_blob("Bad Repo", k_digest, k_blob).error().kind, ErrorKind::invalid_input);

  fake.on("POST", k_uploads, response(202));
  auto no_location = client.push_blob("acme/app", k_digest, k_blob);
  ASSERT_FALSE(no_location);
  EXPECT_EQ(no_location.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(no_location.error().message.find("Location"), std::string::npos);

  fake.handle("POST", k_uploads, [](const http::Request&) {
    return util::Result<http::Response>(response(202, "", {{"Location", "/v2/acme/app/u5"}}));
  });
  fake.on("PUT", std::string(k_base) + "/v2/acme/app/u5?digest=" + k_encoded_digest,
          response(400, R"({"errors":[{"code":"DIGEST_INVALID","message":"bad"}]})"));
  auto rejected = client.push_blob("acme/app", k_digest, k_blob);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(rejected.error().message.find("DIGEST_INVALID"), std::string::npos);
}

TEST_F(PushTest, BearerTokensAskForPullAndPushOnlyWhenPushing) {
  const std::string realm = "https://auth.example/token";
  const std::string challenge =
      "Bearer realm=\"" + realm +
      "\",service=\"registry.example\",scope=\"repository:acme/app:pull\"";
  const std::string push_token_url =
      realm + "?service=registry.example&scope=repository%3Aacme%2Fapp%3Apull%2Cpush";
  const std::string pull_token_url =
      realm + "?service=registry.example&scope=repository%3Aacme%2Fapp%3Apull";
  fake.on("GET", push_token_url, response(200, R"({"token":"push-token"})"));
  fake.on("GET", pull_token_url, response(200, R"({"token":"pull-token"})"));
  const auto wants = [challenge](const std::string& token, http::Response ok) {
    return [challenge, token, ok](const http::Request& r) {
      if (header(r.headers, "Authorization") != "Bearer " + token) {
        return util::Result<http::Response>(response(401, "", {{"WWW-Authenticate", challenge}}));
      }
      return util::Result<http::Response>(ok);
    };
  };
  const std::string body = R"({"schemaVersion":2})";
  fake.handle(
      "PUT", k_manifest_url,
      wants("push-token", response(201, "", {{"Docker-Content-Digest", sha256_digest(body)}})));
  const std::string blob_url = std::string(k_base) + "/v2/acme/app/blobs/" + k_digest;
  fake.handle("HEAD", blob_url, wants("push-token", response(404)));
  fake.handle("GET", std::string(k_base) + "/v2/acme/app/tags/list?n=100",
              wants("pull-token", response(200, R"({"name":"acme/app","tags":[]})")));

  Client client = make(k_alice);
  auto digest = client.push_manifest("acme/app", "v1", k_oci_manifest, body);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, sha256_digest(body));
  // The push token is cached for the next push operation; reads get their own pull token.
  EXPECT_EQ(client.blob_exists("acme/app", k_digest).value(), false);
  EXPECT_TRUE(client.list_tags("acme/app"));
  std::size_t push_tokens = 0;
  std::size_t pull_tokens = 0;
  for (const auto& s : fake.sent()) {
    push_tokens += s.request.url == push_token_url ? 1 : 0;
    pull_tokens += s.request.url == pull_token_url ? 1 : 0;
  }
  EXPECT_EQ(push_tokens, 1u);
  EXPECT_EQ(pull_tokens, 1u);
  EXPECT_TRUE(fake.unmatched().empty());
}

TEST_F(PushTest, ATokenWithoutPushIsAnAuthError) {
  const std::string realm = "https://auth.example/token";
  const std::string challenge = "Bearer realm=\"" + realm + "\",service=\"registry.example\"";
  fake.on("GET", realm + "?service=registry.example&scope=repository%3Aacme%2Fapp%3Apull%2Cpush",
          response(200, R"({"token":"pull-only"})"));
  fake.on(
      "PUT", k_manifest_url,
      response(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})", {{"WWW-Authenticate", challenge}}));
  auto digest = make().push_manifest("acme/app", "v1", k_oci_manifest, "{}");
  ASSERT_FALSE(digest);
  EXPECT_EQ(digest.error().kind, ErrorKind::auth);
}

TEST_F(PushTest, PushManifest) {
  const std::string body = R"({"schemaVersion":2,"mediaType":"x"})";
  fake.on("PUT", k_manifest_url, response(201));
  Client client = make();
  auto digest = client.push_manifest("acme/app", "v1", k_oci_manifest, body);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, sha256_digest(body));
  const auto puts = sent("PUT");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].request.body, body);
  EXPECT_EQ(header(puts[0].request.headers, "Content-Type"), std::string(k_oci_manifest));

  // Pushed by digest: the digest must be the content's.
  const std::string by_digest =
      std::string(k_base) + "/v2/acme/app/manifests/" + sha256_digest(body);
  fake.on("PUT", by_digest, response(201));
  EXPECT_TRUE(client.push_manifest("acme/app", sha256_digest(body), k_oci_manifest, body));
  EXPECT_EQ(client.push_manifest("acme/app", sha256_digest("x"), k_oci_manifest, body).error().kind,
            ErrorKind::invalid_input);
  EXPECT_EQ(client.push_manifest("acme/app", "bad tag", k_oci_manifest, body).error().kind,
            ErrorKind::invalid_input);
  EXPECT_EQ(client.push_manifest("acme/app", "v1", "", body).error().kind,
            ErrorKind::invalid_input);
}

TEST_F(PushTest, PushManifestChecksWhatTheRegistryStored) {
  fake.on("PUT", k_manifest_url, response(201, "", {{"Docker-Content-Digest", k_digest}}));
  auto wrong = make().push_manifest("acme/app", "v1", k_oci_manifest, "{}");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::invalid_input);

  fake.handle("PUT", k_manifest_url, [](const http::Request&) {
    return util::Result<http::Response>(
        response(400, R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown"}]})"));
  });
  auto unknown = make().push_manifest("acme/app", "v1", k_oci_manifest, "{}");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(unknown.error().message.find("MANIFEST_BLOB_UNKNOWN"), std::string::npos);
}

} // namespace
} // namespace common::registry
