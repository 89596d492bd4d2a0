#include <thread>

#include <gtest/gtest.h>

#include "common/registry/config.hpp"

namespace {

using namespace common::registry;
using namespace std::chrono_literals;
using common::util::ErrorKind;

// argocd-image-updater's config/example-config.yaml.
constexpr const char* k_anchor_example = R"(# Example configuration
registries:
- name: Docker Hub
  api_url: https://registry-1.docker.io
  ping: yes
  credentials: env:SOME_ENV_VAR
- name: Google Container Registry
  api_url: https://gcr.io
  prefix: gcr.io
  ping: no
  credentials: pullsecret:foo/bar
- name: RedHat Quay
  api_url: https://quay.io
  ping: no
  prefix: quay.io
  credentials: secret:foo/bar#creds
- name: GitHub Container Registry
  api_url: https://ghcr.io
  ping: no
  prefix: ghcr.io
  credentials: ext:/some/script
  credsexpire: 5h
)";

TEST(RegistriesConf, AnchorExample) {
  auto config = parse_registries_conf(k_anchor_example, "registries.conf");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->endpoints().size(), 4u);
  const auto& hub = config->endpoints()[0];
  EXPECT_EQ(hub.name, "Docker Hub");
  EXPECT_EQ(hub.prefix, "");
  EXPECT_TRUE(hub.is_default);
  EXPECT_EQ(hub.credentials, "env:SOME_ENV_VAR");
  EXPECT_EQ(hub.rate_limit, k_default_rate_limit);
  const auto& ghcr = config->endpoints()[3];
  EXPECT_EQ(ghcr.prefix, "ghcr.io");
  EXPECT_EQ(ghcr.credentials, "ext:/some/script");
  ASSERT_TRUE(ghcr.creds_expire);
  EXPECT_EQ(*ghcr.creds_expire, 5h);
  EXPECT_FALSE(ghcr.is_default);
  EXPECT_FALSE(config->endpoints()[1].creds_expire);

  // `ping` is noted, once per occurrence, with its place.
  ASSERT_EQ(config->notes().size(), 4u);
  EXPECT_EQ(config->notes()[0],
            "registries.conf:5:3: registries[0].ping: accepted for compatibility and ignored");

  // docker.io images (how common::image writes bare names) use the entry without prefix.
  EXPECT_EQ(&config->endpoint_for("docker.io"), &hub);
  EXPECT_EQ(&config->endpoint_for(""), &hub);
  EXPECT_EQ(&config->default_endpoint(), &hub);
  EXPECT_EQ(config->endpoint_for("gcr.io").name, "Google Container Registry");
  EXPECT_EQ(config->endpoint_for("gcr.io/project/app").name, "Google Container Registry");
}

TEST(RegistriesConf, AllFields) {
  auto config = parse_registries_conf(R"(
registries:
- name: Local
  api_url: http://127.0.0.1:5000/
  prefix: 127.0.0.1:5000
  credentials: 127.0.0.1:5000=secret:ns/name#field
  credsexpire: 90m
  tagsortmode: Latest-First
  insecure: true
  ca_file: /etc/ssl/local.pem
  defaultns: team/sub
  limit: 2.5
  default: true
- name: Unlimited
  api_url: https://reg.example.com
  prefix: REG.example.com/Org/
  limit: 0
  tagsortmode: latest-last
  credsexpire: 1500ms
- name: Quoted
  api_url: "https://q.example.com"
  prefix: 'q.example.com'
  tagsortmode: none
  credentials:
  credsexpire: 0
)",
                                      "f.yaml");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->endpoints().size(), 3u);
  const auto& local = config->endpoints()[0];
  EXPECT_EQ(local.api_url, "http://127.0.0.1:5000");
  EXPECT_EQ(local.credentials, "127.0.0.1:5000=secret:ns/name#field");
  EXPECT_EQ(local.creds_expire, std::chrono::seconds(5400));
  EXPECT_EQ(local.tag_sort_mode, TagSortMode::latest_first);
  EXPECT_TRUE(local.insecure);
  EXPECT_EQ(local.ca_file, "/etc/ssl/local.pem");
  EXPECT_EQ(local.default_ns, "team/sub");
  EXPECT_EQ(local.rate_limit, 2.5);
  EXPECT_TRUE(local.is_default);
  const auto& unlimited = config->endpoints()[1];
  EXPECT_EQ(unlimited.prefix, "reg.example.com/Org"); // host folded, path kept
  EXPECT_EQ(unlimited.rate_limit, 0);                 // explicit: unlimited
  EXPECT_EQ(unlimited.tag_sort_mode, TagSortMode::latest_last);
  EXPECT_EQ(unlimited.creds_expire, std::chrono::seconds(2)); // rounded up
  const auto& quoted = config->endpoints()[2];
  EXPECT_EQ(quoted.prefix, "q.example.com");
  EXPECT_EQ(quoted.credentials, "");
  EXPECT_EQ(quoted.creds_expire, std::chrono::seconds(0));
  EXPECT_EQ(quoted.rate_limit, k_default_rate_limit); // no limit: 20, not unlimited
  EXPECT_TRUE(config->notes().empty());

  // The configured default serves images without registry; docker.io stays Docker Hub.
  EXPECT_EQ(config->endpoint_for("").name, "Local");
  EXPECT_EQ(config->endpoint_for("docker.io").name, "Docker Hub");
  EXPECT_FALSE(config->endpoint_for("docker.io").is_default);
}

TEST(RegistriesConf, EmptyInputs) {
  for (const char* text :
       {"", "# nothing\n", "registries:\n", "registries: []\n", "{}\n", "---\n"}) {
    auto config = parse_registries_conf(text, "f");
    ASSERT_TRUE(config) << text << ": " << config.error().message;
    EXPECT_TRUE(config->endpoints().empty());
    EXPECT_EQ(config->default_endpoint().name, "Docker Hub");
  }
}

TEST(RegistriesConf, Errors) {
  struct Case {
    const char* yaml;
    const char* want; // the whole message after "f.yaml:"
  };
  const Case cases[] = {
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  tagsortmode: newest\n",
       "5:16: registries[0].tagsortmode: unknown tag sort mode \"newest\" (want none, "
       "latest-first or latest-last)"},
      {"registries:\n- api_url: https://a\n  prefix: a\n",
       "2:3: registries[0]: \"name\" is required"},
      {"registries:\n- name: A\n  prefix: a\n", "2:3: registries[0] (A): \"api_url\" is required"},
      {"registries:\n- name: a\n  api_url: https://a\n  prefixx: a\n",
       "4:3: registries[0]: unknown field \"prefixx\" (want name, api_url, prefix, ping, "
       "credentials, credsexpire, tagsortmode, insecure, ca_file, defaultns, limit or default)"},
      {"registry:\n- name: a\n", "1:1: unknown field \"registry\" (the only top-level key is "
                                 "\"registries\")"},
      {"registries:\n- name: a\n  name: b\n  api_url: https://a\n",
       "3:3: registries[0].name: given twice"},
      {"registries:\n- name: A\n  api_url: https://a\n- name: B\n  api_url: https://b\n",
       "4:3: registries[1] (B): only one default registry is allowed (an entry without prefix, "
       "or default: true), and registries[0] (A) at line 2 already is"},
      {"registries:\n- name: A\n  api_url: https://a\n  prefix: a\n  default: true\n"
       "- name: B\n  api_url: https://b\n  prefix: b\n  default: yes\n",
       "6:3: registries[1] (B): only one default registry is allowed (an entry without prefix, "
       "or default: true), and registries[0] (A) at line 2 already is"},
      {"registries:\n- name: A\n  api_url: https://a\n  prefix: ghcr.io\n"
       "- name: B\n  api_url: https://b\n  prefix: GHCR.io/\n",
       "7:11: registries[1] (B).prefix: \"ghcr.io\" is already the prefix of registries[0] (A) "
       "at line 2"},
      {"registries:\n- name: A\n  api_url: https://a\n  default: false\n",
       "2:3: registries[0] (A): \"prefix\" is required unless this is the default registry "
       "(default: false)"},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  insecure: maybe\n",
       "5:13: registries[0].insecure: want a boolean (true/false, yes/no), got \"maybe\""},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  insecure: \"true\"\n",
       "5:13: registries[0].insecure: want a boolean (true/false, yes/no), got \"true\""},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  limit: -1\n",
       "5:10: registries[0].limit: must not be negative (0 = unlimited), got -1"},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  limit: fast\n",
       "5:10: registries[0].limit: want requests per second (a number, 0 = unlimited), got "
       "\"fast\""},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  limit: .inf\n",
       "5:10: registries[0].limit: want requests per second (a number, 0 = unlimited), got "
       "\".inf\""},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  credsexpire: -5m\n",
       "5:16: registries[0].credsexpire: \"-5m\" is negative"},
      {"registries:\n- name: [a]\n  api_url: https://a\n", "2:9: registries[0].name: want a "
                                                           "string, got a list"},
      {"registries:\n  name: a\n", "2:3: registries: want a list, got a mapping"},
      {"registries:\n- just a string\n", "2:3: registries[0]: want a mapping, got a scalar"},
      {"- a\n- b\n", "1:1: want a mapping with \"registries\", got a list"},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: https://a\n",
       "4:11: registries[0].prefix: \"https://a\" is an image name prefix (\"ghcr.io\", "
       "\"gcr.io/project\"), not a URL"},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  ca_data: |\n    PEM\n",
       "5:3: registries[0].ca_data: inline CA certificates are not supported; write the PEM to a "
       "file (for example from a ConfigMap) and name it in ca_file"},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  defaultns: Library\n",
       "5:14: registries[0].defaultns: \"Library\" must be a lower-case repository path such as "
       "\"library\""},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  <<: {limit: 1}\n",
       "5:3: registries[0]: YAML merge keys (\"<<\") are not supported"},
      {"registries: []\n---\nregistries: []\n", "3:1: more than one YAML document"},
  };
  for (const auto& c : cases) {
    auto got = parse_registries_conf(c.yaml, "f.yaml");
    ASSERT_FALSE(got) << c.yaml;
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
    EXPECT_EQ(got.error().message, std::string("f.yaml:") + c.want) << c.yaml;
  }
}

TEST(RegistriesConf, ErrorsByPrefix) {
  // Messages that embed another parser's wording: checked by their start.
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"registries:\n- name: a\n  api_url: ftp://a\n  prefix: a\n",
       "f.yaml:3:12: registries[0].api_url: "},
      {"registries:\n- name: a\n  api_url: https://u:p@a\n  prefix: a\n",
       "f.yaml:3:12: registries[0].api_url: "},
      {"registries:\n- name: a\n  api_url: https://a?x=1\n  prefix: a\n",
       "f.yaml:3:12: registries[0].api_url: \"https://a?x=1\" must not have a query"},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  credsexpire: 3600\n",
       "f.yaml:5:16: registries[0].credsexpire: "},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  credentials: vault:x\n",
       "f.yaml:5:16: registries[0].credentials: invalid credential source \"vault:x\""},
      {"registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  credentials: pullsecret:x\n",
       "f.yaml:5:16: registries[0].credentials: invalid credential source \"pullsecret:x\""},
      {"registries:\n- name: a\n  api_url: [https://a\n", "f.yaml:"},
      {"registries:\n\t- name: a\n", "f.yaml:"},
  };
  for (const auto& c : cases) {
    auto got = parse_registries_conf(c.yaml, "f.yaml");
    ASSERT_FALSE(got) << c.yaml;
    EXPECT_EQ(got.error().message.rfind(c.want, 0), 0u) << c.yaml << " -> " << got.error().message;
  }
  // A credential source's message never needs a value; the api_url message redacts userinfo.
  auto userinfo = parse_registries_conf(
      "registries:\n- name: a\n  api_url: https://u:hunter2@a\n  prefix: a\n", "f.yaml");
  ASSERT_FALSE(userinfo);
  EXPECT_EQ(userinfo.error().message.find("hunter2"), std::string::npos)
      << userinfo.error().message;
  // Syntax errors have a line and column.
  auto syntax = parse_registries_conf("registries:\n- name: a\n  api_url: [https://a\n", "f.yaml");
  ASSERT_FALSE(syntax);
  EXPECT_NE(syntax.error().message.find("invalid YAML"), std::string::npos);
  EXPECT_NE(syntax.error().message.find("f.yaml:"), std::string::npos);
}

TEST(EndpointFor, Table) {
  auto config = parse_registries_conf(R"(
registries:
- name: gcr
  api_url: https://gcr.io
  prefix: gcr.io
- name: gcr-project
  api_url: https://gcr.io
  prefix: gcr.io/my-project
  credentials: env:GCR_PROJECT
- name: local
  api_url: http://localhost:5000
  prefix: localhost:5000
)",
                                      "f");
  ASSERT_TRUE(config) << config.error().message;
  struct Case {
    const char* name;
    const char* want_name;
    const char* want_api;
  };
  const Case cases[] = {
      {"gcr.io", "gcr", "https://gcr.io"},
      {"GCR.io", "gcr", "https://gcr.io"},
      {"gcr.io/other/app", "gcr", "https://gcr.io"},
      {"gcr.io/my-project/app", "gcr-project", "https://gcr.io"}, // longest prefix wins
      {"gcr.io/my-project", "gcr-project", "https://gcr.io"},
      {"gcr.io/my-project-2/app", "gcr", "https://gcr.io"}, // whole components only
      {"localhost:5000", "local", "http://localhost:5000"},
      {"localhost:5000/app", "local", "http://localhost:5000"},
      // Built-in Docker Hub under all its spellings.
      {"docker.io", "Docker Hub", "https://registry-1.docker.io"},
      {"index.docker.io", "Docker Hub", "https://registry-1.docker.io"},
      {"registry-1.docker.io", "Docker Hub", "https://registry-1.docker.io"},
      {"docker.io/library/nginx", "Docker Hub", "https://registry-1.docker.io"},
      {"", "Docker Hub", "https://registry-1.docker.io"},
      // Inferred.
      {"ghcr.io", "ghcr.io", "https://ghcr.io"},
      {"gcr.io.evil.com", "gcr.io.evil.com", "https://gcr.io.evil.com"},
      {"Quay.IO/org/app", "quay.io", "https://quay.io"},
      {"registry.example.com:8443", "registry.example.com:8443",
       "https://registry.example.com:8443"},
      // Loopback: plain http.
      {"localhost", "localhost", "http://localhost"},
      {"localhost:6000", "localhost:6000", "http://localhost:6000"},
      {"127.0.0.1:5000", "127.0.0.1:5000", "http://127.0.0.1:5000"},
      {"127.1.2.3", "127.1.2.3", "http://127.1.2.3"},
      {"[::1]:5000", "[::1]:5000", "http://[::1]:5000"},
      {"128.0.0.1:5000", "128.0.0.1:5000", "https://128.0.0.1:5000"},
      {"localhost.example.com", "localhost.example.com", "https://localhost.example.com"},
  };
  for (const auto& c : cases) {
    const Endpoint& e = config->endpoint_for(c.name);
    EXPECT_EQ(e.name, c.want_name) << c.name;
    EXPECT_EQ(e.api_url, c.want_api) << c.name;
  }
  const Endpoint& hub = config->endpoint_for("docker.io");
  EXPECT_EQ(hub.default_ns, "library");
  EXPECT_EQ(hub.rate_limit, k_docker_hub_rate_limit);
  EXPECT_TRUE(hub.is_default);
  const Endpoint& inferred = config->endpoint_for("ghcr.io");
  EXPECT_EQ(inferred.rate_limit, k_default_rate_limit);
  EXPECT_EQ(inferred.prefix, "ghcr.io");
  EXPECT_FALSE(inferred.is_default);
  EXPECT_TRUE(inferred.default_ns.empty());
  // One inferred endpoint per host, stable.
  EXPECT_EQ(&config->endpoint_for("ghcr.io"), &inferred);
  EXPECT_EQ(&config->endpoint_for("ghcr.io/a/b"), &inferred);
}

TEST(EndpointFor, ReplacingDockerHub) {
  auto config = parse_registries_conf(R"(
registries:
- name: Hub mirror
  api_url: https://mirror.example.com
  prefix: index.docker.io
  limit: 50
)",
                                      "f");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->endpoints()[0].prefix, "docker.io");
  EXPECT_EQ(config->endpoint_for("docker.io").name, "Hub mirror");
  EXPECT_EQ(config->endpoint_for("").name, "Hub mirror");
  EXPECT_TRUE(config->default_endpoint().is_default);
  EXPECT_EQ(config->default_endpoint().name, "Hub mirror");
}

TEST(EndpointFor, CopiesAndThreads) {
  RegistriesConfig base;
  EXPECT_EQ(base.default_endpoint().name, "Docker Hub");
  RegistriesConfig copy = base;
  EXPECT_EQ(&copy.default_endpoint(), &copy.endpoint_for("docker.io"));
  EXPECT_NE(&copy.default_endpoint(), &base.default_endpoint());

  std::vector<std::thread> threads;
  std::vector<const Endpoint*> seen(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        seen[t] = &base.endpoint_for("host" + std::to_string(i % 10) + ".example.com");
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto* e : seen) {
    EXPECT_EQ(e, &base.endpoint_for("host9.example.com"));
  }
}

TEST(EndpointFor, FromEndpoints) {
  Endpoint a;
  a.name = "a";
  a.prefix = "reg.io";
  a.is_default = true;
  Endpoint b;
  b.name = "b";
  b.prefix = "REG.io/";
  b.is_default = true;
  RegistriesConfig config({a, b});
  EXPECT_EQ(config.endpoint_for("reg.io").name, "a"); // first of equal prefixes
  EXPECT_EQ(config.default_endpoint().name, "a");
  EXPECT_FALSE(config.endpoints()[1].is_default);
  EXPECT_EQ(config.endpoint_for("docker.io").name, "Docker Hub");
  EXPECT_FALSE(config.endpoint_for("docker.io").is_default);
}

TEST(InferredEndpoint, Values) {
  Endpoint e = inferred_endpoint("Registry.Example.com:5000");
  EXPECT_EQ(e.name, "registry.example.com:5000");
  EXPECT_EQ(e.api_url, "https://registry.example.com:5000");
  EXPECT_EQ(e.rate_limit, 20);
  Endpoint hub = docker_hub_endpoint();
  EXPECT_EQ(hub.api_url, "https://registry-1.docker.io");
  EXPECT_EQ(hub.prefix, "docker.io");
  EXPECT_EQ(hub.default_ns, "library");
  EXPECT_EQ(hub.rate_limit, 10);
  EXPECT_TRUE(hub.is_default);
}

} // namespace
