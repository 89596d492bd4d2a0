// The real kubectl (v1.32, .cache/tools/bin/kubectl) against `imageupdater-flux-source serve` in
// its SQLite mode, with a kubeconfig written here and a bearer token from the service's token
// file: discovery, get (table, -o yaml, -o json, the short name), create -f, apply -f twice
// (client-side apply: GET, then a merge patch keeping the last-applied annotation), create --raw
// (no Content-Type), delete, the refusals kubectl reports (no token, strict field validation,
// watch). Skipped, saying so, when kubectl is not there.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace {

using nlohmann::json;
using server_test::Service;
using test_support::contains;
using test_support::run_process;

const std::string k_token = "kubectl-token-0123456789abcdef";

std::string kubectl_path() {
  return std::string(IU_SOURCE_DIR) + "/.cache/tools/bin/kubectl";
}

const char* k_web = R"(apiVersion: gitops.kubesphere.io/v1alpha1
kind: ImageUpdater
metadata:
  name: web
spec:
  kind: argocd
  images:
    - web=127.0.0.1:5000/demo/web:~1.2
  argocd:
    app:
      name: web
)";

class KubectlTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::filesystem::exists(kubectl_path())) {
      GTEST_SKIP() << "kubectl not found at " << kubectl_path()
                   << " (fetched by scripts/get-tools.sh into .cache/tools/bin of the checkout)";
    }
    // kubectl sends a bearer token only over https (client-go drops credentials for http
    // servers), so the service serves TLS with a certificate the kubeconfig trusts.
    const std::string cert = m_dir.path() + "/tls.crt";
    const std::string key = m_dir.path() + "/tls.key";
    const auto made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                   "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                                   "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert});
    if (made.exit_code != 0) {
      GTEST_SKIP() << "openssl cannot make a certificate here: " << made.err;
    }
    const std::string tokens =
        m_dir.write("tokens.yaml", "tokens:\n  - name: admin\n    token: " + k_token +
                                       "\n    namespaces: [\"*\"]\n    access: write\n");
    m_service =
        std::make_unique<Service>(m_dir.path() + "/data", m_dir.path(),
                                  std::vector<std::string>{"--workers", "0", "--token-file", tokens,
                                                           "--tls-cert", cert, "--tls-key", key});
    ASSERT_NE(m_service->port(), 0) << m_service->log();
    const std::string server = "https://127.0.0.1:" + std::to_string(m_service->port());
    m_kubeconfig =
        m_dir.write("kubeconfig",
                    "apiVersion: v1\nkind: Config\nclusters:\n- name: iu\n  cluster:\n"
                    "    server: " +
                        server + "\n    certificate-authority: " + cert +
                        "\nusers:\n- name: admin\n  user:\n    token: " + k_token +
                        "\n- name: nobody\n  user: {token: not-a-known-token}\ncontexts:\n"
                        "- name: admin\n  context: {cluster: iu, user: admin, namespace: demo}\n"
                        "- name: nobody\n  context: {cluster: iu, user: nobody, namespace: demo}\n"
                        "current-context: admin\n");
  }

  test_support::ProcessResult kubectl(std::vector<std::string> args, const std::string& in = {}) {
    std::vector<std::string> argv = {kubectl_path(), "--kubeconfig", m_kubeconfig, "--cache-dir",
                                     m_dir.path() + "/kube-cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, in, 60);
  }

  test_support::TempDir m_dir;
  std::unique_ptr<Service> m_service;
  std::string m_kubeconfig;
};

TEST_F(KubectlTest, GetCreateApplyDelete) {
  auto empty = kubectl({"get", "imageupdaters"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err << m_service->log();
  EXPECT_TRUE(contains(empty.err, "No resources found in demo namespace")) << empty.err;

  auto resources = kubectl({"api-resources", "--api-group=gitops.kubesphere.io"});
  ASSERT_EQ(resources.exit_code, 0) << resources.err;
  EXPECT_TRUE(contains(resources.out, "iu,imgupd")) << resources.out;

  // create -f (stdin)
  auto created = kubectl({"create", "-f", "-"}, k_web);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "imageupdater.gitops.kubesphere.io/web created\n");

  // The table: the CRD's printer columns.
  auto table = kubectl({"get", "iu"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(contains(table.out, "NAME   KIND     READY   IMAGES   LAST CHECK   AGE"))
      << table.out;
  EXPECT_TRUE(contains(table.out, "web    argocd")) << table.out;
  auto all = kubectl({"get", "imageupdaters.gitops.kubesphere.io", "-A"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_TRUE(contains(all.out, "demo        web")) << all.out;

  // apply: created, then changed (GET + merge patch), then unchanged.
  const std::string api =
      std::string(k_web).replace(std::string(k_web).find("name: web\nspec"), 14, "name: api\nspec");
  auto applied = kubectl({"apply", "-f", "-"}, api);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(applied.out, "imageupdater.gitops.kubesphere.io/api created\n");
  std::string changed = api;
  changed.replace(changed.find("~1.2"), 4, "~1.3");
  auto configured = kubectl({"apply", "-f", "-"}, changed);
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  EXPECT_EQ(configured.out, "imageupdater.gitops.kubesphere.io/api configured\n");
  auto unchanged = kubectl({"apply", "-f", "-"}, changed);
  ASSERT_EQ(unchanged.exit_code, 0) << unchanged.err;
  EXPECT_EQ(unchanged.out, "imageupdater.gitops.kubesphere.io/api unchanged\n");

  auto yaml = kubectl({"get", "imageupdaters", "api", "-o", "yaml"});
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  EXPECT_TRUE(contains(yaml.out, "web=127.0.0.1:5000/demo/web:~1.3")) << yaml.out;
  EXPECT_TRUE(contains(yaml.out, "kubectl.kubernetes.io/last-applied-configuration")) << yaml.out;
  EXPECT_TRUE(contains(yaml.out, "generation: 2")) << yaml.out;

  // create --raw sends no Content-Type.
  const json raw = {
      {"apiVersion", "gitops.kubesphere.io/v1alpha1"},
      {"kind", "ImageUpdater"},
      {"metadata", {{"name", "raw"}}},
      {"spec",
       {{"kind", "argocd"}, {"images", {"nginx:^1.0"}}, {"argocd", {{"app", {{"name", "raw"}}}}}}}};
  auto posted =
      kubectl({"create", "--raw",
               "/apis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters", "-f", "-"},
              raw.dump());
  ASSERT_EQ(posted.exit_code, 0) << posted.err;
  EXPECT_EQ(json::parse(posted.out)["metadata"]["name"], "raw");

  auto as_json = kubectl({"get", "iu", "raw", "-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out)["spec"], raw["spec"]);

  // delete, by name and by file
  auto deleted = kubectl({"delete", "imageupdater", "raw"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "imageupdater.gitops.kubesphere.io \"raw\" deleted\n");
  auto by_file = kubectl({"delete", "-f", "-"}, changed);
  ASSERT_EQ(by_file.exit_code, 0) << by_file.err;
  auto gone = kubectl({"get", "iu", "api"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_TRUE(contains(gone.err, "imageupdaters.gitops.kubesphere.io \"api\" not found"))
      << gone.err;
  auto left = kubectl({"get", "iu", "-o", "name"});
  EXPECT_EQ(left.out, "imageupdater.gitops.kubesphere.io/web\n");
}

TEST_F(KubectlTest, RefusalsAsKubectlReportsThem) {
  auto unauthenticated = kubectl({"--context", "nobody", "get", "iu"});
  EXPECT_NE(unauthenticated.exit_code, 0);
  EXPECT_TRUE(contains(unauthenticated.err, "You must be logged in to the server"))
      << unauthenticated.err;

  std::string unknown = k_web;
  unknown += "    colour: blue\n";
  auto strict = kubectl({"create", "-f", "-"}, unknown);
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_TRUE(contains(strict.err, "unknown field \"spec.argocd.colour\"")) << strict.err;

  std::string invalid = k_web;
  invalid.replace(invalid.find("kind: argocd"), 12, "kind: helm");
  auto refused = kubectl({"create", "-f", "-"}, invalid);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.err, "is invalid")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "spec.kind")) << refused.err;

  auto watch = kubectl({"get", "iu", "--watch"});
  EXPECT_NE(watch.exit_code, 0);
  EXPECT_TRUE(contains(watch.err, "watch is not supported")) << watch.err;
}

} // namespace
