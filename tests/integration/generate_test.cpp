// `imageupdater-cmp generate` end to end, run exactly as Argo CD's cmp-server runs it: a fresh
// copy of an example application (examples/apps) as the working directory, the ARGOCD_APP_*
// environment and nothing else from ours, no stdin, a time limit; against the harness's real
// registry (the example images' registry address replaced by the test registry's).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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
    const fs::path to = fs::path(m_dir.path()) / name;
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
    std::vector<std::string> argv{"/usr/bin/env",
                                  "-i",
                                  "-C",
                                  dir.string(),
                                  std::string("PATH=") + k_path,
                                  "HOME=" + m_dir.path(),
                                  "IMAGEUPDATER_CACHE_DIR=" + m_dir.path() + "/cache",
                                  "ARGOCD_APP_NAME=" + app_name,
                                  "ARGOCD_APP_NAMESPACE=demo",
                                  "ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567",
                                  "KUBE_VERSION=1.30.0"};
    argv.insert(argv.end(), extra_env.begin(), extra_env.end());
    argv.push_back(test_support::binary("imageupdater-cmp"));
    argv.push_back("generate");
    return test_support::run_process(argv, "", 90);
  }

  TempDir m_dir;
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
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "kustomize")) << r.err;
  EXPECT_TRUE(contains(r.err, "kubectl")) << r.err;
}

TEST_F(Generate, DiscoverMatchesOnlyAppsWithASpec) {
  const auto dir = app("plain");
  const auto run = [&](const std::string& app_name) {
    return test_support::run_process({"/usr/bin/env", "-i", "-C", dir.string(),
                                      "ARGOCD_APP_NAME=" + app_name,
                                      test_support::binary("imageupdater-cmp"), "discover"});
  };
  const auto yes = run("demo-plain");
  EXPECT_EQ(yes.exit_code, 0) << yes.err;
  EXPECT_EQ(yes.out, "imageupdater.yaml\n");
  const auto no = run("another-app");
  EXPECT_EQ(no.exit_code, 0) << no.err;
  EXPECT_EQ(no.out, "") << "no match: empty stdout";
}

} // namespace
} // namespace it
