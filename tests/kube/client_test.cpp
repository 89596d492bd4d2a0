// kube::Client over a fake http::Client: what goes over the wire and how answers map to errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/kube/client.hpp"
#include "common/util/clock.hpp"

#include "tests/kube/fakes.hpp"

namespace common::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttp;
using util::ErrorKind;
using Json = nlohmann::json;

const Resource k_configmaps{"", "v1", "configmaps", true};

std::optional<std::string> header(const http::Request& r, std::string_view name) {
  const auto v = http::find_header(r.headers, name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

class KubeClient : public ::testing::Test {
protected:
  KubeClient() {
    m_config.server = "https://127.0.0.1:6443/";
    m_config.namespace_ = "team";
    m_http = std::make_shared<FakeHttp>();
    m_client = std::make_unique<Client>(
        m_http, m_config, std::make_shared<TokenSource>("sekret", "", m_env, m_clock), m_clock);
  }
  const http::Request& last() const { return m_http->sent.back().request; }

  util::FakeClock m_clock;
  testing::FakeEnvironment m_env;
  Config m_config;
  std::shared_ptr<FakeHttp> m_http;
  std::unique_ptr<Client> m_client;
};

TEST_F(KubeClient, RequestShapes) {
  struct Case {
    const char* name;
    std::function<util::Result<std::string>(Client&)> call;
    std::string method;
    std::string url;
    std::optional<std::string> content_type;
    std::string body = {}; // "" = not checked
  };
  WriteOptions apply_force;
  apply_force.force = true;
  apply_force.dry_run = true;
  DeleteOptions precondition;
  precondition.resource_version = "42";
  precondition.uid = "u-1";
  precondition.propagation_policy = "Foreground";
  const std::string base = "https://127.0.0.1:6443";
  const std::vector<Case> cases = {
      {"get", [](Client& c) { return c.get(imageupdaters(), "ns", "web"); }, "GET",
       base + "/apis/gitops.kubesphere.io/v1alpha1/namespaces/ns/imageupdaters/web", std::nullopt},
      {"create", [](Client& c) { return c.create(k_configmaps, "ns", R"({"a":1})"); }, "POST",
       base + "/api/v1/namespaces/ns/configmaps?fieldManager=imageupdater", "application/json",
       R"({"a":1})"},
      {"update status",
       [](Client& c) { return c.update(imageupdaters(), "ns", "web", "{}", "status"); }, "PUT",
       base + "/apis/gitops.kubesphere.io/v1alpha1/namespaces/ns/imageupdaters/web/status"
              "?fieldManager=imageupdater",
       "application/json", "{}"},
      {"merge patch",
       [](Client& c) { return c.patch(leases(), "ns", "l", PatchType::merge, "{}"); }, "PATCH",
       base + "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l?fieldManager=imageupdater",
       "application/merge-patch+json", "{}"},
      {"json patch", [](Client& c) { return c.patch(leases(), "ns", "l", PatchType::json, "[]"); },
       "PATCH",
       base + "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l?fieldManager=imageupdater",
       "application/json-patch+json", "[]"},
      {"apply, forced, dry run",
       [&](Client& c) {
         return c.patch(imageupdaters(), "ns", "web", PatchType::apply, "{}", "status",
                        apply_force);
       },
       "PATCH",
       base + "/apis/gitops.kubesphere.io/v1alpha1/namespaces/ns/imageupdaters/web/status"
              "?fieldManager=imageupdater&force=true&dryRun=All",
       "application/apply-patch+yaml", "{}"},
      {"delete with preconditions",
       [&](Client& c) { return c.remove(k_configmaps, "ns", "x", precondition); }, "DELETE",
       base + "/api/v1/namespaces/ns/configmaps/x", "application/json",
       R"({"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"resourceVersion":"42","uid":"u-1"},"propagationPolicy":"Foreground"})"},
      {"delete plain", [](Client& c) { return c.remove(k_configmaps, "ns", "x"); }, "DELETE",
       base + "/api/v1/namespaces/ns/configmaps/x", "application/json",
       R"({"apiVersion":"v1","kind":"DeleteOptions"})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    m_http->answer = [](const http::Request&) { return http::Response{200, {}, R"({"ok":1})"}; };
    const auto r = c.call(*m_client);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(*r, R"({"ok":1})");
    EXPECT_EQ(last().method, c.method);
    EXPECT_EQ(last().url, c.url);
    EXPECT_EQ(header(last(), "Content-Type"), c.content_type);
    EXPECT_EQ(header(last(), "Authorization"), "Bearer sekret");
    EXPECT_EQ(header(last(), "Accept"), "application/json");
    if (!c.body.empty()) {
      EXPECT_EQ(last().body, c.body);
    }
    EXPECT_EQ(m_http->sent.back().limits.max_body, ClientOptions{}.max_object_body);
    EXPECT_EQ(m_http->sent.back().limits.read_timeout, ClientOptions{}.request_timeout);
  }
  WriteOptions no_manager;
  no_manager.field_manager.clear();
  EXPECT_EQ(m_client->patch(imageupdaters(), "ns", "w", PatchType::apply, "{}", {}, no_manager)
                .error()
                .kind,
            ErrorKind::invalid_input);
}

TEST_F(KubeClient, ListEncodesItsQueryAndFillsInItemKinds) {
  m_http->answer = [](const http::Request&) {
    return http::Response{200, {}, R"({"kind":"ConfigMapList","apiVersion":"v1",
      "metadata":{"resourceVersion":"77","continue":"next/page"},
      "items":[{"metadata":{"name":"a"}},{"kind":"Other","apiVersion":"x/v1","metadata":{"name":"b"}}]})"};
  };
  ListOptions options;
  options.label_selector = "app in (a,b)";
  options.field_selector = "metadata.name!=c";
  options.limit = 2;
  options.continue_token = "tok/en=";
  const auto page = m_client->list(k_configmaps, "", options);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  EXPECT_EQ(last().url,
            "https://127.0.0.1:6443/api/v1/configmaps?labelSelector=app%20in%20%28a%2Cb%29"
            "&fieldSelector=metadata.name%21%3Dc&limit=2&continue=tok%2Fen%3D");
  EXPECT_EQ(m_http->sent.back().limits.max_body, ClientOptions{}.max_list_body);
  EXPECT_EQ(page->resource_version, "77");
  EXPECT_EQ(page->continue_token, "next/page");
  ASSERT_EQ(page->items.size(), 2U);
  const Json a = Json::parse(page->items[0]);
  EXPECT_EQ(a["kind"], "ConfigMap");
  EXPECT_EQ(a["apiVersion"], "v1");
  const Json b = Json::parse(page->items[1]);
  EXPECT_EQ(b["kind"], "Other");
  EXPECT_EQ(b["apiVersion"], "x/v1");
}

TEST_F(KubeClient, ErrorMapping) {
  struct Case {
    int status;
    std::string body;
    ErrorKind kind;
    std::string message;
  };
  const auto status = [](int code, const std::string& reason, const std::string& message) {
    return Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                {"code", code},     {"reason", reason},   {"message", message}}
        .dump();
  };
  const std::vector<Case> cases = {
      {404, status(404, "NotFound", "configmaps \"x\" not found"), ErrorKind::not_found,
       "configmaps \"x\" not found"},
      {409, status(409, "AlreadyExists", "exists"), ErrorKind::conflict, "exists"},
      {409, status(409, "Conflict", "the object has been modified"), ErrorKind::conflict,
       "the object has been modified"},
      {410, status(410, "Expired", "too old"), ErrorKind::gone, "too old"},
      {401, status(401, "Unauthorized", "Unauthorized"), ErrorKind::auth, "Unauthorized"},
      {403, status(403, "Forbidden", "forbidden: no"), ErrorKind::auth, "forbidden: no"},
      {422, status(422, "Invalid", "spec.x: Invalid value"), ErrorKind::invalid_input,
       "spec.x: Invalid value"},
      {400, status(400, "BadRequest", "bad"), ErrorKind::invalid_input, "bad"},
      {413, status(413, "RequestEntityTooLarge", "big"), ErrorKind::too_large, "big"},
      {429, status(429, "TooManyRequests", "slow down"), ErrorKind::transient, "slow down"},
      {500, status(500, "InternalError", "boom"), ErrorKind::transient, "boom"},
      {503, "<html>unavailable</html>", ErrorKind::transient,
       "HTTP 503 from GET /api/v1/namespaces/ns/configmaps/x"},
      {415, status(415, "UnsupportedMediaType", "no"), ErrorKind::unsupported, "no"},
      {302, "", ErrorKind::internal, "HTTP 302 from GET"},
      {500, R"({"kind":"Status","reason":"NotFound","message":"m"})", ErrorKind::not_found, "m"},
      {404, R"({"kind":"Status","code":404})", ErrorKind::not_found,
       "HTTP 404 from GET /api/v1/namespaces/ns/configmaps/x"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    m_http->answer = [&](const http::Request&) { return http::Response{c.status, {}, c.body}; };
    const auto r = m_client->get(k_configmaps, "ns", "x");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, c.kind);
    EXPECT_EQ(r.error().message.substr(0, c.message.size()), c.message);
    EXPECT_EQ(r.error().message.find("sekret"), std::string::npos);
  }
  m_http->answer = [](const http::Request&) -> util::Result<http::Response> {
    return util::fail(ErrorKind::transient, "GET https://127.0.0.1:6443/x: connection refused");
  };
  EXPECT_EQ(m_client->get(k_configmaps, "ns", "x").error().kind, ErrorKind::transient);
}

TEST_F(KubeClient, WithTokenActsAsTheCallerOnTheSameServer) {
  auto caller = m_client->with_token("callers-token");
  ASSERT_TRUE(caller->get(k_configmaps, "ns", "x").has_value());
  EXPECT_EQ(header(last(), "Authorization"), "Bearer callers-token");
  EXPECT_TRUE(last().url.starts_with("https://127.0.0.1:6443/"));
  auto anonymous = m_client->with_token("");
  ASSERT_TRUE(anonymous->get(k_configmaps, "ns", "x").has_value());
  EXPECT_FALSE(header(last(), "Authorization").has_value());
  ASSERT_TRUE(m_client->get(k_configmaps, "ns", "x").has_value());
  EXPECT_EQ(header(last(), "Authorization"), "Bearer sekret");
  EXPECT_EQ(caller->default_namespace(), "team");
  EXPECT_EQ(caller->server(), "https://127.0.0.1:6443");
}

TEST_F(KubeClient, RequestsAreRateLimited) {
  ClientOptions options;
  options.qps = 2;
  options.burst = 3;
  Client slow(m_http, m_config, nullptr, m_clock, options);
  const auto start = m_clock.steady_now();
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(slow.get(k_configmaps, "ns", "x").has_value());
  }
  // 3 at once, then 4 more at 2 per second.
  EXPECT_EQ(m_clock.steady_now() - start, 2s);
  EXPECT_FALSE(header(last(), "Authorization").has_value()); // no token source: no header
}

TEST_F(KubeClient, WatchRequestAndEvents) {
  m_http->stream_chunks = {
      R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5"}}})"
      "\n{\"type\":\"BOOK",
      R"(MARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"9"}}})"
      "\n\n"};
  WatchOptions options;
  options.resource_version = "4";
  options.label_selector = "a=b";
  options.timeout = 60s;
  auto watch = m_client->watch(k_configmaps, "ns", options);
  ASSERT_TRUE(watch.has_value()) << watch.error().message;
  const auto& sent = m_http->sent.back();
  EXPECT_TRUE(sent.streamed);
  EXPECT_EQ(sent.request.method, "GET");
  EXPECT_EQ(sent.request.url, "https://127.0.0.1:6443/api/v1/namespaces/ns/configmaps?watch=1"
                              "&resourceVersion=4&allowWatchBookmarks=true&timeoutSeconds=60"
                              "&labelSelector=a%3Db");
  EXPECT_EQ(sent.limits.read_timeout, 90s);
  EXPECT_EQ(header(sent.request, "Authorization"), "Bearer sekret");
  auto first = (*watch)->next();
  ASSERT_TRUE(first.has_value() && first->has_value());
  EXPECT_EQ((*first)->type, WatchEvent::Type::added);
  EXPECT_EQ((*first)->resource_version, "5");
  auto second = (*watch)->next();
  ASSERT_TRUE(second.has_value() && second->has_value());
  EXPECT_EQ((*second)->type, WatchEvent::Type::bookmark);
  EXPECT_EQ((*second)->resource_version, "9");
  auto end = (*watch)->next();
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->has_value());
}

TEST_F(KubeClient, WatchAnsweredWithAnErrorStatus) {
  m_http->stream_status = 410;
  m_http->stream_chunks = {
      R"j({"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (99)"})j"};
  WatchOptions options;
  const auto watch = m_client->watch(k_configmaps, "", options);
  ASSERT_FALSE(watch.has_value());
  EXPECT_EQ(watch.error().kind, ErrorKind::gone);
  EXPECT_EQ(watch.error().message, "too old resource version: 1 (99)");
}

TEST_F(KubeClient, CreateBuildsAPocoClientForTheConfig) {
  Config config;
  config.server = "not a url";
  config.source = "test config";
  const auto bad = Client::create(config, m_env, m_clock);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(bad.error().message.find("test config"), std::string::npos);
  config.server = "https://127.0.0.1:1";
  config.client_cert_data = "CERT"; // without its key
  EXPECT_EQ(Client::create(config, m_env, m_clock).error().kind, ErrorKind::invalid_input);
  config.client_key_data = "KEY";
  EXPECT_TRUE(Client::create(config, m_env, m_clock).has_value());
}

} // namespace
} // namespace common::kube
