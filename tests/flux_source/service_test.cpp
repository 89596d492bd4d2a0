#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <Poco/Exception.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flux-source/service.hpp"

#include "tests/server/http_call.hpp"
#include "tests/support/process.hpp"

namespace flux_source {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string k_items = "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters";

class ServiceTest : public ::testing::Test {
protected:
  void SetUp() override {
    m_log = std::tmpfile();
    ASSERT_NE(m_log, nullptr);
    m_options.listen = "127.0.0.1:0";
    m_options.data = m_dir.path() + "/data";
    m_options.workers = 1;
    m_options.resolve_timeout = "2s";
    m_options.no_cache = true;
  }
  void TearDown() override {
    if (m_log != nullptr) {
      std::fclose(m_log);
    }
  }
  std::string log() {
    std::fflush(m_log);
    std::rewind(m_log);
    std::string text;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, m_log)) {
      text.append(buffer, n);
    }
    return text;
  }

  test_support::TempDir m_dir;
  std::FILE* m_log = nullptr;
  ServeOptions m_options;
};

TEST_F(ServiceTest, StartsFillsTheStatusOfACreatedObjectAndStops) {
  auto service = Service::create(m_options, m_log);
  ASSERT_TRUE(service) << service.error().message;
  EXPECT_EQ((*service)->port(), 0) << "nothing listens before start()";
  auto started = (*service)->start();
  ASSERT_TRUE(started) << started.error().message;
  const std::uint16_t port = (*service)->port();
  ASSERT_NE(port, 0);
  EXPECT_EQ(std::filesystem::status(m_options.data).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);

  // An image on a loopback port nothing listens on: the status says why it has no tag.
  const json updater = {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
                        {"kind", "ImageUpdater"},
                        {"metadata", {{"name", "web"}}},
                        {"spec",
                         {{"kind", "argocd"},
                          {"images", {"web=127.0.0.1:1/demo/web:^1.0"}},
                          {"argocd", {{"app", {{"name", "web"}}}}}}}};
  const auto created = server_test::call(port, "POST", k_items, updater.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  json status;
  for (int i = 0; i < 300 && !status.contains("conditions"); ++i) {
    std::this_thread::sleep_for(50ms);
    status = json::parse(server_test::call(port, "GET", k_items + "/web").body)["status"];
  }
  ASSERT_TRUE(status.contains("conditions")) << status.dump(2) << "\n" << log();
  EXPECT_EQ(status["observedGeneration"], 1);
  ASSERT_EQ(status["images"].size(), 1u);
  EXPECT_EQ(status["images"][0]["alias"], "web");
  EXPECT_TRUE(status["images"][0].contains("error")) << status.dump(2);
  EXPECT_EQ(status["conditions"][0]["type"], "Ready");
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_EQ(status["conditions"][0]["reason"], "ResolveFailed");
  EXPECT_EQ(status["conditions"][1]["type"], "Reconciling");

  (*service)->stop();
  (*service)->stop(); // idempotent
  EXPECT_THROW(server_test::call(port, "GET", k_items), Poco::Exception) << "no longer listening";
  const std::string logged = log();
  EXPECT_NE(logged.find("listening"), std::string::npos) << logged;
  EXPECT_NE(logged.find("control loop started"), std::string::npos) << logged;
}

TEST_F(ServiceTest, TheStoreOutlivesARestartAndThePortFileNamesThePort) {
  m_options.port_file = m_dir.path() + "/port";
  {
    auto first = Service::create(m_options, m_log);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_TRUE((*first)->start());
    const json updater = {{"metadata", {{"name", "old"}}},
                          {"spec",
                           {{"kind", "argocd"},
                            {"images", {"web=127.0.0.1:1/demo/web"}},
                            {"argocd", {{"app", {{"name", "web"}}}}}}}};
    ASSERT_EQ(server_test::call((*first)->port(), "POST", k_items, updater.dump()).status, 201);
  } // destroyed: stopped
  ServeOptions options = m_options;
  options.workers = 0; // no control loop: the stored status is what the first one wrote
  auto second = Service::create(options, m_log);
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_TRUE((*second)->start());
  std::ifstream in(m_options.port_file);
  unsigned port = 0;
  ASSERT_TRUE(in >> port);
  EXPECT_EQ(port, (*second)->port());
  const auto got = server_test::call((*second)->port(), "GET", k_items + "/old");
  EXPECT_EQ(got.status, 200) << "the store survives a restart: " << got.body;
}

TEST_F(ServiceTest, BadOptionsFailBeforeAnythingIsCreated) {
  struct Case {
    void (*change)(ServeOptions&);
    const char* message;
  };
  const std::vector<Case> cases = {
      {[](ServeOptions& o) { o.listen = "nowhere"; }, ""},
      {[](ServeOptions& o) { o.interval = "0s"; }, "--interval: 0s must be more than zero"},
      {[](ServeOptions& o) { o.git_timeout = "soon"; }, "--git-timeout"},
      {[](ServeOptions& o) { o.max_threads = 0; }, "must be at least 1"},
      {[](ServeOptions& o) { o.listen = "0.0.0.0:0"; }, "needs --token-file"},
      {[](ServeOptions& o) { o.oci_allowed = {"demo"}; }, "--oci-repository-allow demo"},
      {[](ServeOptions& o) { o.log_level = "loud"; }, "loud"},
  };
  for (const Case& c : cases) {
    ServeOptions options = m_options;
    c.change(options);
    auto service = Service::create(options, m_log);
    ASSERT_FALSE(service) << c.message;
    EXPECT_NE(service.error().message.find(c.message), std::string::npos)
        << service.error().message;
    EXPECT_FALSE(std::filesystem::exists(m_options.data)) << c.message;
  }
}

} // namespace
} // namespace flux_source
