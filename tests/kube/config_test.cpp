#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/kube/config.hpp"
#include "common/util/clock.hpp"
#include "common/util/file.hpp"

#include "tests/kube/fakes.hpp"

namespace common::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeEnvironment;
using util::ErrorKind;

class KubeConfig : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() /
            ("iu-kube-config-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(m_dir);
    std::filesystem::create_directories(m_dir);
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = m_dir / name;
    std::filesystem::create_directories(path.parent_path());
    EXPECT_TRUE(util::write_file_atomic(path.string(), text).has_value());
    return path.string();
  }
  std::string path(const std::string& name) const { return (m_dir / name).string(); }

  std::filesystem::path m_dir;
  FakeEnvironment m_env;
};

// A kubeconfig with one cluster "c" (server `server`), the users and contexts given.
std::string kubeconfig(const std::string& cluster_extra, const std::string& user,
                       const std::string& context_extra = "",
                       const std::string& current = "current-context: ctx\n") {
  return "apiVersion: v1\nkind: Config\n" + current +
         "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443/\n" + cluster_extra +
         "users:\n- name: alice\n  user:\n" + user +
         "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: alice\n" + context_extra +
         "- name: other\n  context:\n    cluster: c\n    user: alice\n    namespace: other-ns\n";
}

struct Case {
  const char* name;
  std::string yaml;
  std::string context;
  std::optional<ErrorKind> error;             // nullopt: loads
  std::string in_message;                     // the error message (or source) contains this
  std::function<void(const Config&)> check{}; // for configs that load
};

TEST_F(KubeConfig, Kubeconfigs) {
  write("certs/ca.pem", "CA");
  write("certs/client.pem", "CERT");
  write("certs/client.key", "KEY");
  write("token", "file-token\n");
  const std::vector<Case> cases = {
      {"token, current context, namespace",
       kubeconfig("", "    token: s3cret\n", "    namespace: team\n"), "", std::nullopt,
       "context ctx",
       [](const Config& c) {
         EXPECT_EQ(c.server, "https://127.0.0.1:6443");
         EXPECT_EQ(c.token, "s3cret");
         EXPECT_EQ(c.namespace_, "team");
         EXPECT_FALSE(c.insecure);
       }},
      {"named context", kubeconfig("", "    token: t\n"), "other", std::nullopt, "context other",
       [](const Config& c) { EXPECT_EQ(c.namespace_, "other-ns"); }},
      {"default namespace", kubeconfig("", "    token: t\n"), "", std::nullopt, "",
       [](const Config& c) { EXPECT_EQ(c.namespace_, "default"); }},
      {"relative paths",
       kubeconfig("    certificate-authority: certs/ca.pem\n",
                  "    client-certificate: certs/client.pem\n"
                  "    client-key: ./certs/../certs/client.key\n"
                  "    tokenFile: token\n"),
       "", std::nullopt, "",
       [this](const Config& c) {
         EXPECT_EQ(c.ca_file, path("certs/ca.pem"));
         EXPECT_EQ(c.client_cert_file, path("certs/client.pem"));
         EXPECT_EQ(c.client_key_file, path("certs/client.key"));
         EXPECT_EQ(c.token_file, path("token"));
       }},
      {"data fields",
       kubeconfig("    certificate-authority-data: Q0EgUEVN\n"
                  "    insecure-skip-tls-verify: true\n",
                  "    client-certificate-data: Q0VSVA==\n"
                  "    client-key-data: S0VZ\n"),
       "", std::nullopt, "",
       [](const Config& c) {
         EXPECT_EQ(c.ca_data, "CA PEM");
         EXPECT_EQ(c.client_cert_data, "CERT");
         EXPECT_EQ(c.client_key_data, "KEY");
         EXPECT_TRUE(c.insecure);
       }},
      {"missing CA file", kubeconfig("    certificate-authority: nope.pem\n", "    token: t\n"), "",
       ErrorKind::not_found, "clusters[c].cluster.certificate-authority"},
      {"missing token file", kubeconfig("", "    tokenFile: /nonexistent/token\n"), "",
       ErrorKind::not_found, "users[alice].user.tokenFile: no such file /nonexistent/token"},
      {"bad base64",
       kubeconfig("", "    client-certificate-data: Q0VSVA==\n"
                      "    client-key-data: '!!!'\n"),
       "", ErrorKind::invalid_input, "users[alice].user.client-key-data: not valid base64"},
      {"certificate without key", kubeconfig("", "    client-certificate-data: Q0VSVA==\n"), "",
       ErrorKind::invalid_input, "without its client-key"},
      {"exec user", kubeconfig("", "    exec:\n      command: aws\n"), "", ErrorKind::unsupported,
       "user \"alice\": exec is not supported"},
      {"auth-provider user", kubeconfig("", "    auth-provider:\n      name: gcp\n"), "",
       ErrorKind::unsupported, "user \"alice\": auth-provider is not supported"},
      {"basic auth", kubeconfig("", "    username: u\n    password: p\n"), "",
       ErrorKind::unsupported, "username is not supported"},
      {"proxy-url", kubeconfig("    proxy-url: http://proxy:3128\n", "    token: t\n"), "",
       ErrorKind::unsupported, "clusters[c].cluster.proxy-url"},
      {"bad insecure flag", kubeconfig("    insecure-skip-tls-verify: maybe\n", "    token: t\n"),
       "", ErrorKind::invalid_input, "insecure-skip-tls-verify: want true or false"},
      {"no current context", kubeconfig("", "    token: t\n", "", ""), "", ErrorKind::invalid_input,
       "no current-context"},
      {"unknown context", kubeconfig("", "    token: t\n"), "nope", ErrorKind::not_found,
       "no context named \"nope\""},
      {"unknown cluster",
       "current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: gone\n", "",
       ErrorKind::not_found, "contexts[x].context.cluster: no cluster named \"gone\""},
      {"unknown user",
       "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://h\n"
       "contexts:\n- name: x\n  context:\n    cluster: c\n    user: bob\n",
       "", ErrorKind::not_found, "no user named \"bob\""},
      {"missing server",
       "current-context: x\nclusters:\n- name: c\n  cluster: {}\n"
       "contexts:\n- name: x\n  context:\n    cluster: c\n",
       "", ErrorKind::invalid_input, "clusters[c].cluster.server: missing"},
      {"malformed YAML", "clusters: [\n", "", ErrorKind::invalid_input, "not valid YAML"},
      {"not a map", "- a\n- b\n", "", ErrorKind::invalid_input, "not a kubeconfig"},
      {"clusters not a list", "clusters: {}\n", "", ErrorKind::invalid_input,
       "clusters: want a list"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = write("config", c.yaml);
    const auto config = load_kubeconfig(m_env, {file}, c.context);
    if (c.error) {
      ASSERT_FALSE(config.has_value());
      EXPECT_EQ(config.error().kind, *c.error) << config.error().message;
      EXPECT_NE(config.error().message.find(c.in_message), std::string::npos)
          << config.error().message;
      EXPECT_EQ(config.error().message.find("s3cret"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_NE(config->source.find(c.in_message), std::string::npos) << config->source;
    c.check(*config);
  }
}

TEST_F(KubeConfig, KubeconfigListMergesFirstWinsAndSkipsMissingFiles) {
  const std::string a =
      write("a", "current-context: first\n"
                 "clusters:\n- name: c\n  cluster:\n    server: https://a.example\n"
                 "users:\n- name: u\n  user:\n    token: from-a\n"
                 "contexts:\n- name: first\n  context:\n    cluster: c\n    user: u\n");
  const std::string b =
      write("b", "current-context: second\n"
                 "clusters:\n- name: c\n  cluster:\n    server: https://b.example\n"
                 "- name: d\n  cluster:\n    server: https://d.example\n"
                 "users:\n- name: u\n  user:\n    token: from-b\n"
                 "contexts:\n- name: first\n  context:\n    cluster: d\n"
                 "- name: second\n  context:\n    cluster: d\n    user: u\n");
  m_env.vars["KUBECONFIG"] = path("missing") + ":" + a + "::" + b;
  auto config = load("", m_env);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server, "https://a.example");
  EXPECT_EQ(config->token, "from-a");
  LoadOptions second;
  second.context = "second";
  config = load("", m_env, second);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server, "https://d.example");
  EXPECT_EQ(config->token, "from-a"); // user u from the first file

  m_env.vars["KUBECONFIG"] = path("missing") + ":" + path("missing2");
  config = load("", m_env);
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().kind, ErrorKind::not_found);
  EXPECT_NE(config.error().message.find("missing2"), std::string::npos);
}

TEST_F(KubeConfig, PrecedenceFlagThenKubeconfigThenInClusterThenHome) {
  const auto one = [](const std::string& server) {
    return "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: " + server +
           "\ncontexts:\n- name: x\n  context:\n    cluster: c\n";
  };
  const std::string flag = write("flag", one("https://flag.example"));
  const std::string env_file = write("env", one("https://env.example"));
  write("home/.kube/config", one("https://home.example"));
  write("sa/token", "sa-token");
  write("sa/ca.crt", "CA");
  m_env.vars = {{"KUBECONFIG", env_file},
                {"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                {"KUBERNETES_SERVICE_PORT", "443"},
                {"HOME", path("home")}};
  LoadOptions options;
  options.service_account_dir = path("sa");
  EXPECT_EQ(load(flag, m_env, options)->server, "https://flag.example");
  EXPECT_EQ(load("", m_env, options)->server, "https://env.example");
  m_env.vars.erase("KUBECONFIG");
  EXPECT_EQ(load("", m_env, options)->server, "https://10.0.0.1:443");
  m_env.vars.erase("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(load("", m_env, options)->server, "https://home.example");
  m_env.vars.erase("HOME");
  const auto none = load("", m_env, options);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().kind, ErrorKind::not_found);
  const auto missing_flag = load(path("nope"), m_env, options);
  ASSERT_FALSE(missing_flag.has_value());
  EXPECT_EQ(missing_flag.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing_flag.error().message.find(path("nope")), std::string::npos);
}

TEST_F(KubeConfig, InCluster) {
  write("sa/token", "sa-token\n");
  write("sa/ca.crt", "CA");
  write("sa/namespace", "flux-system\n");
  m_env.vars = {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}};
  auto config = load_in_cluster(m_env, path("sa"));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server, "https://[fd00::1]:6443");
  EXPECT_EQ(config->token_file, path("sa/token"));
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->ca_file, path("sa/ca.crt"));
  EXPECT_EQ(config->namespace_, "flux-system");
  EXPECT_EQ(config->source, "in-cluster");

  std::filesystem::remove(path("sa/namespace"));
  EXPECT_EQ(load_in_cluster(m_env, path("sa"))->namespace_, "default");
  std::filesystem::remove(path("sa/ca.crt"));
  auto no_ca = load_in_cluster(m_env, path("sa"));
  ASSERT_FALSE(no_ca.has_value());
  EXPECT_NE(no_ca.error().message.find("ca.crt"), std::string::npos);
  std::filesystem::remove(path("sa/token"));
  auto no_token = load_in_cluster(m_env, path("sa"));
  ASSERT_FALSE(no_token.has_value());
  EXPECT_EQ(no_token.error().kind, ErrorKind::not_found);
  EXPECT_NE(no_token.error().message.find(path("sa/token")), std::string::npos);
  m_env.vars.clear();
  EXPECT_EQ(load_in_cluster(m_env, path("sa")).error().kind, ErrorKind::not_found);
}

TEST_F(KubeConfig, TokenFileIsReReadWhenItChangesAtMostOncePerInterval) {
  const std::string file = write("token", "one\n");
  util::FakeClock clock;
  TokenSource source("static-ignored", file, m_env, clock, 5s);
  EXPECT_EQ(*source.get(), "one");
  const int reads = m_env.reads;
  write("token", "two");           // a new inode, as a secret volume's symlink swap gives
  EXPECT_EQ(*source.get(), "one"); // not checked again within the interval
  clock.advance(5s);
  EXPECT_EQ(*source.get(), "two");
  EXPECT_EQ(m_env.reads, reads + 1);
  clock.advance(5s);
  EXPECT_EQ(*source.get(), "two");
  EXPECT_EQ(m_env.reads, reads + 1); // unchanged: not re-read
  std::filesystem::remove(file);
  clock.advance(5s);
  EXPECT_EQ(*source.get(), "two"); // the last good token is kept

  TokenSource missing("", path("nope"), m_env, clock);
  const auto error = missing.get();
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().kind, ErrorKind::auth);
  EXPECT_NE(error.error().message.find(path("nope")), std::string::npos);

  TokenSource fixed("static", "", m_env, clock);
  EXPECT_EQ(*fixed.get(), "static");
  Config config;
  config.token = "static";
  config.token_file = write("token2", "from-file");
  EXPECT_EQ(*TokenSource::of(config, m_env, clock)->get(), "from-file");
}

} // namespace
} // namespace common::kube
