#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/registry/client.hpp"
#include "common/registry/tags.hpp"
#include "common/util/clock.hpp"

#include "tests/registry/fake_http.hpp"

namespace common::registry {
namespace {

using testing::FakeHttp;
using testing::k_base;
using testing::response;
using util::ErrorKind;

struct LinkCase {
  std::string header;
  std::optional<std::string> want;
};

const LinkCase k_links[] = {
    {R"(</v2/big/tags/list?n=100&last=1.0.99>; rel="next")", "/v2/big/tags/list?n=100&last=1.0.99"},
    {"<https://r.example/v2/a/tags/list?last=x>; rel=next",
     "https://r.example/v2/a/tags/list?last=x"},
    {R"(</prev>; rel="prev", </next>; rel="next")", "/next"},
    {R"(</both>; rel="prev next"; title="x, y")", "/both"},
    {R"(< /spaced >;rel="NEXT")", "/spaced"},
    {R"(</p>; title="a;b"; rel="next")", "/p"},
    {R"(</p>; rel="last")", std::nullopt},
    {R"(</p>)", std::nullopt},
    {"", std::nullopt},
    {"garbage; rel=next", std::nullopt},
    {R"(</p; rel="next")", std::nullopt},
};

TEST(RegistryTags, NextLink) {
  for (const LinkCase& c : k_links) {
    SCOPED_TRACE(c.header);
    EXPECT_EQ(next_link(c.header), c.want);
  }
}

class TagsTest : public ::testing::Test {
protected:
  util::FakeClock clock;
  FakeHttp fake{clock};
  std::string list_url(const std::string& repo) const {
    return std::string(k_base) + "/v2/" + repo + "/tags/list?n=100";
  }
  static http::Response page(const std::string& tags_json, const std::string& link = "") {
    http::Headers headers{{"Content-Type", "application/json"}};
    if (!link.empty()) {
      headers.emplace_back("Link", link);
    }
    return response(200, R"({"name":"app","tags":)" + tags_json + "}", headers);
  }
  Client client(ClientOptions options = testing::test_options()) {
    return Client(testing::test_endpoint(), fake, clock, std::nullopt, std::move(options));
  }
};

TEST_F(TagsTest, OnePageInRegistryOrder) {
  fake.on("GET", list_url("acme/app"), page(R"(["b","a","c"])"));
  auto tags = client().list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(*tags, (std::vector<std::string>{"b", "a", "c"}));
  ASSERT_EQ(fake.sent().size(), 1u);
  EXPECT_EQ(testing::header(fake.sent()[0].request.headers, "Accept").value_or(""),
            "application/json");
  EXPECT_FALSE(testing::header(fake.sent()[0].request.headers, "Authorization").has_value());
}

TEST_F(TagsTest, FollowsRelativeAndAbsoluteLinks) {
  const std::string base(k_base);
  fake.on("GET", list_url("acme/app"),
          page(R"(["1","2"])", R"(</v2/acme/app/tags/list?n=100&last=2>; rel="next")"));
  fake.on("GET", base + "/v2/acme/app/tags/list?n=100&last=2",
          page(R"(["3"])", "<" + base + R"(/v2/acme/app/tags/list?n=100&last=3>; rel="next")"));
  // A path-relative link resolves against the page's URL.
  fake.on("GET", base + "/v2/acme/app/tags/list?n=100&last=3",
          page(R"(["4"])", R"(<list?n=100&last=4>; rel="next")"));
  fake.on("GET", base + "/v2/acme/app/tags/list?n=100&last=4", page("[]"));
  auto tags = client().list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(*tags, (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(fake.sent().size(), 4u);
  EXPECT_TRUE(fake.unmatched().empty());
}

TEST_F(TagsTest, RefusesLinkToAnotherOrigin) {
  for (const std::string link :
       {"<https://evil.example/v2/acme/app/tags/list?last=2>; rel=\"next\"",
        "<//evil.example/v2/acme/app/tags/list>; rel=\"next\"",
        "<http://registry.example/v2/acme/app/tags/list>; rel=\"next\"",
        "<https://registry.example:8443/v2/acme/app/tags/list>; rel=\"next\""}) {
    SCOPED_TRACE(link);
    FakeHttp local(clock);
    local.on("GET", list_url("acme/app"), page(R"(["1"])", link));
    Client c(testing::test_endpoint(), local, clock, credentials::Credential{"u", "p"},
             testing::test_options());
    auto tags = c.list_tags("acme/app");
    ASSERT_FALSE(tags.has_value());
    EXPECT_EQ(tags.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(tags.error().message.find("another origin"), std::string::npos);
    EXPECT_EQ(local.sent().size(), 1u) << "the foreign link must not be fetched";
  }
}

TEST_F(TagsTest, BoundedByMaxPagesAndMaxTags) {
  const std::string base(k_base);
  // An endless registry: every page links to the next.
  for (int i = 0; i < 10; ++i) {
    const std::string url = i == 0
                                ? list_url("acme/app")
                                : base + "/v2/acme/app/tags/list?n=100&last=" + std::to_string(i);
    fake.on(
        "GET", url,
        page("[\"t" + std::to_string(i) + "\", \"u" + std::to_string(i) + "\"]",
             "</v2/acme/app/tags/list?n=100&last=" + std::to_string(i + 1) + ">; rel=\"next\""));
  }
  ClientOptions options = testing::test_options();
  options.max_pages = 3;
  auto tags = client(options).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::too_large);
  EXPECT_NE(tags.error().message.find("more than 3 pages"), std::string::npos);
  EXPECT_EQ(fake.sent().size(), 3u);

  options = testing::test_options();
  options.max_tags = 5;
  tags = client(options).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::too_large);
  EXPECT_NE(tags.error().message.find("more than 5 tags"), std::string::npos);
}

TEST_F(TagsTest, DetectsPaginationLoop) {
  fake.on("GET", list_url("acme/app"),
          page(R"(["1"])", R"(</v2/acme/app/tags/list?n=100>; rel="next")"));
  auto tags = client().list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(tags.error().message.find("loops"), std::string::npos);
}

struct BodyCase {
  std::string body;
  std::string error; // "" = ok, empty list
};

const BodyCase k_bodies[] = {
    {R"({"name":"acme/app","tags":null})", ""},
    {R"({"name":"acme/app"})", ""},
    {"<html>502 Bad Gateway</html>", "the tag list is not a JSON object"},
    {R"(["1"])", "the tag list is not a JSON object"},
    {R"({"tags":"1.0"})", "\"tags\" is not an array"},
    {R"({"tags":[1,2]})", "a tag is not a string"},
    {R"({"tags":["1",)", "the tag list is not a JSON object"},
    // Issue 13: hostile tag lists.
    {R"({"tags":["1.0\n1.1"]})", "is not a valid tag"},
    {R"({"tags":["1.0/../x"]})", "is not a valid tag"},
    {R"({"tags":[".hidden"]})", "is not a valid tag"},
    {R"({"tags":[""]})", "is not a valid tag"},
    {R"({"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
     "nests deeper than 64 levels"},
};

TEST_F(TagsTest, GarbageBodiesAreInvalidInputNamingRegistryAndUrl) {
  for (const BodyCase& c : k_bodies) {
    SCOPED_TRACE(c.body);
    FakeHttp local(clock);
    local.on("GET", list_url("acme/app"), response(200, c.body));
    Client cl(testing::test_endpoint(), local, clock, std::nullopt, testing::test_options());
    auto tags = cl.list_tags("acme/app");
    if (c.error.empty()) {
      ASSERT_TRUE(tags.has_value()) << tags.error().message;
      EXPECT_TRUE(tags->empty());
      continue;
    }
    ASSERT_FALSE(tags.has_value());
    EXPECT_EQ(tags.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(tags.error().message.find(c.error), std::string::npos) << tags.error().message;
    EXPECT_NE(tags.error().message.find("registry \"test\""), std::string::npos);
    EXPECT_NE(tags.error().message.find("https://registry.example/v2/acme/app/tags/list"),
              std::string::npos);
  }
}

TEST_F(TagsTest, NotFoundAndInvalidRepository) {
  fake.on(
      "GET", list_url("acme/none"),
      response(
          404,
          R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})"));
  auto tags = client().list_tags("acme/none");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::not_found);
  EXPECT_NE(tags.error().message.find("NAME_UNKNOWN"), std::string::npos);

  for (const char* bad : {"", "Acme/app", "acme//app", "acme/app/", "../x", "a/b?x=1", "a b"}) {
    SCOPED_TRACE(bad);
    auto r = client().list_tags(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_EQ(fake.sent().size(), 1u);
}

TEST_F(TagsTest, DockerHubDefaultNamespaceAndNoPageSize) {
  Endpoint hub;
  hub.name = "Docker Hub";
  hub.prefix = "docker.io";
  hub.api_url = "https://registry-1.docker.io";
  hub.default_ns = "library";
  hub.rate_limit = 0;
  ClientOptions options = testing::test_options();
  options.page_size = 0;
  fake.on("GET", "https://registry-1.docker.io/v2/library/nginx/tags/list", page(R"(["1.25"])"));
  fake.on("GET", "https://registry-1.docker.io/v2/bitnami/nginx/tags/list", page(R"(["1.26"])"));
  Client c(hub, fake, clock, std::nullopt, options);
  auto one = c.list_tags("nginx");
  ASSERT_TRUE(one.has_value()) << one.error().message;
  EXPECT_EQ(*one, std::vector<std::string>{"1.25"});
  auto two = c.list_tags("bitnami/nginx");
  ASSERT_TRUE(two.has_value()) << two.error().message;
  EXPECT_EQ(*two, std::vector<std::string>{"1.26"});
  auto three = c.list_tags("library/nginx");
  ASSERT_TRUE(three.has_value()) << three.error().message;
}

} // namespace
} // namespace common::registry
