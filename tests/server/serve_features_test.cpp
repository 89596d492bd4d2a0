// imageupdater-flux-source serve as a black box, beyond the routes: /metrics, request logs,
// bearer-token authentication and namespace authorisation, TLS, the body limit on a body that is
// really sent, the status the service fills, and the refusals at start-up (non-loopback without
// tokens, bad token file, bad TLS files, bad flags).
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/http_call.hpp"
#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace {

using nlohmann::json;
using server_test::call;
using server_test::Service;
using test_support::contains;
using test_support::run_process;
using namespace std::chrono_literals;

const std::string k_base = "/kapis/gitops.kubesphere.io/v1alpha1";

std::string items(const std::string& ns) {
  return k_base + "/namespaces/" + ns + "/imageupdaters";
}

std::string updater(const std::string& name) {
  return json{{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
              {"kind", "ImageUpdater"},
              {"metadata", {{"name", name}}},
              {"spec",
               {{"kind", "argocd"},
                {"images", {"app=127.0.0.1:9/demo/app:^1.0"}},
                {"argocd", {{"app", {{"name", "web"}}}}}}}}
      .dump();
}

std::vector<std::pair<std::string, std::string>> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

const std::string k_writer = "writer-token-0123456789abcdef";
const std::string k_reader = "reader-token-0123456789abcdef";

class ServeFeaturesTest : public ::testing::Test {
protected:
  std::string data() const { return m_dir.path() + "/data"; }
  test_support::TempDir m_dir;
};

TEST_F(ServeFeaturesTest, MetricsCountRequestsByRouteAndCode) {
  Service service(data(), m_dir.path());
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  ASSERT_EQ(call(port, "POST", items("demo"), updater("web")).status, 201);
  ASSERT_EQ(call(port, "POST", items("demo"), updater("web")).status, 409);
  ASSERT_EQ(call(port, "GET", items("demo") + "/web").status, 200);
  ASSERT_EQ(call(port, "GET", items("demo") + "/nope").status, 404);
  ASSERT_EQ(call(port, "GET", "/no/such/thing").status, 404);

  // A request is counted after its answer is written: the last one may still be on its way.
  server_test::Reply metrics;
  for (int i = 0; i < 100; ++i) {
    metrics = call(port, "GET", "/metrics");
    if (contains(metrics.body, "route=\"other\",code=\"404\"} 1")) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(contains(metrics.content_type, "text/plain; version=0.0.4")) << metrics.content_type;
  const std::string collection = k_base + "/namespaces/{namespace}/imageupdaters";
  for (const std::string& line : std::vector<std::string>{
           "# TYPE imageupdater_http_requests_total counter",
           "imageupdater_http_requests_total{method=\"POST\",route=\"POST " + collection +
               "\",code=\"201\"} 1",
           "imageupdater_http_requests_total{method=\"POST\",route=\"POST " + collection +
               "\",code=\"409\"} 1",
           "imageupdater_http_requests_total{method=\"GET\",route=\"GET " + collection +
               "/{name}\",code=\"404\"} 1",
           "imageupdater_http_requests_total{method=\"GET\",route=\"other\",code=\"404\"} 1",
           "# TYPE imageupdater_http_request_duration_seconds histogram",
           "imageupdater_http_request_duration_seconds_count{method=\"GET\",route=\"GET " +
               collection + "/{name}\"} 2",
       }) {
    EXPECT_TRUE(contains(metrics.body, line)) << line << "\n" << metrics.body;
  }
  // No path value ever becomes a label.
  EXPECT_FALSE(contains(metrics.body, "/no/such/thing"));
  EXPECT_FALSE(contains(metrics.body, "namespaces/demo"));
}

TEST_F(ServeFeaturesTest, RequestLogsAreStructuredLines) {
  {
    Service service(data(), m_dir.path());
    ASSERT_NE(service.port(), 0) << service.log();
    ASSERT_EQ(call(service.port(), "POST", items("demo"), updater("web")).status, 201);
    ASSERT_EQ(service.stop(SIGTERM), 0);
    const std::string log = service.log();
    EXPECT_TRUE(contains(log, "level=info msg=listening")) << log;
    EXPECT_TRUE(contains(log, "msg=request method=POST path=" + items("demo"))) << log;
    EXPECT_TRUE(contains(log, "code=201")) << log;
  }
  test_support::TempDir scratch;
  Service service(data(), scratch.path(), {"--workers", "0", "--log-format", "json"});
  ASSERT_NE(service.port(), 0) << service.log();
  ASSERT_EQ(call(service.port(), "GET", items("demo") + "/web").status, 200);
  ASSERT_EQ(service.stop(SIGTERM), 0);
  std::istringstream lines(service.log());
  std::string line;
  int requests = 0;
  while (std::getline(lines, line)) {
    const json entry = json::parse(line, nullptr, false);
    ASSERT_TRUE(entry.is_object()) << line;
    requests += entry.value("msg", "") == "request" ? 1 : 0;
    if (entry.value("msg", "") == "request") {
      EXPECT_EQ(entry["code"], 200); // typed: a JSON number
      EXPECT_TRUE(entry["duration_ms"].is_number()) << line;
      EXPECT_TRUE(entry["bytes_out"].is_number()) << line;
      EXPECT_TRUE(entry["path"].is_string()) << line;
      EXPECT_EQ(entry["route"], "GET " + k_base + "/namespaces/{namespace}/imageupdaters/{name}");
    }
  }
  EXPECT_EQ(requests, 1);
}

TEST_F(ServeFeaturesTest, TokensAuthenticateAndLimitNamespacesAndWrites) {
  const std::string tokens = m_dir.write("tokens.yaml", "tokens:\n"
                                                        "  - name: ci\n"
                                                        "    token: " +
                                                            k_writer +
                                                            "\n"
                                                            "    namespaces: [demo]\n"
                                                            "    access: write\n"
                                                            "  - name: dashboard\n"
                                                            "    sha256: " +
                                                            std::string(64, '0') +
                                                            "\n"
                                                            "    namespaces: [\"*\"]\n"
                                                            "    access: read\n");
  // The reader's hash is written after the fact: the file holds only what sha256sum gives.
  const auto hash = run_process({"/bin/sh", "-c", "printf %s '" + k_reader + "' | sha256sum"});
  ASSERT_EQ(hash.exit_code, 0);
  std::string text = test_support::read_text_file(tokens);
  text.replace(text.find(std::string(64, '0')), 64, hash.out.substr(0, 64));
  m_dir.write("tokens.yaml", text);

  Service service(data(), m_dir.path(), {"--workers", "0", "--token-file", tokens});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();

  const auto anonymous = call(port, "GET", items("demo"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(json::parse(anonymous.body)["reason"], "Unauthorized");
  EXPECT_EQ(anonymous.www_authenticate, "Bearer realm=\"imageupdater\"");
  EXPECT_EQ(call(port, "GET", items("demo"), "", "", -1, bearer("wrong-token-0123456789")).status,
            401);
  EXPECT_EQ(call(port, "GET", items("demo"), "", "", -1, {{"Authorization", "Basic eDp5"}}).status,
            401);

  EXPECT_EQ(
      call(port, "POST", items("demo"), updater("web"), "application/json", -1, bearer(k_writer))
          .status,
      201);
  const auto elsewhere =
      call(port, "POST", items("other"), updater("web"), "application/json", -1, bearer(k_writer));
  EXPECT_EQ(elsewhere.status, 403);
  EXPECT_EQ(json::parse(elsewhere.body)["reason"], "Forbidden");
  EXPECT_EQ(call(port, "GET", k_base + "/imageupdaters", "", "", -1, bearer(k_writer)).status, 403);

  const auto read_only = call(port, "DELETE", items("demo") + "/web", "", "", -1, bearer(k_reader));
  EXPECT_EQ(read_only.status, 403);
  EXPECT_TRUE(contains(read_only.body, "may read but not change")) << read_only.body;
  EXPECT_EQ(call(port, "GET", items("demo") + "/web", "", "", -1, bearer(k_reader)).status, 200);
  EXPECT_EQ(call(port, "GET", k_base + "/imageupdaters", "", "", -1, bearer(k_reader)).status, 200);

  // Probes, metrics and the API document stay open.
  EXPECT_EQ(call(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(call(port, "GET", "/metrics").status, 200);
  EXPECT_EQ(call(port, "GET", "/openapi.json").status, 200);

  ASSERT_EQ(service.stop(SIGTERM), 0);
  const std::string log = service.log();
  EXPECT_TRUE(contains(log, "user=ci")) << log;
  EXPECT_TRUE(contains(log, "user=dashboard")) << log;
  for (const std::string& secret : {k_writer, k_reader, std::string("wrong-token-0123456789")}) {
    EXPECT_FALSE(contains(log, secret)) << "token in the log:\n" << log;
  }
}

TEST_F(ServeFeaturesTest, RefusesToStartUnsafelyOrWithBadSettings) {
  const auto serve = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {test_support::binary("imageupdater-flux-source"), "serve",
                                     "--data", data()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, "", 20);
  };
  auto open = serve({"--listen", "0.0.0.0:0"});
  EXPECT_EQ(open.exit_code, 1);
  EXPECT_TRUE(contains(open.err, "needs --token-file")) << open.err;

  const std::string bad = m_dir.write("bad-tokens.yaml", "tokens:\n"
                                                         "  - name: ci\n"
                                                         "    token: short\n"
                                                         "    namespaces: [Not_A_Namespace]\n"
                                                         "    access: admin\n");
  auto refused = serve({"--listen", "127.0.0.1:0", "--token-file", bad});
  EXPECT_EQ(refused.exit_code, 1);
  for (const std::string& part :
       std::vector<std::string>{bad + ":3:12: tokens[0].token: a token must have at least 16",
                                "tokens[0].namespaces[0]", "tokens[0].access: \"admin\""}) {
    EXPECT_TRUE(contains(refused.err, part)) << part << "\n" << refused.err;
  }
  EXPECT_FALSE(contains(refused.err, "short")) << "a token, even a bad one, is never echoed";

  auto no_key = serve({"--listen", "127.0.0.1:0", "--tls-cert", m_dir.path() + "/missing.pem"});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_TRUE(contains(no_key.err, "both a certificate file and a key file")) << no_key.err;
  auto missing = serve({"--listen", "127.0.0.1:0", "--tls-cert", m_dir.path() + "/missing.pem",
                        "--tls-key", m_dir.path() + "/missing.key"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "cannot load TLS certificate")) << missing.err;

  auto interval = serve({"--listen", "127.0.0.1:0", "--interval", "soon"});
  EXPECT_EQ(interval.exit_code, 1);
  EXPECT_TRUE(contains(interval.err, "--interval")) << interval.err;
  auto level = serve({"--listen", "127.0.0.1:0", "--log-level", "loud"});
  EXPECT_EQ(level.exit_code, 1);
  EXPECT_TRUE(contains(level.err, "log level \"loud\"")) << level.err;
}

TEST_F(ServeFeaturesTest, ServesTlsWithTheGivenCertificate) {
  const std::string cert = m_dir.path() + "/tls.crt";
  const std::string key = m_dir.path() + "/tls.key";
  const auto made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                 "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                                 "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert});
  if (made.exit_code != 0) {
    GTEST_SKIP() << "openssl cannot make a certificate here: " << made.err;
  }
  Service service(data(), m_dir.path(), {"--workers", "0", "--tls-cert", cert, "--tls-key", key});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  const auto ok =
      run_process({"/usr/bin/curl", "-sS", "--max-time", "10", "--cacert", cert, "-X", "POST", "-H",
                   "Content-Type: application/json", "--data-binary", updater("web"), "-o",
                   "/dev/null", "-w", "%{http_code}", url + items("demo")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "201");
  // Verified: a client without the CA refuses the server; plain HTTP gets no answer.
  const auto untrusted =
      run_process({"/usr/bin/curl", "-sS", "--max-time", "10", url + "/healthz"});
  EXPECT_NE(untrusted.exit_code, 0);
  const auto plain = run_process(
      {"curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + std::to_string(port) + "/healthz"});
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.out, "ok");
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
  EXPECT_TRUE(contains(service.log(), "tls=true")) << service.log();
}

TEST_F(ServeFeaturesTest, AnOverLimitBodyThatIsSentGets413) {
  Service service(data(), m_dir.path(), {"--workers", "0", "--max-body", "65536"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const std::string body_file = m_dir.write("big.json", std::string(4u << 20, ' ') + "{}");
  for (int i = 0; i < 3; ++i) {
    const auto sent = run_process({"/usr/bin/curl", "-sS", "--max-time", "20", "-X", "POST", "-H",
                                   "Content-Type: application/json", "--data-binary",
                                   "@" + body_file, "-o", "/dev/null", "-w", "%{http_code}",
                                   "http://127.0.0.1:" + std::to_string(port) + items("demo")});
    EXPECT_EQ(sent.out, "413") << sent.err;
  }
  EXPECT_EQ(call(port, "GET", "/healthz").status, 200);
}

TEST_F(ServeFeaturesTest, TheServiceFillsStatusAndPutCannotChangeIt) {
  Service service(data(), m_dir.path(), {"--workers", "2", "--no-cache"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  ASSERT_EQ(call(port, "POST", items("demo"), updater("web")).status, 201);
  json object;
  for (int i = 0; i < 200; ++i) { // the registry at 127.0.0.1:9 refuses at once
    object = json::parse(call(port, "GET", items("demo") + "/web").body);
    if (object["status"].contains("conditions")) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  const json& status = object["status"];
  ASSERT_TRUE(status.contains("conditions")) << object.dump(2) << service.log();
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_TRUE(status["lastCheckTime"].is_string());
  ASSERT_EQ(status["images"].size(), 1u);
  EXPECT_EQ(status["images"][0]["alias"], "app");
  EXPECT_TRUE(status["images"][0].contains("error")) << status.dump(2);
  const json& ready = status["conditions"][0];
  EXPECT_EQ(ready["type"], "Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "ResolveFailed");

  json changed = object;
  changed["status"] = {{"conditions", json::array()}, {"forged", true}};
  const auto put = call(port, "PUT", items("demo") + "/web", changed.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body)["status"], status);
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
}

TEST_F(ServeFeaturesTest, TheOpenApiDocumentServedIsTheOneInDocs) {
  Service service(data(), m_dir.path());
  ASSERT_NE(service.port(), 0) << service.log();
  const auto served = call(service.port(), "GET", "/openapi.json");
  ASSERT_EQ(served.status, 200);
  const std::string docs =
      test_support::read_text_file(std::string(IU_SOURCE_DIR) + "/docs/openapi.json");
  EXPECT_EQ(json::parse(served.body), json::parse(docs))
      << "docs/openapi.json is stale: regenerate it with "
         "`build/bin/imageupdater-flux-source openapi > docs/openapi.json`";
  const auto printed = run_process({test_support::binary("imageupdater-flux-source"), "openapi"});
  EXPECT_EQ(printed.exit_code, 0);
  EXPECT_EQ(printed.out, docs);
}

TEST_F(ServeFeaturesTest, SpecFilesInAWatchedDirectoryBecomeObjects) {
  const std::string specs = m_dir.path() + "/specs";
  std::filesystem::create_directories(specs);
  const json spec = json::parse(updater("from-file"));
  m_dir.write("specs/web.yaml", spec.dump()); // JSON is YAML
  m_dir.write("specs/broken.yaml", "kind: ImageUpdater\nmetadata: {name: [\n");
  Service service(data(), m_dir.path(),
                  {"--workers", "0", "--watch", specs, "--watch-interval", "100ms"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  const auto wait_status = [&](int want) {
    int got = 0;
    for (int i = 0; i < 100 && got != want; ++i) {
      got = call(port, "GET", items("default") + "/from-file").status;
      if (got != want) {
        std::this_thread::sleep_for(50ms);
      }
    }
    return got;
  };
  ASSERT_EQ(wait_status(200), 200) << service.log();
  const json object = json::parse(call(port, "GET", items("default") + "/from-file").body);
  EXPECT_EQ(object["metadata"]["annotations"]["imageupdater.kubesphere.io/spec-file"], "web.yaml");
  std::filesystem::remove(specs + "/web.yaml");
  EXPECT_EQ(wait_status(404), 404);
  ASSERT_EQ(service.stop(SIGTERM), 0);
  EXPECT_TRUE(contains(service.log(), "msg=\"spec file not applied\"")) << service.log();
  EXPECT_TRUE(contains(service.log(), "broken.yaml")) << service.log();
}

} // namespace

namespace {

// Issue 13: a spec carries no power over the host. Through the API and through --watch, an
// ext: credential (a program) is refused and never run; the data directory is the service's own.
TEST_F(ServeFeaturesTest, SpecsCannotRunProgramsOrReadTheHost) {
  const std::string marker = m_dir.path() + "/ran";
  const std::string script =
      m_dir.write("creds.sh", "#!/bin/sh\ntouch " + marker + "\necho user:pass\n");
  ::chmod(script.c_str(), 0755);
  m_dir.write("watch/evil.yaml",
              "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nmetadata: {name: "
              "evil, namespace: demo}\nspec:\n  kind: argocd\n  images: [\"app=127.0.0.1:9/x\"]\n"
              "  argocd:\n    app: {name: web}\n    secret: {app: \"ext:" +
                  script + "\"}\n");
  Service service(data(), m_dir.path(),
                  {"--workers", "2", "--watch", m_dir.path() + "/watch", "--watch-interval", "1s"});
  const auto port = service.port();
  ASSERT_NE(port, 0) << service.log();
  for (const std::string& secret :
       {"ext:" + script, std::string("env:HOME"), std::string("pullsecret:other-team/regcred")}) {
    json body = json::parse(updater("web"));
    body["spec"]["argocd"]["secret"] = {{"app", secret}};
    const auto r = call(port, "POST", items("demo"), body.dump());
    EXPECT_EQ(r.status, 422) << secret << ": " << r.body;
    EXPECT_TRUE(contains(r.body, "spec.argocd.secret.app")) << r.body;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500)); // a watch round and a check
  EXPECT_EQ(call(port, "GET", items("demo") + "/evil").status, 404) << service.log();
  EXPECT_TRUE(contains(service.log(), "evil.yaml")) << "the refused file is reported";
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the script ran";
  struct stat st{};
  ASSERT_EQ(::stat(data().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((data() + "/imageupdater.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(service.stop(SIGTERM), 0) << service.log();
}

} // namespace
