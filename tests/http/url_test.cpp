#include <gtest/gtest.h>

#include "common/http/url.hpp"

namespace common::http {
namespace {

using util::ErrorKind;

TEST(HttpUrl, ParsesAbsoluteUrls) {
  struct Case {
    std::string text;
    Url want;
  };
  const std::vector<Case> cases = {
      {"http://example.com", {"http", "example.com", 80, "/", ""}},
      {"https://Registry-1.Docker.IO/v2/", {"https", "registry-1.docker.io", 443, "/v2/", ""}},
      {"HTTPS://ghcr.io:8443/v2/a/b/tags/list?n=100&last=x#frag",
       {"https", "ghcr.io", 8443, "/v2/a/b/tags/list", "n=100&last=x"}},
      {"http://127.0.0.1:5000?x=1", {"http", "127.0.0.1", 5000, "/", "x=1"}},
      {"http://[::1]:5000/v2/", {"http", "::1", 5000, "/v2/", ""}},
      {"https://[FE80::1]/", {"https", "fe80::1", 443, "/", ""}},
      {"http://host:/p%2Fq", {"http", "host", 80, "/p%2Fq", ""}},
      {"http://my_host.local./", {"http", "my_host.local.", 80, "/", ""}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto got = parse_url(c.text);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, c.want);
  }
}

TEST(HttpUrl, RejectsMalformedUrls) {
  const std::vector<std::string> cases = {
      "",
      "example.com/v2/",
      "ftp://example.com/",
      "http://",
      "http:///path",
      "http://exa mple.com/",
      "http://example.com/a b",
      "http://example.com/\r\nX: y",
      "http://example.com/%zz",
      "http://example.com/%4",
      "http://example.com:0/",
      "http://example.com:65536/",
      "http://example.com:-1/",
      "http://example.com:8a/",
      "http://[::1/",
      "http://[not-v6]/",
      "http://[::1]x/",
      "http://ex$ample.com/",
      "http://127.1/",
      "http://0x7f.0.0.1/",
      "http://300.1.1.1/",
      "http://caf\xc3\xa9.example/",
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c);
    const auto got = parse_url(c);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  }
}

TEST(HttpUrl, RejectsUserinfoWithoutEchoingIt) {
  const auto got = parse_url("https://alice:s3cr3t@registry.example/v2/");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(got.error().message.find("s3cr3t"), std::string::npos) << got.error().message;
  EXPECT_EQ(got.error().message.find("alice"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("registry.example"), std::string::npos);
}

TEST(HttpUrl, FormatsAndRoundTrips) {
  struct Case {
    std::string text, string, origin, authority, target;
  };
  const std::vector<Case> cases = {
      {"https://ghcr.io/v2/?n=1", "https://ghcr.io/v2/?n=1", "https://ghcr.io:443", "ghcr.io",
       "/v2/?n=1"},
      {"http://localhost:5000", "http://localhost:5000/", "http://localhost:5000", "localhost:5000",
       "/"},
      {"https://[::1]:8443/x", "https://[::1]:8443/x", "https://[::1]:8443", "[::1]:8443", "/x"},
      {"http://h:443/", "http://h:443/", "http://h:443", "h:443", "/"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto url = parse_url(c.text);
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(to_string(*url), c.string);
    EXPECT_EQ(origin(*url), c.origin);
    EXPECT_EQ(authority(*url), c.authority);
    EXPECT_EQ(request_target(*url), c.target);
    EXPECT_EQ(*parse_url(to_string(*url)), *url);
  }
}

TEST(HttpUrl, SameOrigin) {
  const auto a = *parse_url("https://r.example/v2/a");
  EXPECT_TRUE(same_origin(a, *parse_url("https://R.EXAMPLE:443/token?x")));
  EXPECT_FALSE(same_origin(a, *parse_url("http://r.example/v2/a")));
  EXPECT_FALSE(same_origin(a, *parse_url("https://r.example:444/v2/a")));
  EXPECT_FALSE(same_origin(a, *parse_url("https://auth.r.example/v2/a")));
}

TEST(HttpUrl, ResolvesReferences) {
  const auto base = *parse_url("https://r.example:5000/v2/library/nginx/tags/list?n=10");
  struct Case {
    std::string reference, want;
  };
  const std::vector<Case> cases = {
      {"/v2/library/nginx/tags/list?last=1.25&n=10",
       "https://r.example:5000/v2/library/nginx/tags/list?last=1.25&n=10"},
      {"?last=x", "https://r.example:5000/v2/library/nginx/tags/list?last=x"},
      {"list2", "https://r.example:5000/v2/library/nginx/tags/list2"},
      {"../manifests/latest", "https://r.example:5000/v2/library/nginx/manifests/latest"},
      {"./a/./b/../c", "https://r.example:5000/v2/library/nginx/tags/a/c"},
      {"../../../../../../x", "https://r.example:5000/x"},
      {"//cdn.example/blob?sig=1", "https://cdn.example/blob?sig=1"},
      {"http://other.example:8080/y", "http://other.example:8080/y"},
      {"HTTPS://Other.Example/y#frag", "https://other.example/y"},
      {"", "https://r.example:5000/v2/library/nginx/tags/list?n=10"},
      {"#only-fragment", "https://r.example:5000/v2/library/nginx/tags/list?n=10"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reference);
    const auto got = resolve(base, c.reference);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(to_string(*got), c.want);
  }
}

TEST(HttpUrl, ResolveRejectsBadReferences) {
  const auto base = *parse_url("https://r.example/v2/");
  for (const std::string ref : {"ftp://x/", "javascript:alert(1)", "/a b", "/%x", "//user@h/"}) {
    SCOPED_TRACE(ref);
    const auto got = resolve(base, ref);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  }
}

TEST(HttpUrl, Loopback) {
  struct Case {
    std::string host;
    bool want;
  };
  const std::vector<Case> cases = {
      {"localhost", true},
      {"LocalHost", true},
      {"localhost.", true},
      {"127.0.0.1", true},
      {"127.255.1.2", true},
      {"::1", true},
      {"[::1]", true},
      {"0:0:0:0:0:0:0:1", true},
      {"::ffff:127.0.0.1", true},
      {"128.0.0.1", false},
      {"10.0.0.1", false},
      {"::2", false},
      {"localhost.example", false},
      {"127.0.0.1.nip.io", false},
      {"", false},
      {"::ffff:10.0.0.1", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_loopback(c.host), c.want) << c.host;
  }
}

TEST(HttpUrl, EncodesQueries) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("a b/c?d=e&f+g\xff"), "a%20b%2Fc%3Fd%3De%26f%2Bg%FF");
  EXPECT_EQ(encode_query({{"service", "registry.docker.io"},
                          {"scope", "repository:library/nginx:pull"},
                          {"n", "100"}}),
            "service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull&n=100");
  EXPECT_EQ(encode_query({}), "");
}

TEST(HttpUrl, RedactsUserinfo) {
  EXPECT_EQ(redact_url("https://u:p@h/x@y"), "https://***@h/x@y");
  EXPECT_EQ(redact_url("https://h/x@y"), "https://h/x@y");
  EXPECT_EQ(redact_url("u:p@h"), "***@h");
  EXPECT_EQ(redact_url("plain"), "plain");
  // Queries may hold signatures (pre-signed blob URLs): never shown.
  EXPECT_EQ(redact_url("https://s3.example/b?X-Amz-Signature=abc&X-Amz-Credential=k"),
            "https://s3.example/b?...");
  EXPECT_EQ(redact_url("https://u:p@h/p?q=1#f"), "https://***@h/p?...#f");
  EXPECT_EQ(redact_url("https://h?sig=s@x"), "https://h?...");
  EXPECT_EQ(to_display(*parse_url("https://S3.example:8443/b/c?sig=secret")),
            "https://s3.example:8443/b/c?...");
  EXPECT_EQ(to_display(*parse_url("http://127.0.0.1:5000/v2/")), "http://127.0.0.1:5000/v2/");
}

} // namespace
} // namespace common::http
