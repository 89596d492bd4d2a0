#include <gtest/gtest.h>

#include "common/credentials/dockerconfig.hpp"

namespace {

using namespace common::credentials;
using common::util::ErrorKind;

std::string b64(std::string_view s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (s.size() - i == 1) {
    unsigned v = (unsigned char)s[i] << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (s.size() - i == 2) {
    unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// {"auths": {key: {"auth": base64(user:pass)}, ...}}
std::string auths(std::initializer_list<std::pair<std::string, std::string>> entries) {
  std::string out = "{\"auths\": {";
  bool first = true;
  for (const auto& [key, userpass] : entries) {
    out +=
        (first ? "" : ", ") + std::string("\"") + key + "\": {\"auth\": \"" + b64(userpass) + "\"}";
    first = false;
  }
  return out + "}}";
}

TEST(NormalizeRegistry, Table) {
  struct Case {
    const char* in;
    RegistryKey want;
  };
  const Case cases[] = {
      {"ghcr.io", {"ghcr.io", ""}},
      {"GHCR.IO", {"ghcr.io", ""}},
      {"https://ghcr.io", {"ghcr.io", ""}},
      {"https://ghcr.io/", {"ghcr.io", ""}},
      {"HTTPS://ghcr.io/v2/", {"ghcr.io", ""}},
      {"http://host:5000", {"host:5000", ""}},
      {"host:5000/", {"host:5000", ""}},
      {"https://index.docker.io/v1/", {"docker.io", ""}},
      {"index.docker.io", {"docker.io", ""}},
      {"docker.io", {"docker.io", ""}},
      {"registry-1.docker.io", {"docker.io", ""}},
      {"https://registry-1.docker.io", {"docker.io", ""}},
      {"ghcr.io/acme", {"ghcr.io", "acme"}},
      {"https://ghcr.io/acme/team/", {"ghcr.io", "acme/team"}},
      {"[::1]:5000", {"[::1]:5000", ""}},
      {" quay.io ", {"quay.io", ""}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(normalize_registry(c.in), c.want) << c.in;
  }
}

TEST(DecodeBase64, Table) {
  EXPECT_EQ(decode_base64("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(decode_base64("YQ=="), "a");
  EXPECT_EQ(decode_base64("YQ"), "a");
  EXPECT_EQ(decode_base64("YWI="), "ab");
  EXPECT_EQ(decode_base64("YWI"), "ab");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("+/+/"), std::string("\xfb\xff\xbf"));
  EXPECT_FALSE(decode_base64("Y"));
  EXPECT_FALSE(decode_base64("YQ="));      // padding that does not complete the quantum
  EXPECT_FALSE(decode_base64("YR=="));     // non-zero leftover bits
  EXPECT_FALSE(decode_base64("dXNl cjo")); // space
  EXPECT_FALSE(decode_base64("dXNl*jo="));
  EXPECT_FALSE(decode_base64("YQ===")); // too much padding
}

TEST(ParseDockerConfig, Entries) {
  const std::string json = R"({
    "auths": {
      "https://index.docker.io/v1/": {"auth": ")" +
                           b64("hubuser:hubpass") + R"("},
      "ghcr.io": {"username": "octo", "password": "ghp_x"},
      "acr.example.io": {"auth": ")" +
                           b64("00000000-0000-0000-0000-000000000000:") +
                           R"(", "identitytoken": "refresh"},
      "placeholder.io": {},
      "badb64.io": {"auth": "%%%"},
      "nocolon.io": {"auth": ")" +
                           b64("justuser") + R"("},
      "wrongtype.io": {"auth": 42},
      "token.io": {"registrytoken": "bearer"},
      "both.io": {"auth": ")" +
                           b64("a:b") + R"(", "username": "c", "password": "d"},
      "notobject.io": "x"
    },
    "credHelpers": {"123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
    "credsStore": "desktop",
    "HttpHeaders": {"User-Agent": "x"}
  })";
  auto config = parse_docker_config(json, "test");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->auths.size(), 10u);
  // Sorted by key.
  for (std::size_t i = 1; i < config->auths.size(); ++i) {
    EXPECT_LT(config->auths[i - 1].key, config->auths[i].key);
  }
  auto entry = [&](std::string_view key) -> const AuthEntry& {
    for (const auto& e : config->auths) {
      if (e.key == key) {
        return e;
      }
    }
    throw std::runtime_error("no entry");
  };
  EXPECT_EQ(entry("https://index.docker.io/v1/").credential->username, "hubuser");
  EXPECT_EQ(entry("https://index.docker.io/v1/").registry.host, "docker.io");
  EXPECT_EQ(entry("ghcr.io").credential->password, "ghp_x");
  EXPECT_EQ(entry("acr.example.io").credential->username, "<token>");
  EXPECT_EQ(entry("acr.example.io").credential->password, "refresh");
  EXPECT_FALSE(entry("placeholder.io").credential);
  EXPECT_TRUE(entry("placeholder.io").unusable.empty());
  EXPECT_NE(entry("badb64.io").unusable.find("base64"), std::string::npos);
  EXPECT_NE(entry("nocolon.io").unusable.find("no ':'"), std::string::npos);
  EXPECT_NE(entry("wrongtype.io").unusable.find("not a string"), std::string::npos);
  EXPECT_NE(entry("token.io").unusable.find("registrytoken"), std::string::npos);
  EXPECT_EQ(entry("both.io").credential->username, "a"); // auth wins, as in docker
  EXPECT_NE(entry("notobject.io").unusable.find("not an object"), std::string::npos);
  ASSERT_EQ(config->cred_helpers.size(), 1u);
  EXPECT_EQ(config->cred_helpers[0].second, "ecr-login");
  EXPECT_EQ(config->creds_store, "desktop");
}

TEST(ParseDockerConfig, Errors) {
  struct Case {
    std::string json;
    ErrorKind kind;
    const char* want;
  };
  const Case cases[] = {
      {R"({"auths": {"x": {"password": "s3cr3t-value")", ErrorKind::invalid_input,
       "not valid JSON (error at byte"},
      {"[1]", ErrorKind::invalid_input, "must be a JSON object"},
      {R"({"auths": []})", ErrorKind::invalid_input, "\"auths\" is not an object"},
      {R"({"auths": {}, "credHelpers": {"a": 1}})", ErrorKind::invalid_input,
       "credHelpers \"a\" is not a string"},
      {R"({"auths": {}, "credsStore": 1})", ErrorKind::invalid_input, "\"credsStore\""},
      {R"({"ghcr.io": {"auth": "eDp5"}})", ErrorKind::unsupported, "legacy .dockercfg"},
  };
  for (const auto& c : cases) {
    auto got = parse_docker_config(c.json, "/path/config.json");
    ASSERT_FALSE(got) << c.json;
    EXPECT_EQ(got.error().kind, c.kind) << c.json;
    EXPECT_NE(got.error().message.find(c.want), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find("/path/config.json"), std::string::npos);
    EXPECT_EQ(got.error().message.find("s3cr3t"), std::string::npos) << got.error().message;
  }
  // An object without auths is an empty config (a fresh ~/.docker/config.json).
  auto empty = parse_docker_config(R"({"psFormat": "x"})", "c");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->auths.empty());
}

TEST(FindCredential, HostMatching) {
  struct Case {
    std::string json;
    const char* registry;
    const char* repository;
    const char* want_key; // nullptr: not_found
  };
  const Case cases[] = {
      // The anchor's complaint: docker login's key for Docker Hub's API URL.
      {auths({{"https://index.docker.io/v1/", "u:p"}}), "https://registry-1.docker.io", "",
       "https://index.docker.io/v1/"},
      {auths({{"https://index.docker.io/v1/", "u:p"}}), "docker.io", "library/nginx",
       "https://index.docker.io/v1/"},
      {auths({{"docker.io", "u:p"}}), "registry-1.docker.io", "", "docker.io"},
      {auths({{"registry-1.docker.io", "u:p"}}), "index.docker.io", "", "registry-1.docker.io"},
      {auths({{"index.docker.io", "u:p"}}), "docker.io", "", "index.docker.io"},
      // Scheme, trailing slash, case.
      {auths({{"https://ghcr.io/", "u:p"}}), "ghcr.io", "", "https://ghcr.io/"},
      {auths({{"GHCR.IO", "u:p"}}), "https://ghcr.io", "", "GHCR.IO"},
      // Ports: exact host:port.
      {auths({{"host:5000", "u:p"}}), "host:5000", "", "host:5000"},
      {auths({{"host:5000", "a:b"}, {"host:6000", "c:d"}}), "host:6000", "", "host:6000"},
      // Exact beats prefix (port only on one side).
      {auths({{"host:5000", "a:b"}, {"host", "c:d"}}), "host", "", "host"},
      {auths({{"host", "a:b"}, {"host:5000", "c:d"}}), "host:5000", "", "host:5000"},
      // A key without a port is not every port of its host (issue 13: another port is another
      // service); only HTTPS's default port may be left out.
      {auths({{"host:5000", "a:b"}}), "host", "", nullptr},
      {auths({{"host", "a:b"}}), "host:5000", "", nullptr},
      {auths({{"host", "a:b"}}), "host:443", "", "host"},
      {auths({{"host:443", "a:b"}}), "host", "", "host:443"},
      {auths({{"https://host:443/v1/", "a:b"}}), "host", "", "https://host:443/v1/"},
      // Two different explicit ports never match.
      {auths({{"host:5000", "a:b"}}), "host:6000", "", nullptr},
      // No string-prefix matches across a name: the anchor would take these.
      {auths({{"ghcr.io.evil.com", "a:b"}}), "ghcr.io", "", nullptr},
      {auths({{"quay.io", "a:b"}}), "quay", "", nullptr},
      {auths({{"ghcr.io", "a:b"}}), "ghcr.io.evil.com", "", nullptr},
      // Repository scopes: the longest covering scope wins; a host key covers all.
      {auths({{"ghcr.io", "a:b"}, {"ghcr.io/acme", "c:d"}}), "ghcr.io", "acme/app", "ghcr.io/acme"},
      {auths({{"ghcr.io/acme", "a:b"}, {"ghcr.io/acme/team", "c:d"}}), "ghcr.io", "acme/team/app",
       "ghcr.io/acme/team"},
      {auths({{"ghcr.io", "a:b"}, {"ghcr.io/acme", "c:d"}}), "ghcr.io", "other/app", "ghcr.io"},
      {auths({{"ghcr.io/acme", "c:d"}}), "ghcr.io", "acmex/app", nullptr},
      {auths({{"ghcr.io/acme", "c:d"}}), "ghcr.io", "other/app", nullptr},
      // Scoped keys with no repository given: a prefix match; the host key is preferred.
      {auths({{"ghcr.io/acme", "c:d"}}), "ghcr.io", "", "ghcr.io/acme"},
      {auths({{"ghcr.io/acme", "c:d"}, {"ghcr.io", "a:b"}}), "ghcr.io", "", "ghcr.io"},
      // Several keys for one registry: deterministic, smallest key as written.
      {auths({{"https://index.docker.io/v1/", "a:b"}, {"docker.io", "c:d"}}), "docker.io", "",
       "docker.io"},
      {auths({{"https://ghcr.io", "a:b"}, {"ghcr.io", "c:d"}, {"http://ghcr.io/", "e:f"}}),
       "ghcr.io", "", "ghcr.io"},
      // Nothing for this registry.
      {auths({{"quay.io", "a:b"}}), "ghcr.io", "", nullptr},
      {"{\"auths\": {}}", "ghcr.io", "", nullptr},
  };
  for (const auto& c : cases) {
    auto config = parse_docker_config(c.json, "cfg");
    ASSERT_TRUE(config) << c.json;
    auto got = find_credential(*config, c.registry, c.repository, "cfg");
    if (c.want_key == nullptr) {
      ASSERT_FALSE(got) << c.json << " " << c.registry << " -> " << got->key;
      EXPECT_EQ(got.error().kind, ErrorKind::not_found) << got.error().message;
      continue;
    }
    ASSERT_TRUE(got) << c.json << " " << c.registry << ": " << got.error().message;
    EXPECT_EQ(got->key, c.want_key) << c.json << " " << c.registry << " " << c.repository;
  }
}

TEST(FindCredential, Values) {
  auto config = parse_docker_config(auths({{"ghcr.io", "user:pa:ss"}}), "cfg");
  ASSERT_TRUE(config);
  auto got = find_credential(*config, "ghcr.io", "", "cfg");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->credential.username, "user");
  EXPECT_EQ(got->credential.password, "pa:ss"); // split at the first ':'
}

TEST(FindCredential, HelpersStoresAndBadEntries) {
  const std::string json = R"({
    "auths": {
      "ghcr.io": {},
      "quay.io": {"auth": "%%%"},
      "empty.io": {},
      "ok.io": {"auth": ")" +
                           b64("u:hunter2") + R"("},
      "ecr.example.com": {"auth": ")" +
                           b64("u:p") + R"("}
    },
    "credHelpers": {"https://ecr.example.com": "ecr-login"}
  })";
  auto config = parse_docker_config(json, "/home/u/.docker/config.json");
  ASSERT_TRUE(config);

  auto helper = find_credential(*config, "ecr.example.com", "", "/home/u/.docker/config.json");
  ASSERT_FALSE(helper);
  EXPECT_EQ(helper.error().kind, ErrorKind::unsupported);
  EXPECT_NE(helper.error().message.find("docker-credential-ecr-login"), std::string::npos);
  EXPECT_NE(helper.error().message.find("/home/u/.docker/config.json"), std::string::npos);

  auto bad = find_credential(*config, "quay.io", "", "cfg");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(bad.error().message.find("base64"), std::string::npos);

  auto empty = find_credential(*config, "empty.io", "", "cfg");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, ErrorKind::not_found);
  EXPECT_NE(empty.error().message.find("holds no credential"), std::string::npos);

  auto none = find_credential(*config, "other.io", "", "cfg");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::not_found);
  EXPECT_NE(none.error().message.find("entries for"), std::string::npos);
  EXPECT_NE(none.error().message.find("ok.io"), std::string::npos);
  EXPECT_EQ(none.error().message.find("hunter2"), std::string::npos);

  // A placeholder next to a credsStore: the credential lives in the store.
  auto store = parse_docker_config(R"({"auths": {"ghcr.io": {}}, "credsStore": "desktop"})", "c");
  ASSERT_TRUE(store);
  auto in_store = find_credential(*store, "ghcr.io", "", "c");
  ASSERT_FALSE(in_store);
  EXPECT_EQ(in_store.error().kind, ErrorKind::unsupported);
  EXPECT_NE(in_store.error().message.find("credsStore"), std::string::npos);
  // A host the store has no placeholder for: simply not found.
  auto not_in_store = find_credential(*store, "quay.io", "", "c");
  ASSERT_FALSE(not_in_store);
  EXPECT_EQ(not_in_store.error().kind, ErrorKind::not_found);

  // A placeholder is skipped in favour of a worse match that holds a credential.
  auto mixed = parse_docker_config(
      R"({"auths": {"host/team": {}, "host": {"auth": ")" + b64("a:b") + R"("}}})", "c");
  ASSERT_TRUE(mixed);
  auto got = find_credential(*mixed, "host", "team/app", "c");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->key, "host");
}

} // namespace
