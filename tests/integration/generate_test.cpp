// `imageupdater-cmp generate` end to end, run exactly as Argo CD's cmp-server runs it: a fresh
// copy of an example application (examples/apps) as the working directory, the ARGOCD_APP_*
// environment and nothing else from ours, no stdin, a time limit; against the harness's real
// registry (the example images' registry address replaced by the test registry's).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/services_env.hpp"
#include "tests/support/process.hpp"

namespace it {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;

using test_support::contains;

std::string slurp(const fs::path& p) {
  return test_support::read_text_file(p.string());
}

void spit(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// PATH for the plugin: the tools scripts/get-tools.sh fetched (helm, kubectl: no Debian
// packages), then the system's; nothing from the caller.
const std::string k_tools = std::string(IU_SOURCE_DIR) + "/.cache/tools/bin";
const std::string k_path = k_tools + ":/usr/local/bin:/usr/bin:/bin";

bool on_path(const std::string& tool) {
  const std::vector<std::string> dirs{k_tools, "/usr/local/bin", "/usr/bin", "/bin"};
  return std::any_of(dirs.begin(), dirs.end(),
                     [&](const std::string& dir) { return fs::exists(dir + "/" + tool); });
}

class Generate : public ServicesTest {
protected:
  // examples/apps/<name> copied to a temp dir, the registry address replaced.
  fs::path app(const std::string& name) {
    const fs::path from = fs::path(IU_SOURCE_DIR) / "examples" / "apps" / name;
    const fs::path to = fs::path(m_dir.path()) / (name + std::to_string(m_copies++));
    fs::copy(from, to, fs::copy_options::recursive);
    for (const auto& e : fs::recursive_directory_iterator(to)) {
      if (e.is_regular_file()) {
        spit(e.path(), replace_all(slurp(e.path()), "127.0.0.1:5000", registry()));
      }
    }
    return to;
  }
  std::string registry() const { return env("REGISTRY_PLAIN_HOST"); }

  // cmp-server: cwd = the app, env = the sidecar's (here: PATH, HOME, a cache) + the app's.
  test_support::ProcessResult generate(const fs::path& dir, const std::string& app_name,
                                       std::vector<std::string> extra_env = {}) {
    std::vector<std::string> argv{
        "/usr/bin/env", "-i", "-C", dir.string(), std::string("PATH=") + k_path,
        "HOME=" + m_dir.path(), "IMAGEUPDATER_CACHE_DIR=" + m_dir.path() + "/cache",
        "ARGOCD_APP_NAME=" + app_name, "ARGOCD_APP_NAMESPACE=demo",
        "ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567", "KUBE_VERSION=1.30.0",
        // An env-only plugin source (examples/apps's Applications):
        // Argo CD sends the text "null" for the parameters.
        "ARGOCD_APP_PARAMETERS=null", "ARGOCD_ENV_IMAGEUPDATER_RECURSE=true"};
    argv.insert(argv.end(), extra_env.begin(), extra_env.end());
    argv.push_back(test_support::binary("imageupdater-cmp"));
    argv.push_back("generate");
    return test_support::run_process(argv, "", 90);
  }

  TempDir m_dir;
  int m_copies = 0;
};

TEST_F(Generate, PlainAppGetsTheResolvedImagesAndLosesTheSpec) {
  const auto dir = app("plain");
  const auto r = generate(dir, "demo-plain");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(
      contains(r.out, "image: " + registry() + "/demo/web:" + expected("DEMO_WEB_NEWEST_1_2")))
      << r.out;
  EXPECT_TRUE(contains(r.out, registry() + "/demo/worker:" + expected("DEMO_WORKER_NEWEST_BUILD")))
      << r.out;
  EXPECT_FALSE(contains(r.out, "kind: ImageUpdater")) << "specs are left out by default";
  EXPECT_FALSE(contains(r.out, ":main-0001")) << r.out;
  EXPECT_FALSE(contains(r.out, "level=")) << "logs go to stderr only";
  EXPECT_TRUE(contains(r.err, "image injected")) << r.err;
  // Comments and the rest of the files survive (only the image values changed).
  EXPECT_TRUE(contains(r.out, "# governed by imageupdater.yaml")) << r.out;

  // keep-specs as a plugin parameter keeps them.
  const auto kept = generate(dir, "demo-plain", {"PARAM_KEEP_SPECS=true"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_TRUE(contains(kept.out, "kind: ImageUpdater"));
}

TEST_F(Generate, KustomizeAppWithDigestPinning) {
  if (!on_path("kubectl") && !on_path("kustomize")) {
    GTEST_SKIP() << "neither kustomize nor kubectl on " << k_path;
  }
  const auto dir = app("kustomize");
  const auto r = generate(dir, "demo-kustomize");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, registry() + "/demo/web:" + expected("DEMO_WEB_NEWEST_1_2")))
      << r.out;
  EXPECT_TRUE(
      contains(r.out, registry() + "/demo/worker:latest@" + expected("DEMO_WORKER_LATEST_DIGEST")))
      << r.out;
  EXPECT_FALSE(contains(r.out, "kind: ImageUpdater"));
}

TEST_F(Generate, HelmApp) {
  if (!on_path("helm")) {
    GTEST_SKIP() << "no helm on " << k_path << " (not a Debian package: scripts/get-tools.sh "
                 << "fetches it; scripts/test.sh runs it)";
  }
  const auto dir = app("helm");
  const auto r = generate(dir, "demo-helm");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, registry() + "/demo/web:" + expected("DEMO_WEB_NEWEST_1_2")))
      << r.out;
}

TEST_F(Generate, NoImageUpdaterPassesTheManifestsThrough) {
  const auto dir = app("plain");
  fs::remove(dir / "imageupdater.yaml");
  const auto r = generate(dir, "demo-plain");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, registry() + "/demo/web:1.2.0")) << r.out;
  EXPECT_TRUE(contains(r.err, "pass through")) << r.err;
}

TEST_F(Generate, SpecForAnotherAppIsSkipped) {
  const auto dir = app("plain");
  const auto r = generate(dir, "some-other-app");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, registry() + "/demo/web:1.2.0")) << "untouched";
  EXPECT_TRUE(contains(r.err, "for application demo-plain, not some-other-app")) << r.err;
}

TEST_F(Generate, FailingRegistryFailsWithoutOutput) {
  const auto dir = app("plain");
  // A loopback port nothing listens on (the pager's "foreign" host is another address).
  spit(dir / "imageupdater.yaml",
       replace_all(slurp(dir / "imageupdater.yaml"), registry(), "127.0.0.1:9"));
  const auto r = generate(dir, "demo-plain", {"IMAGEUPDATER_TIMEOUT=3s"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "") << "never partial output";
  EXPECT_TRUE(contains(r.err, "cannot resolve")) << r.err;
  EXPECT_TRUE(contains(r.err, "127.0.0.1:9")) << r.err;
}

TEST_F(Generate, BadSpecIsExit2WithFileAndLine) {
  const auto dir = app("plain");
  spit(dir / "imageupdater.yaml",
       replace_all(slurp(dir / "imageupdater.yaml"), "worker: newest-build", "worker: newest"));
  const auto r = generate(dir, "demo-plain");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "imageupdater.yaml:")) << r.err;
  EXPECT_TRUE(contains(r.err, "newest")) << r.err;
}

TEST_F(Generate, MissingToolIsNamed) {
  const auto dir = app("plain");
  const auto r = generate(dir, "demo-plain", {"PATH=/nonexistent", "PARAM_RENDER=kustomize"});
  EXPECT_EQ(r.exit_code, 1) << "a rendering failure, as --help says";
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "kustomize")) << r.err;
  EXPECT_TRUE(contains(r.err, "kubectl")) << r.err;
}

TEST_F(Generate, DiscoverMatchesOnlyAppsWithASpec) {
  const auto dir = app("plain");
  const auto run = [&](const std::string& app_name) {
    return test_support::run_process({"/usr/bin/env", "-i", "-C", dir.string(),
                                      "ARGOCD_APP_NAME=" + app_name, "ARGOCD_APP_PARAMETERS=null",
                                      test_support::binary("imageupdater-cmp"), "discover"});
  };
  const auto yes = run("demo-plain");
  EXPECT_EQ(yes.exit_code, 0) << yes.err;
  EXPECT_EQ(yes.out, "imageupdater.yaml\n");
  const auto no = run("another-app");
  EXPECT_EQ(no.exit_code, 0) << no.err;
  EXPECT_EQ(no.out, "") << "no match: empty stdout";
  // Apps in any namespace: "<namespace>_<name>".
  const auto other_ns = run("team-a_demo-plain");
  EXPECT_EQ(other_ns.exit_code, 0) << other_ns.err;
  EXPECT_EQ(other_ns.out, "imageupdater.yaml\n");
}

} // namespace
} // namespace it

// ---------------------------------------------------------------------------------------------
// What a real Argo CD sends, render parity with Argo CD's own source types, tenants kept apart.
// ---------------------------------------------------------------------------------------------
namespace it {
namespace {

// Every stderr line is one logfmt event.
void expect_one_event_per_line(const std::string& err) {
  std::size_t start = 0;
  while (start < err.size()) {
    const std::size_t nl = err.find('\n', start);
    const std::string line = err.substr(start, nl - start);
    EXPECT_TRUE(line.starts_with("time=")) << "not an event: " << line;
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
}

class Tenancy : public Generate {
protected:
  // A repository with the plain example at apps/web; the mounted secrets of two namespaces.
  void SetUp() override {
    Generate::SetUp();
    m_repo = fs::path(m_dir.path()) / "repo";
    fs::create_directories(m_repo / "apps");
    fs::rename(app("plain"), m_repo / "apps" / "web");
    m_secrets = fs::path(m_dir.path()) / "secrets";
    for (const char* ns : {"demo", "team-b"}) {
      fs::create_directories(m_secrets / ns / "regcred");
      spit(m_secrets / ns / "regcred" / ".dockerconfigjson",
           std::string(R"({"auths":{"evil.example:5000":{"auth":")") + k_marker + R"("}}})");
    }
    m_outside = fs::path(m_dir.path()) / "outside";
    fs::create_directories(m_outside);
    spit(m_outside / "token", std::string(k_marker) + "\n");
  }
  fs::path app_dir() const { return m_repo / "apps" / "web"; }
  test_support::ProcessResult run(std::vector<std::string> extra = {},
                                  const std::string& app_name = "demo-plain") {
    extra.insert(extra.begin(), {"ARGOCD_APP_SOURCE_PATH=apps/web",
                                 "IMAGEUPDATER_SECRETS_DIR=" + m_secrets.string()});
    return generate(app_dir(), app_name, extra);
  }
  void expect_refused(const test_support::ProcessResult& r, int code, const std::string& why) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.out, "") << "never partial output";
    EXPECT_TRUE(contains(r.err, why)) << r.err;
    EXPECT_FALSE(contains(r.out + r.err, k_marker)) << "a secret's bytes leaked";
  }

  static constexpr const char* k_marker = "c2VjcmV0LW9mLWFub3RoZXItdGVhbQ";
  fs::path m_repo, m_secrets, m_outside;
};

TEST_F(Tenancy, OperatorSettingsFromTheApplicationAreRefused) {
  const std::vector<std::pair<std::string, std::string>> attempts = {
      {"ARGOCD_APP_PARAMETERS=[{\"name\":\"registries-conf\",\"string\":\"regs.conf\"}]",
       "setting registries-conf is operator configuration"},
      {"PARAM_SECRETS_DIR=/", "setting secrets-dir is operator configuration"},
      {"ARGOCD_ENV_IMAGEUPDATER_CACHE_DIR=/tmp", "setting cache-dir is operator configuration"},
      {"ARGOCD_ENV_IMAGEUPDATER_KUSTOMIZE_BUILD_OPTIONS=--enable-exec",
       "setting kustomize-build-options is operator configuration"},
  };
  for (const auto& [var, why] : attempts) {
    expect_refused(run({var}), 2, why);
  }
}

TEST_F(Tenancy, FilesOutsideTheRepositoryAreRefused) {
  // A values file, a spec file, a symlink planted in the repository: each would have put a
  // mounted secret into the manifests or the log.
  spit(app_dir() / "Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n");
  expect_refused(run({"PARAM_HELM_VALUES_FILES_0=../../../outside/token"}), 2,
                 "resolves outside the application's repository");
  expect_refused(run({"PARAM_HELM_VALUES_FILES_0=" + (m_outside / "token").string()}), 1,
                 "no such file");
  fs::remove(app_dir() / "Chart.yaml");
  expect_refused(run({"PARAM_SPECS_0=../../../outside/token"}), 2,
                 "resolves outside the application's repository");
  fs::create_symlink(m_outside / "token", app_dir() / "token.yaml");
  expect_refused(run(), 2, "symlink that leaves it: apps/web/token.yaml");
  fs::remove(app_dir() / "token.yaml");
  fs::create_symlink(m_outside, m_repo / "elsewhere");
  expect_refused(run(), 2, "symlink that leaves it: elsewhere");
  expect_refused(run({}, "demo-plain"), 2, "symlink");
}

TEST_F(Tenancy, KustomizeCannotReadTheSidecarsFiles) {
  if (!on_path("kubectl") && !on_path("kustomize")) {
    GTEST_SKIP() << "neither kustomize nor kubectl on " << k_path;
  }
  // kustomize's default load restrictor keeps files inside the kustomization root; the operator
  // alone could loosen it (kustomize-build-options), never the Application.
  for (const std::string& kustomization : std::vector<std::string>{
           "configMapGenerator:\n- name: x\n  files:\n  - " + (m_outside / "token").string() + "\n",
           "configMapGenerator:\n- name: x\n  files:\n  - ../../../outside/token\n",
           "resources:\n- ../../../outside/token\n"}) {
    spit(app_dir() / "kustomization.yaml", kustomization);
    expect_refused(run(), 1, "kustomize");
  }
  expect_refused(run({"ARGOCD_ENV_IMAGEUPDATER_KUSTOMIZE_BUILD_OPTIONS=--load-restrictor "
                      "LoadRestrictionsNone"}),
                 2, "operator configuration");
}

TEST_F(Tenancy, PullSecretsOfAnotherNamespaceAndHostSourcesAreRefused) {
  const std::string spec = slurp(app_dir() / "imageupdater.yaml");
  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"pullsecret:team-b/regcred", "namespace \\\"team-b\\\""},
      {"secret:team-b/regcred#.dockerconfigjson", "namespace \\\"team-b\\\""},
      {"team-b/regcred", "namespace \\\"team-b\\\""},
      {"env:IMAGEUPDATER_SECRETS_DIR", "operator configuration"},
      {"ext:/bin/sh", "operator configuration"},
  };
  for (const auto& [secret, why] : secrets) {
    spit(app_dir() / "imageupdater.yaml",
         replace_all(spec, "      name: demo-plain\n",
                     "      name: demo-plain\n    secret:\n      web: \"" + secret + "\"\n"));
    const auto r = run();
    expect_refused(r, 2, why);
    EXPECT_TRUE(contains(r.err, "imageupdater.yaml:")) << r.err;
  }
  // The Application's own namespace is fine: a bare name means it (the app's namespace, not
  // one written in the spec), and for "<ns>_<name>" the namespace part.
  spit(app_dir() / "imageupdater.yaml",
       replace_all(replace_all(spec, "  namespace: demo\n", ""), "      name: demo-plain\n",
                   "      name: demo-plain\n    secret:\n      web: regcred\n"));
  // (team-b's secret has no entry for the test registry: the resolver says so, which shows the
  // secret used is the Application's own.)
  const auto own = run({}, "team-b_demo-plain");
  EXPECT_EQ(own.exit_code, 1) << own.err;
  EXPECT_TRUE(contains(own.err, "secrets/team-b/regcred/.dockerconfigjson")) << own.err;
  EXPECT_FALSE(contains(own.out + own.err, k_marker));
  const auto other = run({}, "demo-plain"); // control-plane namespace "argocd": no such secret
  EXPECT_EQ(other.exit_code, 1) << other.err;
  EXPECT_TRUE(contains(other.err, "argocd/regcred")) << other.err;
  EXPECT_FALSE(contains(other.err, "team-b")) << other.err;
  EXPECT_FALSE(contains(other.out + other.err, k_marker));
}

TEST_F(Generate, AppsInAnyNamespaceAndSpecNamespaces) {
  const auto dir = app("plain");
  // "<namespace>_<name>": the name matches a spec that names no namespace.
  const auto r = generate(dir, "team-a_demo-plain");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, registry() + "/demo/web:" + expected("DEMO_WEB_NEWEST_1_2")));
  // A spec that names the Application's namespace matches only there.
  const std::string spec = slurp(dir / "imageupdater.yaml");
  spit(dir / "imageupdater.yaml", replace_all(spec, "      name: demo-plain\n",
                                              "      name: demo-plain\n      namespace: team-a\n"));
  const auto there = generate(dir, "team-a_demo-plain");
  ASSERT_EQ(there.exit_code, 0) << there.err;
  EXPECT_TRUE(contains(there.out, registry() + "/demo/web:" + expected("DEMO_WEB_NEWEST_1_2")));
  const auto elsewhere = generate(dir, "team-b_demo-plain");
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
  EXPECT_TRUE(contains(elsewhere.out, registry() + "/demo/web:1.2.0")) << "untouched";
  EXPECT_TRUE(contains(elsewhere.err, "for application team-a/demo-plain, not team-b/demo-plain"))
      << elsewhere.err;
  expect_one_event_per_line(elsewhere.err);
}

TEST_F(Generate, NeverAnEmptyAppAndUnmatchedImagesAreVisible) {
  const auto dir = app("plain");
  fs::remove(dir / "deployment.yaml");
  fs::remove(dir / "service.yaml");
  fs::remove(dir / "settings.json");
  fs::remove_all(dir / "worker");
  const auto empty = generate(dir, "demo-plain");
  EXPECT_EQ(empty.exit_code, 1) << empty.err;
  EXPECT_EQ(empty.out, "");
  EXPECT_TRUE(contains(empty.err, "rendered no manifests")) << empty.err;
  const auto allowed = generate(dir, "demo-plain", {"PARAM_ALLOW_EMPTY=true"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;

  const auto dir2 = app("plain");
  fs::remove_all(dir2 / "worker");
  const auto warned = generate(dir2, "demo-plain");
  ASSERT_EQ(warned.exit_code, 0) << warned.err;
  EXPECT_TRUE(contains(warned.err, "level=warn")) << warned.err;
  EXPECT_TRUE(contains(warned.err, "matches nothing")) << warned.err;
  EXPECT_TRUE(contains(warned.err, "/demo/worker")) << warned.err;
  const auto strict = generate(dir2, "demo-plain", {"ARGOCD_ENV_IMAGEUPDATER_STRICT=true"});
  EXPECT_EQ(strict.exit_code, 1) << strict.err;
  EXPECT_EQ(strict.out, "");
}

TEST_F(Generate, LogsAreOneEventPerLineWithALevelSetting) {
  const auto dir = app("plain");
  const auto info = generate(dir, "demo-plain");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  expect_one_event_per_line(info.err);
  EXPECT_FALSE(contains(info.err, "level=debug"));
  EXPECT_FALSE(contains(info.err, "fingerprint")) << "a debug line: " << info.err;
  const auto debug = generate(dir, "demo-plain", {"PARAM_LOG_LEVEL=debug"});
  ASSERT_EQ(debug.exit_code, 0) << debug.err;
  EXPECT_TRUE(contains(debug.err, "level=debug")) << debug.err;
  EXPECT_TRUE(contains(debug.err, "fingerprint=sha256:")) << debug.err;
  expect_one_event_per_line(debug.err);
  // A failed resolution has no fingerprint.
  spit(dir / "imageupdater.yaml",
       replace_all(slurp(dir / "imageupdater.yaml"), registry(), "127.0.0.1:9"));
  const auto failed =
      generate(dir, "demo-plain", {"IMAGEUPDATER_TIMEOUT=3s", "PARAM_LOG_LEVEL=debug"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_FALSE(contains(failed.err, "fingerprint")) << failed.err;
  expect_one_event_per_line(failed.err);
}

// Runs a tool directly, as the golden reference.
std::string reference_output(const fs::path& cwd, std::vector<std::string> argv) {
  std::vector<std::string> full{"/usr/bin/env",        "-i", "-C", cwd.string(), "PATH=" + k_path,
                                "HOME=" + cwd.string()};
  full.insert(full.end(), argv.begin(), argv.end());
  const auto r = test_support::run_process(full, "", 90);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// A chart as Argo CD users keep them: CRDs, a file:// dependency not vendored, a values file in
// a sibling directory of the repository.
void write_chart(const fs::path& repo) {
  fs::create_directories(repo / "apps/web/crds");
  fs::create_directories(repo / "apps/web/templates");
  fs::create_directories(repo / "libs/common/templates");
  fs::create_directories(repo / "values");
  spit(repo / "apps/web/Chart.yaml",
       "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n"
       "  - name: common\n    version: 0.1.0\n    repository: file://../../libs/common\n");
  spit(repo / "apps/web/crds/widgets.yaml",
       "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
       "  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, "
       "plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: "
       "true, schema: {openAPIV3Schema: {type: object}}}]\n");
  spit(repo / "apps/web/values.yaml", "replicas: 1\nimage: nginx:1.25.0\nport: \"80\"\n");
  spit(repo / "apps/web/templates/deployment.yaml",
       "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
       "  namespace: {{ .Release.Namespace }}\n  annotations:\n"
       "    kube: \"{{ .Capabilities.KubeVersion.Version }}\"\n"
       "    apps: \"{{ .Capabilities.APIVersions.Has \"example.com/v1\" }}\"\n"
       "    port-kind: \"{{ kindOf .Values.port }}\"\n    note: {{ .Values.note | quote }}\n"
       "spec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n"
       "        - name: web\n          image: {{ .Values.image }}\n");
  spit(repo / "libs/common/Chart.yaml", "apiVersion: v2\nname: common\nversion: 0.1.0\n");
  spit(repo / "libs/common/templates/cm.yaml",
       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-common\n");
  spit(repo / "values/prod.yaml", "replicas: 3\n");
}

TEST_F(Generate, HelmRendersAsArgoCdsOwnHelmSource) {
  if (!on_path("helm")) {
    GTEST_SKIP() << "no helm on " << k_path;
  }
  const fs::path ours = fs::path(m_dir.path()) / "ours";
  const fs::path theirs = fs::path(m_dir.path()) / "theirs";
  write_chart(ours);
  write_chart(theirs);
  const auto r = generate(
      ours / "apps/web", "team-a_web",
      {"ARGOCD_APP_SOURCE_PATH=apps/web", "ARGOCD_APP_NAMESPACE=prod",
       "KUBE_API_VERSIONS=v1,apps/v1,example.com/v1",
       R"(ARGOCD_APP_PARAMETERS=[{"name":"helm-values-files","array":["../../values/prod.yaml"]},)"
       R"({"name":"helm-parameters","map":{"note":"a,b"}},)"
       R"({"name":"helm-string-parameters","map":{"port":"8080"}}])"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Argo CD's argv (util/helm/cmd.go), after `helm dependency build` as its repo-server runs it.
  reference_output(theirs / "apps/web", {"helm", "dependency", "build"});
  const std::string want =
      reference_output(theirs / "apps/web", {"helm",
                                             "template",
                                             ".",
                                             "--name-template",
                                             "web",
                                             "--namespace",
                                             "prod",
                                             "--kube-version",
                                             "1.30.0",
                                             "--set",
                                             "note=a\\,b",
                                             "--set-string",
                                             "port=8080",
                                             "--values",
                                             (theirs / "values/prod.yaml").string(),
                                             "--api-versions",
                                             "v1",
                                             "--api-versions",
                                             "apps/v1",
                                             "--api-versions",
                                             "example.com/v1",
                                             "--include-crds"});
  EXPECT_EQ(r.out, want);
  EXPECT_TRUE(contains(r.out, "kind: CustomResourceDefinition")) << "crds/ are rendered";
  EXPECT_TRUE(contains(r.out, "name: web\n")) << "release name without the namespace part";
  EXPECT_TRUE(contains(r.out, "replicas: 3")) << "values file outside the app, inside the repo";
  EXPECT_TRUE(contains(r.out, "name: web-common")) << "the dependency was built";
  EXPECT_TRUE(contains(r.out, "port-kind: \"string\""));
  EXPECT_TRUE(contains(r.out, "note: \"a,b\""));

  // helm-skip-crds leaves them out.
  const auto skipped = generate(ours / "apps/web", "team-a_web",
                                {"ARGOCD_APP_SOURCE_PATH=apps/web", "PARAM_HELM_SKIP_CRDS=true"});
  ASSERT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_FALSE(contains(skipped.out, "CustomResourceDefinition"));

  // A broken template is a rendering failure: exit 1, as --help says.
  spit(ours / "apps/web/templates/broken.yaml", "{{ .Values.nope.deeper }}\n");
  const auto broken =
      generate(ours / "apps/web", "team-a_web", {"ARGOCD_APP_SOURCE_PATH=apps/web"});
  EXPECT_EQ(broken.exit_code, 1) << broken.err;
  EXPECT_EQ(broken.out, "");
}

TEST_F(Generate, HelmRemoteDependencyThatCannotBeFetchedIsNamed) {
  if (!on_path("helm")) {
    GTEST_SKIP() << "no helm on " << k_path;
  }
  const fs::path repo = fs::path(m_dir.path()) / "remote";
  write_chart(repo);
  spit(repo / "apps/web/Chart.yaml",
       "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n"
       "  - name: redis\n    version: 1.0.0\n    repository: https://charts.invalid.example\n");
  const auto r = generate(repo / "apps/web", "web", {"ARGOCD_APP_SOURCE_PATH=apps/web"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "redis (https://charts.invalid.example)")) << r.err;
}

TEST_F(Generate, KustomizeRendersAsArgoCdWithBuildOptionsAndWarnings) {
  if (!on_path("kubectl")) {
    GTEST_SKIP() << "no kubectl on " << k_path;
  }
  const fs::path repo = fs::path(m_dir.path()) / "kust";
  fs::create_directories(repo / "apps/web");
  fs::create_directories(repo / "shared");
  spit(repo / "shared/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n");
  // A file outside the kustomization root needs --load-restrictor LoadRestrictionsNone;
  // commonLabels draws kustomize's deprecation warning.
  spit(repo / "apps/web/kustomization.yaml",
       "resources:\n  - ../../shared/cm.yaml\ncommonLabels:\n  team: a\n");
  const auto refused = generate(repo / "apps/web", "web", {"ARGOCD_APP_SOURCE_PATH=apps/web"});
  EXPECT_EQ(refused.exit_code, 1) << "kustomize's default load restrictor";
  const auto r = generate(repo / "apps/web", "web",
                          {"ARGOCD_APP_SOURCE_PATH=apps/web",
                           "IMAGEUPDATER_KUSTOMIZE_BUILD_OPTIONS=--load-restrictor "
                           "LoadRestrictionsNone"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string want =
      reference_output(repo / "apps/web",
                       {"kubectl", "kustomize", ".", "--load-restrictor", "LoadRestrictionsNone"});
  EXPECT_EQ(r.out, want);
  EXPECT_TRUE(contains(r.err, "level=warn")) << r.err;
  EXPECT_TRUE(contains(r.err, "commonLabels")) << "kustomize's warning reaches the log: " << r.err;
  expect_one_event_per_line(r.err);
}

// Generate's output as JSON objects (one document each), for comparing with jsonnet's.
nlohmann::json objects_of(const std::string& stream) {
  nlohmann::json out = nlohmann::json::array();
  std::size_t at = 0;
  while ((at = stream.find("---\n", at)) != std::string::npos) {
    at += 4;
    const std::size_t end = stream.find('\n', at);
    out.push_back(nlohmann::json::parse(stream.substr(at, end - at)));
  }
  return out;
}

TEST_F(Generate, JsonnetDirectoriesRenderWithArgoCdsSettings) {
  const fs::path repo = fs::path(m_dir.path()) / "jsonnet";
  fs::create_directories(repo / "apps/web");
  fs::create_directories(repo / "vendor/k");
  spit(repo / "vendor/k/k.libsonnet",
       "{ cm(name, data): {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: name}, "
       "data: data} }\n");
  spit(repo / "apps/web/main.jsonnet",
       "local k = import 'k/k.libsonnet';\n"
       "function(replicas=1) [\n"
       "  k.cm('web-' + std.extVar('env'), {replicas: std.toString(replicas), n: std.toString("
       "std.extVar('n'))}),\n"
       "  {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web'}, spec: {replicas: "
       "replicas, template: {spec: {containers: [{name: 'web', image: 'nginx:1.25.0'}]}}}},\n"
       "  null,\n]\n");
  const std::vector<std::string> env = {
      "ARGOCD_APP_SOURCE_PATH=apps/web",
      R"(ARGOCD_APP_PARAMETERS=[{"name":"jsonnet-ext-vars","map":{"env":"prod"}},)"
      R"({"name":"jsonnet-ext-code","map":{"n":"1+1"}},)"
      R"({"name":"jsonnet-tla-code","map":{"replicas":"3"}},)"
      R"({"name":"jsonnet-libs","array":["vendor"]}])"};
  const auto r = generate(repo / "apps/web", "web", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = objects_of(r.out);
  ASSERT_EQ(got.size(), 2u) << r.out;
  EXPECT_EQ(got[0]["metadata"]["name"], "web-prod");
  EXPECT_EQ(got[0]["data"]["n"], "2");
  EXPECT_EQ(got[1]["spec"]["replicas"], 3);
  if (on_path("jsonnet")) { // Debian's jsonnet: the same evaluation, null items dropped
    const std::string want = reference_output(
        repo / "apps/web", {"jsonnet", "-J", (repo / "vendor").string(), "--ext-str", "env=prod",
                            "--ext-code", "n=1+1", "--tla-code", "replicas=3", "main.jsonnet"});
    auto reference = nlohmann::json::parse(want);
    reference.erase(2);
    EXPECT_EQ(got, reference);
  }

  // Imports stay in the repository: a mounted secret is never read.
  spit(repo / "apps/web/main.jsonnet",
       "{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x'}, data: {t: importstr '" +
           (fs::path(m_dir.path()) / "secret-token").string() + "'}}\n");
  spit(fs::path(m_dir.path()) / "secret-token", "c2VjcmV0LW9mLWFub3RoZXItdGVhbQ\n");
  const auto leak = generate(repo / "apps/web", "web", env);
  EXPECT_EQ(leak.exit_code, 1) << leak.err;
  EXPECT_EQ(leak.out, "");
  EXPECT_TRUE(contains(leak.err, "outside the application's repository")) << leak.err;
  EXPECT_FALSE(contains(leak.err, "c2VjcmV0LW9mLWFub3RoZXItdGVhbQ"));
  // A runaway evaluation is stopped, never a hang.
  spit(repo / "apps/web/main.jsonnet", "local f(x) = f(x + 1) tailstrict; f(0)\n");
  const auto hang = generate(repo / "apps/web", "web",
                             {"ARGOCD_APP_SOURCE_PATH=apps/web", "IMAGEUPDATER_RENDER_TIMEOUT=3s"});
  EXPECT_EQ(hang.exit_code, 1) << hang.err;
  EXPECT_EQ(hang.out, "");
  EXPECT_TRUE(contains(hang.err, "Jsonnet")) << hang.err;
}

} // namespace
} // namespace it
