// The Flux half end to end, against the harness's real git servers and registry: an ImageUpdater
// of kind fluxcd created through the REST API of `imageupdater-flux-source serve` gets an
// artifact with the right images (served by the service, its digest the sha256 of the served
// bytes, and pushed as a Flux OCI artifact that skopeo pulls back); a newer tag pushed to the
// registry gives a new revision with the new image. Failures (unreachable git, bad credentials,
// a marker naming an unknown alias, a registry down) are reported in status and do not stop the
// others.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/image/digest.hpp"

#include "tests/integration/services_env.hpp"
#include "tests/server/http_call.hpp"
#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace it {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using server_test::call;
using test_support::contains;
using test_support::run_process;
using namespace std::chrono_literals;

std::string items(const std::string& ns) {
  return "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/" + ns + "/imageupdaters";
}

json flux_updater(const std::string& name, const std::string& image, const std::string& url,
                  const std::string& path, json annotations = json::object()) {
  return {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
          {"kind", "ImageUpdater"},
          {"metadata", {{"name", name}, {"annotations", annotations}}},
          {"spec",
           {{"kind", "fluxcd"},
            {"images", {"web=" + image}},
            {"fluxcd",
             {{"interval", "1s"},
              {"policy", {{"semver", {{"range", ">=1.0.0 <2.0.0"}}}}},
              {"sourceRef", {{"kind", "GitRepository"}, {"name", "deploy"}, {"url", url}}},
              {"git", {{"checkout", {{"ref", {{"branch", "main"}}}}}}},
              {"update", {{"path", path}}}}}}}};
}

class FluxRound : public ServicesTest {
protected:
  // Polls the object until `done(status)` or 60 s; returns the last object read.
  template <class F>
  json wait_for(std::uint16_t port, const std::string& name, F done) {
    json object;
    for (int i = 0; i < 600; ++i) {
      object = json::parse(call(port, "GET", items("demo") + "/" + name).body);
      if (done(object["status"])) {
        return object;
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "timed out waiting for " << name << ": " << object.dump(2);
    return object;
  }
  static std::string condition(const json& status, const std::string& field) {
    if (!status.contains("conditions") || status["conditions"].empty()) {
      return "";
    }
    return status["conditions"][0].value(field, "");
  }
  void seed(const std::string& repository, const std::vector<std::string>& tags) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     std::string(IU_SOURCE_DIR) + "/tests/harness/seed.py",
                                     "image",
                                     env("REGISTRY_PLAIN"),
                                     repository,
                                     "2024-05-01T00:00:00Z"};
    argv.insert(argv.end(), tags.begin(), tags.end());
    const auto r = run_process(argv, "", 60);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  test_support::TempDir m_dir;
};

TEST_F(FluxRound, CreateGetArtifactNewTagNewRevisionAndFailuresStayApart) {
  const std::string registry = env("REGISTRY_PLAIN_HOST");
  const std::string repo = "fluxround-" + std::to_string(::getpid()) + "/web";
  seed(repo, {"1.2.0", "1.3.0"});

  // A local source with a typo'd marker, and a secret with a wrong password.
  const std::string local = m_dir.path() + "/sources/demo/typo"; // --source-root DIR: DIR/NS
  fs::create_directories(local);
  m_dir.write("sources/demo/typo/deployment.yaml",
              "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
              "    spec:\n      containers:\n        - name: web\n"
              "          image: x/web:1.0.0 # {\"$imagepolicy\": \"demo:wbe\"}\n");
  fs::create_directories(m_dir.path() + "/secrets/demo/wrong");
  m_dir.write("secrets/demo/wrong/username", env("GIT_USER"));
  m_dir.write("secrets/demo/wrong/password", "not-the-password");

  server_test::Service service(m_dir.path() + "/data", m_dir.path(),
                               {"--workers", "4", "--cache-ttl", "0s", "--source-root",
                                m_dir.path() + "/sources", "--oci-repository-allow",
                                "demo=" + registry, "--secrets-dir", m_dir.path() + "/secrets",
                                "--git-timeout", "20s"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();

  const std::string deploy = env("GIT_HTTP_URL") + "/deploy.git";
  const std::string oci = registry + "/" + repo + "-manifests:latest";
  const std::vector<json> updaters = {
      flux_updater("web", registry + "/" + repo, deploy, "apps/web",
                   {{"imageupdater.kubesphere.io/oci-repository", oci}}),
      flux_updater("unreachable", registry + "/" + repo, "git://127.0.0.1:9/deploy.git",
                   "apps/web"),
      flux_updater("bad-credentials", registry + "/" + repo,
                   env("GIT_HTTP_AUTH_URL") + "/deploy.git", "apps/web",
                   {{"imageupdater.kubesphere.io/git-secret", "wrong"}}),
      flux_updater("unknown-alias", registry + "/" + repo, "file://" + local, ""),
      flux_updater("registry-down", "127.0.0.1:9/demo/web", deploy, "apps/web"),
  };
  for (const json& u : updaters) {
    const auto created = call(port, "POST", items("demo"), u.dump());
    ASSERT_EQ(created.status, 201) << created.body;
  }

  // The good one: Ready, with its artifact served and its digest that of the served bytes.
  json web = wait_for(port, "web", [](const json& s) { return condition(s, "status") == "True"; });
  const json& status = web["status"];
  ASSERT_EQ(condition(status, "reason"), "Succeeded") << status.dump(2);
  EXPECT_EQ(status["images"][0]["tag"], "1.3.0");
  EXPECT_EQ(status["source"]["revision"], "main@sha1:" + expected("GIT_DEPLOY_MAIN_COMMIT"));
  const std::string url = status["artifact"]["url"];
  const std::string prefix = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_EQ(url.rfind(prefix, 0), 0u) << url;
  const auto served = call(port, "GET", url.substr(prefix.size()));
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(common::image::sha256_digest(served.body), status["artifact"]["digest"]);
  EXPECT_EQ(status["artifact"]["revision"],
            "latest@" + status["artifact"]["digest"].get<std::string>());
  auto files = common::artifact::unpack(served.body);
  ASSERT_TRUE(files) << files.error().message;
  std::string deployment;
  for (const auto& f : *files) {
    if (f.path == "deployment.yaml") {
      deployment = f.content;
    }
  }
  EXPECT_TRUE(contains(deployment, "image: " + registry + "/" + repo +
                                       ":1.3.0 # {\"$imagepolicy\": \"demo:web\"}"))
      << deployment;
  EXPECT_TRUE(fs::exists(m_dir.path() + "/data/externalartifacts/demo/web.yaml"));

  // The OCI artifact, pulled back: its one layer is the same tar.gz.
  {
    test_support::TempDir out;
    const std::string policy =
        out.write("policy.json", R"({"default":[{"type":"insecureAcceptAnything"}]})");
    const auto pulled =
        run_process({"/usr/bin/env", "skopeo", "--policy", policy, "copy", "--src-tls-verify=false",
                     "--src-no-creds", "docker://" + oci, "dir:" + out.path() + "/oci"},
                    "", 60);
    ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
    const json manifest =
        json::parse(test_support::read_text_file(out.path() + "/oci/manifest.json"));
    ASSERT_EQ(manifest["layers"].size(), 1u);
    EXPECT_EQ(manifest["layers"][0]["digest"], status["artifact"]["digest"]);
    EXPECT_EQ(manifest["annotations"]["org.opencontainers.image.revision"],
              status["source"]["revision"]);
    EXPECT_EQ(status["oci"]["digest"], common::image::sha256_digest(test_support::read_text_file(
                                           out.path() + "/oci/manifest.json")));
  }

  // A newer tag: a new revision with the new image.
  seed(repo, {"1.4.0"});
  const std::string first_revision = status["artifact"]["revision"];
  web = wait_for(port, "web", [&](const json& s) {
    return s.contains("artifact") && s["artifact"]["revision"] != first_revision;
  });
  EXPECT_EQ(web["status"]["images"][0]["tag"], "1.4.0");
  const auto bumped =
      call(port, "GET", web["status"]["artifact"]["url"].get<std::string>().substr(prefix.size()));
  ASSERT_EQ(bumped.status, 200);
  EXPECT_TRUE(contains(bumped.body.empty() ? "" : [&] {
    auto f = common::artifact::unpack(bumped.body);
    std::string all;
    for (const auto& file : f.value_or(common::util::Tree{})) {
      all += file.content;
    }
    return all;
  }(), registry + "/" + repo + ":1.4.0"));
  // The previous artifact is still served for a while (Flux may be fetching it).
  EXPECT_EQ(call(port, "GET", url.substr(prefix.size())).status, 200);

  // The failures, each in its own status.
  const auto failed = [&](const std::string& name, const std::string& reason,
                          const std::string& part) {
    const json o =
        wait_for(port, name, [&](const json& s) { return condition(s, "reason") == reason; });
    EXPECT_EQ(condition(o["status"], "status"), "False") << name;
    EXPECT_TRUE(contains(condition(o["status"], "message"), part))
        << name << ": " << o["status"].dump(2);
    EXPECT_FALSE(o["status"].contains("artifact")) << name;
  };
  failed("unreachable", "SourceFailed", "127.0.0.1:9");
  failed("bad-credentials", "SourceFailed", "auth");
  failed("unknown-alias", "UnknownSetter", "deployment.yaml:9: marker \"demo:wbe\"");
  failed("registry-down", "ResolveFailed", "127.0.0.1:9");

  const auto metrics = call(port, "GET", "/metrics").body;
  EXPECT_TRUE(contains(metrics, "imageupdater_reconcile_total{result=\"error\"}")) << metrics;
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
}

} // namespace
} // namespace it
