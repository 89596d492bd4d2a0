#include <gtest/gtest.h>

#include "common/credentials/source.hpp"

namespace {

using namespace common::credentials;
using common::util::ErrorKind;

TEST(ParseSource, Valid) {
  struct Case {
    const char* text;
    const char* default_ns;
    Source want;
  };
  const Case cases[] = {
      {"pullsecret:ns/name", "", {"", PullSecret{"ns", "name"}}},
      {"PullSecret:ns/name", "", {"", PullSecret{"ns", "name"}}},
      {"  pullsecret:argocd/regcred \n", "", {"", PullSecret{"argocd", "regcred"}}},
      {"pullsecret:name", "team-a", {"", PullSecret{"team-a", "name"}}},
      {"secret:ns/name#creds", "", {"", SecretField{"ns", "name", "creds"}}},
      {"secret:ns/name#.dockerconfigjson",
       "",
       {"", SecretField{"ns", "name", ".dockerconfigjson"}}},
      {"secret:name#User_Pass-1", "d", {"", SecretField{"d", "name", "User_Pass-1"}}},
      {"env:REGISTRY_CREDS", "", {"", EnvVar{"REGISTRY_CREDS"}}},
      {"ENV:_x1", "", {"", EnvVar{"_x1"}}},
      {"ext:/usr/local/bin/ecr-login.sh", "", {"", ExtScript{"/usr/local/bin/ecr-login.sh"}}},
      // A known kind first: no registry prefix, so '=' belongs to the path.
      {"ext:/opt/a=b/get", "", {"", ExtScript{"/opt/a=b/get"}}},
      {"gcr.io=pullsecret:foo/bar", "", {"gcr.io", PullSecret{"foo", "bar"}}},
      {"host:5000=env:X", "", {"host:5000", EnvVar{"X"}}},
      {"ghcr.io=secret:foo/bar#baz", "", {"ghcr.io", SecretField{"foo", "bar", "baz"}}},
      {"gcr.io/proj=ext:/s", "", {"gcr.io/proj", ExtScript{"/s"}}},
      // KubeSphere: bare pull secrets.
      {"ns/name", "", {"", PullSecret{"ns", "name"}}},
      {"regcred", "kubesphere", {"", PullSecret{"kubesphere", "regcred"}}},
      {"my.secret-1", "ns", {"", PullSecret{"ns", "my.secret-1"}}},
      {"quay.io=ns/name", "", {"quay.io", PullSecret{"ns", "name"}}},
  };
  for (const auto& c : cases) {
    auto got = parse_source(c.text, c.default_ns);
    ASSERT_TRUE(got) << c.text << ": " << got.error().message;
    EXPECT_EQ(*got, c.want) << c.text;
    // The canonical form parses back to the same source.
    auto again = parse_source(to_string(*got), c.default_ns);
    ASSERT_TRUE(again) << to_string(*got);
    EXPECT_EQ(*again, *got) << to_string(*got);
  }
}

TEST(ParseSource, Invalid) {
  struct Case {
    const char* text;
    const char* default_ns;
    const char* want; // part of the message
  };
  const Case cases[] = {
      {"", "", "empty"},
      {"   ", "", "empty"},
      {"pullsecret:", "", "nothing after"},
      {"pullsecret:ns/", "", "empty secret name"},
      {"pullsecret:/name", "", "empty namespace"},
      {"pullsecret:a/b/c", "", "more than one '/'"},
      {"pullsecret:name", "", "no default namespace"},
      {"pullsecret:NS/name", "", "namespace \"NS\" is not a Kubernetes name"},
      {"pullsecret:ns/Name", "", "secret name \"Name\""},
      {"pullsecret:ns/..", "", "secret name \"..\""},
      {"pullsecret:ns/-x", "", "secret name \"-x\""},
      {"secret:ns/name", "", "no '#<field>'"},
      {"secret:ns/name#", "", "field \"\""},
      {"secret:ns/name#..", "", "field \"..\""},
      {"secret:ns/name#a/b", "", "field \"a/b\""},
      {"secret:ns/name#a b", "", "field \"a b\""},
      {"env:", "", "nothing after"},
      {"env:1X", "", "not an environment variable name"},
      {"env:A-B", "", "not an environment variable name"},
      {"ext:relative/script", "", "must be absolute"},
      {"ext:/opt/../etc/x", "", "must be absolute, without"},
      {"ext:/opt//x", "", "must be absolute, without"},
      {"ext:/opt/", "", "must be absolute, without"},
      {"vault:secret/x", "", "unknown kind \"vault\""},
      {"gcr.io=vault:x", "", "unknown kind \"vault\""},
      {"=pullsecret:ns/n", "", "registry \"\""},
      {"https://gcr.io=env:X", "", "without scheme"},
      {"gcr.io=", "", "nothing after '='"},
      {"a b=env:X", "", "registry \"a b\""},
  };
  for (const auto& c : cases) {
    auto got = parse_source(c.text, c.default_ns);
    ASSERT_FALSE(got) << c.text;
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input) << c.text;
    EXPECT_NE(got.error().message.find(c.want), std::string::npos)
        << c.text << " -> " << got.error().message;
    // Errors quote the source string.
    EXPECT_NE(got.error().message.find("invalid credential source"), std::string::npos);
  }
}

TEST(ParseSource, ToString) {
  EXPECT_EQ(to_string(Source{"", PullSecret{"a", "b"}}), "pullsecret:a/b");
  EXPECT_EQ(to_string(Source{"ghcr.io", SecretField{"a", "b", "c"}}), "ghcr.io=secret:a/b#c");
  EXPECT_EQ(to_string(Source{"", EnvVar{"X"}}), "env:X");
  EXPECT_EQ(to_string(Source{"", ExtScript{"/x"}}), "ext:/x");
}

TEST(ParseSource, AppliesTo) {
  struct Case {
    const char* source;
    const char* host;
    bool want;
  };
  const Case cases[] = {
      {"env:X", "anything.io", true},
      {"ghcr.io=env:X", "ghcr.io", true},
      {"ghcr.io=env:X", "GHCR.io", true},
      {"ghcr.io=env:X", "quay.io", false},
      {"docker.io=env:X", "registry-1.docker.io", true},
      {"index.docker.io=env:X", "docker.io", true},
      {"host:5000=env:X", "host:5000", true},
      {"host:5000=env:X", "host", false},
  };
  for (const auto& c : cases) {
    auto source = parse_source(c.source);
    ASSERT_TRUE(source) << c.source;
    EXPECT_EQ(applies_to(*source, c.host), c.want) << c.source << " for " << c.host;
  }
}

} // namespace
