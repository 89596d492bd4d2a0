// common::server::Server in process over a SqliteStore, driven over real HTTP on loopback.
#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/metrics/registry.hpp"
#include "common/server/server.hpp"
#include "common/store/sqlite_store.hpp"
#include "common/util/clock.hpp"

#include "tests/server/http_call.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace common;
using nlohmann::json;
using server_test::call;

const std::string k_items = "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters";

std::string updater(const std::string& name) {
  return json{
      {"apiVersion", "gitops.kubesphere.io/v1alpha1"},
      {"kind", "ImageUpdater"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"kind", "argocd"}, {"images", {"nginx:^0.1"}}, {"argocd", {{"app", {{"name", "web"}}}}}}}}
      .dump();
}

TEST(ParseListen, AcceptsHostPortAndRejectsTheRest) {
  struct Case {
    std::string value;
    bool ok;
    std::string host;
    std::uint16_t port;
  };
  const std::vector<Case> cases = {
      {"127.0.0.1:8080", true, "127.0.0.1", 8080},
      {"0.0.0.0:0", true, "0.0.0.0", 0},
      {"[::1]:80", true, "::1", 80},
      {"localhost:65535", true, "localhost", 65535},
      {"127.0.0.1", false, "", 0},
      {":80", false, "", 0},
      {"h:65536", false, "", 0},
      {"h:8x", false, "", 0},
      {"h:", false, "", 0},
  };
  for (const auto& c : cases) {
    const auto got = server::parse_listen(c.value);
    ASSERT_EQ(got.has_value(), c.ok) << c.value;
    if (c.ok) {
      EXPECT_EQ(got->host, c.host) << c.value;
      EXPECT_EQ(got->port, c.port) << c.value;
    } else {
      EXPECT_EQ(got.error().kind, util::ErrorKind::invalid_input) << c.value;
    }
  }
}

class ServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto opened = store::SqliteStore::open(m_dir.path() + "/db.sqlite", m_clock);
    ASSERT_TRUE(opened) << opened.error().message;
    m_store = std::move(*opened);
    m_api = std::make_unique<api::ImageUpdaterApi>(*m_store, m_clock);
    server::Options options;
    options.listen = "127.0.0.1:0";
    options.max_body_bytes = 4096;
    auto started = server::Server::start(options, *m_api);
    ASSERT_TRUE(started) << started.error().message;
    m_server = std::move(*started);
    ASSERT_NE(m_server->port(), 0);
  }

  std::uint16_t port() const { return m_server->port(); }

  test_support::TempDir m_dir;
  util::SystemClock m_clock;
  std::unique_ptr<store::SqliteStore> m_store;
  std::unique_ptr<api::ImageUpdaterApi> m_api;
  std::unique_ptr<server::Server> m_server;
};

TEST_F(ServerTest, HealthAndReadiness) {
  for (const std::string path : {"/healthz", "/readyz"}) {
    const auto r = call(port(), "GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "ok") << path;
  }
}

TEST_F(ServerTest, CreateThenGetWithPercentEncodedPathAndQuery) {
  const auto created = call(port(), "POST", k_items, updater("web"));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto got = call(port(), "GET", k_items + "/w%65b");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::parse(got.body)["metadata"]["name"], "web");
  const auto list = call(port(), "GET", k_items + "?limit=1&labelSelector=");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body)["items"].size(), 1u);
}

TEST_F(ServerTest, DeclaredBodyOverTheLimitIs413WithoutReadingIt) {
  const auto r = call(port(), "POST", k_items, "", "application/json", 1 << 20);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json::parse(r.body)["reason"], "RequestEntityTooLarge");
}

TEST_F(ServerTest, SentBodyOverTheLimitIs413) {
  const auto r = call(port(), "POST", k_items, std::string(5000, ' '));
  EXPECT_EQ(r.status, 413);
}

TEST_F(ServerTest, StopIsIdempotentAndRefusesNewConnections) {
  const auto p = port();
  m_server->stop();
  m_server->stop();
  EXPECT_ANY_THROW(call(p, "GET", "/healthz"));
}

// Delegates to a real store; get() takes `delay` (a request in progress during stop()).
class SlowStore final : public store::Store {
public:
  SlowStore(store::Store& inner, std::chrono::milliseconds delay)
      : m_inner(inner), m_delay(delay) {}
  util::Result<store::Object> create(store::Object o) override {
    return m_inner.create(std::move(o));
  }
  util::Result<store::Object> get(const store::Key& key) override {
    std::this_thread::sleep_for(m_delay);
    return m_inner.get(key);
  }
  util::Result<store::Page> list(const std::string& ns, const store::ListOptions& o) override {
    return m_inner.list(ns, o);
  }
  util::Result<store::Object> replace(const store::Object& o) override {
    return m_inner.replace(o);
  }
  util::Result<store::Object> replace_status(const store::Key& key, const std::string& rv,
                                             const std::string& status_json) override {
    return m_inner.replace_status(key, rv, status_json);
  }
  util::Result<void> remove(const store::Key& key, const std::string& rv) override {
    return m_inner.remove(key, rv);
  }

private:
  store::Store& m_inner;
  std::chrono::milliseconds m_delay;
};

TEST_F(ServerTest, StopLetsTheRequestInProgressFinish) {
  ASSERT_EQ(call(port(), "POST", k_items, updater("web")).status, 201);
  SlowStore slow(*m_store, std::chrono::milliseconds(700));
  api::ImageUpdaterApi slow_api(slow, m_clock);
  server::Options options;
  options.listen = "127.0.0.1:0";
  auto started = server::Server::start(options, slow_api);
  ASSERT_TRUE(started) << started.error().message;
  auto& server = **started;
  const auto p = server.port();
  auto in_flight = std::async(std::launch::async, [&] { return call(p, "GET", k_items + "/web"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200)); // the request is in the store
  server.stop();
  const auto r = in_flight.get();
  EXPECT_EQ(r.status, 200) << r.body;
}

} // namespace

namespace {

TEST(ServerFiles, PathsUnderThePrefixGoToTheFileCallback) {
  util::SystemClock clock;
  test_support::TempDir dir;
  auto opened = store::SqliteStore::open(dir.path() + "/db.sqlite", clock);
  ASSERT_TRUE(opened) << opened.error().message;
  api::ImageUpdaterApi api(**opened, clock);
  server::Options options;
  options.listen = "127.0.0.1:0";
  options.files_prefix = "/externalartifact/";
  std::string asked;
  options.files = [&asked](std::string_view rest) -> std::optional<api::HttpResponse> {
    asked = std::string(rest);
    if (rest != "demo/web/abc.tar.gz") {
      return std::nullopt;
    }
    return api::HttpResponse{200, "application/gzip", std::string("\x1f\x8b bytes", 8), {}, {}};
  };
  auto started = server::Server::start(options, api);
  ASSERT_TRUE(started) << started.error().message;
  const auto port = (*started)->port();

  const auto found = call(port, "GET", "/externalartifact/demo/web/abc.tar.gz");
  EXPECT_EQ(found.status, 200);
  EXPECT_EQ(found.content_type, "application/gzip");
  EXPECT_EQ(found.body, std::string("\x1f\x8b bytes", 8));
  EXPECT_EQ(call(port, "GET", "/externalartifact/demo/web/%61bc.tar.gz").status, 200)
      << "the rest is percent-decoded";
  const auto missing = call(port, "GET", "/externalartifact/demo/../../etc/passwd");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["reason"], "NotFound");
  EXPECT_EQ(call(port, "POST", "/externalartifact/demo/web/abc.tar.gz", "{}").status, 404)
      << "only GET and HEAD reach the files";
}

// --metrics-listen: one server serves the API and counts, another only probes and /metrics.
TEST(ServerMetricsPort, TheApiServerCountsAndTheMetricsServerExposes) {
  util::SystemClock clock;
  test_support::TempDir dir;
  auto opened = store::SqliteStore::open(dir.path() + "/db.sqlite", clock);
  ASSERT_TRUE(opened) << opened.error().message;
  api::ImageUpdaterApi api(**opened, clock);
  metrics::Registry registry;
  server::Options main_options;
  main_options.listen = "127.0.0.1:0";
  main_options.metrics = &registry;
  main_options.expose_metrics = false;
  server::Options metrics_options;
  metrics_options.listen = "127.0.0.1:0";
  metrics_options.metrics = &registry;
  metrics_options.serve_api = false;
  auto main_server = server::Server::start(main_options, api);
  auto metrics_server = server::Server::start(metrics_options, api);
  ASSERT_TRUE(main_server && metrics_server);
  const auto main_port = (*main_server)->port();
  const auto metrics_port = (*metrics_server)->port();

  EXPECT_EQ(call(main_port, "GET", "/metrics").status, 404) << "not exposed on the API port";
  EXPECT_EQ(call(main_port, "GET", k_items).status, 200);
  EXPECT_EQ(call(metrics_port, "GET", k_items).status, 404) << "no API on the metrics port";
  EXPECT_EQ(call(metrics_port, "GET", "/healthz").status, 200);
  const auto scraped = call(metrics_port, "GET", "/metrics");
  EXPECT_EQ(scraped.status, 200);
  EXPECT_NE(scraped.body.find("imageupdater_http_requests_total{"), std::string::npos)
      << scraped.body;
}

} // namespace
