// imageupdater-flux-source serve against the harness's real registry: an ImageUpdater created
// through the REST API gets its images resolved into its status by the control loop, and a
// change of the spec is checked again at once.
#include <chrono>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/services_env.hpp"
#include "tests/server/http_call.hpp"
#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace it {
namespace {

using nlohmann::json;
using server_test::call;
using namespace std::chrono_literals;

const std::string k_items = "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters";

class ServiceStatus : public ServicesTest {
protected:
  // Polls the object until `done(status)` or 30 s.
  template <class F>
  json wait_for(std::uint16_t port, const std::string& name, F done) {
    json object;
    for (int i = 0; i < 600; ++i) {
      object = json::parse(call(port, "GET", k_items + "/" + name).body);
      if (done(object["status"])) {
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    return object;
  }
  // Pushes an image tagged `tag` to the plain registry's `repo`.
  void seed_tag(const std::string& repo, const std::string& tag) {
    const auto r = test_support::run_process(
        {"/usr/bin/python3", std::string(IU_SOURCE_DIR) + "/tests/harness/seed.py", "image",
         env("REGISTRY_PLAIN"), repo, "2024-05-01T00:00:00Z", tag},
        "", 60);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // An argocd ImageUpdater `name` with one image "web=<plain registry>/<repo>:^1.0".
  json web_updater(const std::string& name, const std::string& repo) {
    return {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
            {"kind", "ImageUpdater"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"kind", "argocd"},
              {"images", {"web=" + env("REGISTRY_PLAIN_HOST") + "/" + repo + ":^1.0"}},
              {"argocd", {{"app", {{"name", "web"}}}}}}}};
  }
  test_support::TempDir m_dir;
};

TEST_F(ServiceStatus, CreatedUpdaterGetsItsImagesAndFollowsItsSpec) {
  const std::string registry = env("REGISTRY_PLAIN_HOST");
  server_test::Service service(m_dir.path() + "/data", m_dir.path(),
                               {"--workers", "2", "--cache-dir", m_dir.path() + "/cache"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const json updater = {
      {"apiVersion", "gitops.kubesphere.io/v1alpha1"},
      {"kind", "ImageUpdater"},
      {"metadata", {{"name", "demo-plain"}}},
      {"spec",
       {{"kind", "argocd"},
        {"images", {"web=" + registry + "/demo/web:~1.2", "worker=" + registry + "/demo/worker"}},
        {"argocd",
         {{"app", {{"name", "demo-plain"}}}, {"update-strategy", {{"worker", "newest-build"}}}}}}}};
  ASSERT_EQ(call(port, "POST", k_items, updater.dump()).status, 201);

  json object = wait_for(port, "demo-plain", [](const json& s) { return s.contains("images"); });
  const json& status = object["status"];
  ASSERT_EQ(status["images"].size(), 2u) << object.dump(2) << service.log();
  EXPECT_EQ(status["images"][0]["tag"], expected("DEMO_WEB_NEWEST_1_2")) << status.dump(2);
  EXPECT_EQ(status["images"][0]["digest"], expected("DEMO_WEB_1_2_7_DIGEST"));
  EXPECT_EQ(status["images"][1]["tag"], expected("DEMO_WORKER_NEWEST_BUILD"));
  EXPECT_EQ(status["images"][1]["strategy"], "newest-build");
  EXPECT_EQ(status["conditions"][0]["status"], "True") << status.dump(2);
  EXPECT_EQ(status["observedGeneration"], 1);

  // A new constraint is checked at once (not at the next interval, 5 minutes away).
  object["spec"]["images"][0] = "web=" + registry + "/demo/web:^1.0";
  const auto put = call(port, "PUT", k_items + "/demo-plain", object.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  object = wait_for(port, "demo-plain",
                    [](const json& s) { return s.value("observedGeneration", 0) == 2; });
  EXPECT_EQ(object["status"]["observedGeneration"], 2) << object.dump(2);
  EXPECT_EQ(object["status"]["images"][0]["tag"], "1.3.0");

  const auto metrics = call(port, "GET", "/metrics").body;
  EXPECT_TRUE(test_support::contains(metrics, "imageupdater_reconcile_total{result=\"success\"}"))
      << metrics;
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
}

TEST_F(ServiceStatus, WithoutTheDiskCacheNewTagsAreStillSeenAtTheNextCheck) {
  const std::string repo = "nocache-" + std::to_string(::getpid()) + "/web";
  const auto seed = [&](const std::string& tag) { seed_tag(repo, tag); };
  seed("1.0.0");
  server_test::Service service(
      m_dir.path() + "/data", m_dir.path(),
      {"--workers", "1", "--no-cache", "--cache-ttl", "0s", "--interval", "200ms"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const json updater = web_updater("nocache", repo);
  ASSERT_EQ(call(port, "POST", k_items, updater.dump()).status, 201);
  json object = wait_for(port, "nocache", [](const json& s) {
    return s.contains("images") && s["images"][0].value("tag", "") == "1.0.0";
  });
  ASSERT_EQ(object["status"]["images"][0]["tag"], "1.0.0") << object.dump(2);
  seed("1.1.0");
  object = wait_for(port, "nocache", [](const json& s) {
    return s.contains("images") && s["images"][0].value("tag", "") == "1.1.0";
  });
  EXPECT_EQ(object["status"]["images"][0]["tag"], "1.1.0") << object.dump(2);
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
}

// Issue 16, point 1: with the disk cache on and its default 2-minute ttl, an object checked every
// second sees a tag pushed within seconds: its interval bounds the age of the cached tag list.
TEST_F(ServiceStatus, ATagPushedIsSeenWithinTheIntervalBelowTheCacheTtl) {
  const std::string repo = "interval-" + std::to_string(::getpid()) + "/web";
  const auto seed = [&](const std::string& tag) { seed_tag(repo, tag); };
  seed("1.0.0");
  server_test::Service service(m_dir.path() + "/data", m_dir.path(),
                               {"--workers", "1", "--cache-dir", m_dir.path() + "/cache",
                                "--cache-ttl", "2m", "--interval", "1s"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const json updater = web_updater("interval", repo);
  ASSERT_EQ(call(port, "POST", k_items, updater.dump()).status, 201);
  json object = wait_for(port, "interval", [](const json& s) {
    return s.contains("images") && s["images"][0].value("tag", "") == "1.0.0";
  });
  ASSERT_EQ(object["status"]["images"][0]["tag"], "1.0.0") << object.dump(2);
  seed("1.1.0");
  object = wait_for(port, "interval", [](const json& s) {
    return s.contains("images") && s["images"][0].value("tag", "") == "1.1.0";
  });
  EXPECT_EQ(object["status"]["images"][0]["tag"], "1.1.0")
      << "not seen within 30 s with a 1 s interval and a 2 min cache: " << object.dump(2);
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
}

} // namespace
} // namespace it

namespace it {
namespace {

// Issue 13: hostile registries (answers that never come) held every worker while a healthy
// object waited. Each object's registry work now has one deadline (--resolve-timeout), so with
// a single worker and three hanging objects ahead of it, the healthy one is still checked.
TEST_F(ServiceStatus, AHangingRegistryHoldsAWorkerForItsDeadlineOnly) {
  const std::string plain = env("REGISTRY_PLAIN_HOST");
  const std::string faults = env("REGISTRY_FAULTS_HOST");
  server_test::Service service(
      m_dir.path() + "/data", m_dir.path(),
      {"--workers", "1", "--resolve-timeout", "2s", "--cache-dir", m_dir.path() + "/cache"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const auto updater = [](const std::string& name, const std::string& image) {
    return json{{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
                {"kind", "ImageUpdater"},
                {"metadata", {{"name", name}}},
                {"spec",
                 {{"kind", "argocd"},
                  {"images", {"app=" + image}},
                  {"argocd", {{"app", {{"name", name}}}}}}}};
  };
  const std::string run = std::to_string(::getpid());
  for (int i = 0; i < 3; ++i) {
    const std::string name = "hang-" + std::to_string(i);
    ASSERT_EQ(call(port, "POST", k_items,
                   updater(name, faults + "/deadline-" + run + "-" + std::to_string(i) + "/hang-60")
                       .dump())
                  .status,
              201);
  }
  ASSERT_EQ(call(port, "POST", k_items, updater("healthy", plain + "/demo/web:~1.2").dump()).status,
            201);
  const auto start = std::chrono::steady_clock::now();
  json healthy = wait_for(port, "healthy", [](const json& s) { return s.contains("images"); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(healthy["status"].contains("images")) << healthy.dump(2) << service.log();
  EXPECT_EQ(healthy["status"]["images"][0]["tag"], expected("DEMO_WEB_NEWEST_1_2"));
  EXPECT_LT(seconds, 25.0) << "three hanging objects ahead of it, 2 s each";
  const json stuck = wait_for(port, "hang-0", [](const json& s) { return s.contains("images"); });
  const std::string error = stuck["status"]["images"][0].value("error", "");
  EXPECT_TRUE(test_support::contains(error, "deadline") ||
              test_support::contains(error, "timed out"))
      << stuck.dump(2);
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
}

} // namespace
} // namespace it
