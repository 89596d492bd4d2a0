// kube::Client against a real kube-apiserver (tests/harness/kube.sh): the verbs, their errors,
// pagination, watches (events, 410 Gone, cancel), tokens and client certificates.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/credentials/environment.hpp"
#include "common/http/poco_client.hpp"
#include "common/kube/client.hpp"
#include "common/kube/config.hpp"
#include "common/util/clock.hpp"
#include "common/util/file.hpp"

namespace common::kube {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using util::ErrorKind;

const Resource k_configmaps{"", "v1", "configmaps", true};

// The harness's DIR/env (KEY=VALUE lines): $IU_KUBE_ENV, else the fixture's <build>/it-kube/env.
std::string env_file() {
  const char* path = std::getenv("IU_KUBE_ENV");
  return path != nullptr ? std::string(path) : std::string(IU_BINARY_DIR "/it-kube/env");
}

std::map<std::string, std::string> harness_env() {
  std::map<std::string, std::string> env;
  std::ifstream in(env_file());
  std::string line;
  while (std::getline(in, line)) {
    if (const auto eq = line.find('='); eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return env;
}

class KubeClientIt : public ::testing::Test {
protected:
  void SetUp() override {
    m_harness = harness_env();
    if (m_harness.empty()) {
      GTEST_SKIP() << env_file() << " is missing or empty: run through ctest (fixture kube)";
    }
    if (m_harness.contains("KUBE_SKIP")) {
      GTEST_SKIP() << "no Kubernetes API server: " << m_harness["KUBE_SKIP"];
    }
    m_client = client_for("admin");
    ASSERT_NE(m_client, nullptr);
  }

  std::unique_ptr<Client> client_for(const std::string& context) {
    auto config = load_kubeconfig(m_env, {m_harness["KUBE_KUBECONFIG"]}, context);
    EXPECT_TRUE(config.has_value()) << config.error().message;
    if (!config) {
      return nullptr;
    }
    auto client = Client::create(*config, m_env, m_clock);
    EXPECT_TRUE(client.has_value()) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }

  // A name unique to this process and test.
  static std::string name(const std::string& base) {
    return base + "-" + std::to_string(::getpid()) + "-" + std::to_string(s_counter.fetch_add(1));
  }

  static std::string configmap(const std::string& name, const std::string& value,
                               const std::string& label = "") {
    Json j = {{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}}},
              {"data", {{"k", value}}}};
    if (!label.empty()) {
      j["metadata"]["labels"]["iu-test"] = label;
    }
    return j.dump();
  }

  credentials::SystemEnvironment m_env;
  util::SystemClock m_clock;
  std::map<std::string, std::string> m_harness;
  std::unique_ptr<Client> m_client;
  static inline std::atomic<int> s_counter{0};
};

TEST_F(KubeClientIt, CreateGetUpdatePatchDelete) {
  const std::string n = name("crud");
  auto created = m_client->create(k_configmaps, "default", configmap(n, "1"));
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const Json object = Json::parse(*created);
  const std::string rv = object["metadata"]["resourceVersion"];
  const std::string uid = object["metadata"]["uid"];

  const auto again = m_client->create(k_configmaps, "default", configmap(n, "1"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos)
      << again.error().message;

  auto got = m_client->get(k_configmaps, "default", n);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(Json::parse(*got)["data"]["k"], "1");

  Json update = object;
  update["data"]["k"] = "2";
  auto updated = m_client->update(k_configmaps, "default", n, update.dump());
  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  // The same update again carries the old resourceVersion: the server refuses it.
  update["data"]["k"] = "3";
  const auto stale = m_client->update(k_configmaps, "default", n, update.dump());
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  EXPECT_NE(stale.error().message.find("the object has been modified"), std::string::npos)
      << stale.error().message;

  auto merged =
      m_client->patch(k_configmaps, "default", n, PatchType::merge, R"({"data":{"m":"merge"}})");
  ASSERT_TRUE(merged.has_value()) << merged.error().message;
  auto json_patched = m_client->patch(k_configmaps, "default", n, PatchType::json,
                                      R"([{"op":"replace","path":"/data/k","value":"json"}])");
  ASSERT_TRUE(json_patched.has_value()) << json_patched.error().message;
  WriteOptions apply;
  apply.field_manager = "iu-it";
  apply.force = true;
  auto applied = m_client->patch(k_configmaps, "default", n, PatchType::apply,
                                 R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" +
                                     n + R"("},"data":{"a":"apply"}})",
                                 {}, apply);
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  const Json after = Json::parse(*applied);
  EXPECT_EQ(after["data"]["k"], "json");
  EXPECT_EQ(after["data"]["m"], "merge");
  EXPECT_EQ(after["data"]["a"], "apply");

  const auto invalid =
      m_client->patch(k_configmaps, "default", n, PatchType::merge, R"({"metadata":{"name":"x"}})");
  ASSERT_FALSE(invalid.has_value());
  EXPECT_EQ(invalid.error().kind, ErrorKind::invalid_input) << invalid.error().message;

  DeleteOptions wrong;
  wrong.resource_version = rv; // long gone
  const auto refused = m_client->remove(k_configmaps, "default", n, wrong);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, ErrorKind::conflict) << refused.error().message;
  DeleteOptions right;
  right.uid = uid;
  ASSERT_TRUE(m_client->remove(k_configmaps, "default", n, right).has_value());
  const auto gone = m_client->get(k_configmaps, "default", n);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found);
  EXPECT_EQ(gone.error().message, "configmaps \"" + n + "\" not found");
}

TEST_F(KubeClientIt, ListPagesThroughWithItemKinds) {
  const std::string label = name("page");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(m_client
                    ->create(k_configmaps, "default",
                             configmap(label + "-" + std::to_string(i), "v", label))
                    .has_value());
  }
  ListOptions options;
  options.label_selector = "iu-test=" + label;
  options.limit = 2;
  std::vector<std::string> names;
  int pages = 0;
  do {
    auto page = m_client->list(k_configmaps, "default", options);
    ASSERT_TRUE(page.has_value()) << page.error().message;
    EXPECT_FALSE(page->resource_version.empty());
    for (const auto& item : page->items) {
      const Json j = Json::parse(item);
      EXPECT_EQ(j["kind"], "ConfigMap");
      EXPECT_EQ(j["apiVersion"], "v1");
      names.push_back(j["metadata"]["name"]);
    }
    options.continue_token = page->continue_token;
    ++pages;
  } while (!options.continue_token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names.size(), 5U);

  // All namespaces, and a lease in another group.
  ListOptions all;
  all.label_selector = "iu-test=" + label;
  EXPECT_EQ(m_client->list(k_configmaps, "", all)->items.size(), 5U);
  EXPECT_TRUE(m_client->list(leases(), "kube-system", {}).has_value());
}

TEST_F(KubeClientIt, WatchSeesEventsInOrder) {
  const std::string label = name("watch");
  ListOptions options;
  options.label_selector = "iu-test=" + label;
  auto listed = m_client->list(k_configmaps, "default", options);
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  WatchOptions watch_options;
  watch_options.resource_version = listed->resource_version;
  watch_options.label_selector = options.label_selector;
  watch_options.timeout = 30s;
  auto watch = m_client->watch(k_configmaps, "default", watch_options);
  ASSERT_TRUE(watch.has_value()) << watch.error().message;

  const std::string n = label + "-a";
  ASSERT_TRUE(m_client->create(k_configmaps, "default", configmap(n, "1", label)).has_value());
  ASSERT_TRUE(m_client->patch(k_configmaps, "default", n, PatchType::merge, R"({"data":{"k":"2"}})")
                  .has_value());
  ASSERT_TRUE(m_client->remove(k_configmaps, "default", n).has_value());

  std::vector<WatchEvent::Type> types;
  std::string last_rv;
  while (types.size() < 3) {
    auto event = (*watch)->next();
    ASSERT_TRUE(event.has_value()) << event.error().message;
    ASSERT_TRUE(event->has_value()) << "the watch ended early";
    if ((*event)->type == WatchEvent::Type::bookmark) {
      continue;
    }
    types.push_back((*event)->type);
    EXPECT_EQ(Json::parse((*event)->object_json)["metadata"]["name"], n);
    EXPECT_FALSE((*event)->resource_version.empty());
    last_rv = (*event)->resource_version;
  }
  EXPECT_EQ(types,
            (std::vector<WatchEvent::Type>{WatchEvent::Type::added, WatchEvent::Type::modified,
                                           WatchEvent::Type::deleted}));

  // Nothing more happens: cancel() from another thread ends the blocked next() promptly.
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    (*watch)->cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto end = (*watch)->next();
  canceller.join();
  ASSERT_TRUE(end.has_value()) << end.error().message;
  EXPECT_FALSE(end->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// A quiet watch ends cleanly at its timeoutSeconds (next() says so with nullopt). Bookmarks may
// come before (kube-apiserver 1.32 sent none within 10 s here: its bookmark timer is about a
// minute), so they are allowed, not required.
TEST_F(KubeClientIt, QuietWatchEndsCleanlyAtItsTimeout) {
  auto listed = m_client->list(k_configmaps, "default", {});
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  WatchOptions options;
  options.resource_version = listed->resource_version;
  options.label_selector = "iu-test=" + name("quiet"); // nothing matches
  options.timeout = 4s;
  auto watch = m_client->watch(k_configmaps, "default", options);
  ASSERT_TRUE(watch.has_value()) << watch.error().message;
  const auto start = std::chrono::steady_clock::now();
  int bookmarks = 0;
  while (true) {
    auto event = (*watch)->next();
    ASSERT_TRUE(event.has_value()) << event.error().message;
    if (!event->has_value()) {
      break;
    }
    EXPECT_EQ((*event)->type, WatchEvent::Type::bookmark);
    EXPECT_FALSE((*event)->resource_version.empty());
    ++bookmarks;
  }
  std::cout << bookmarks << " bookmark(s)\n";
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 3s);
  EXPECT_LT(took, 10s);
}

// A 410 from the real server: a continue token whose resourceVersion etcd has compacted away
// (kube-apiserver compacts every 5 minutes; the test compacts through etcd's JSON gateway).
// A watch from resourceVersion "1" is no way to get one: the watch cache evicts events only
// once they are older than 75 s, and until then serves a watch from any version it has seen.
TEST_F(KubeClientIt, ExpiredContinueTokenIsGone) {
  // The etcd port: the harness's DIR/ports ("<etcd> <apiserver>") beside DIR/env.
  const std::string env = env_file();
  std::ifstream ports(env.substr(0, env.rfind('/') + 1) + "ports");
  int etcd_port = 0;
  if (!(ports >> etcd_port)) {
    GTEST_SKIP() << "the harness does not say where etcd listens (DIR/ports)";
  }
  const std::string label = name("expire");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(m_client
                    ->create(k_configmaps, "default",
                             configmap(label + "-" + std::to_string(i), "v", label))
                    .has_value());
  }
  ListOptions options;
  options.label_selector = "iu-test=" + label;
  options.limit = 1;
  auto first = m_client->list(k_configmaps, "default", options);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_FALSE(first->continue_token.empty());
  // Move on, then compact everything before now.
  auto later = m_client->patch(k_configmaps, "default", label + "-0", PatchType::merge,
                               R"({"data":{"k":"w"}})");
  ASSERT_TRUE(later.has_value()) << later.error().message;
  const std::string revision = Json::parse(*later)["metadata"]["resourceVersion"];
  auto http = http::PocoClient::create({});
  ASSERT_TRUE(http.has_value());
  http::Request compact;
  compact.method = "POST";
  compact.url = "http://127.0.0.1:" + std::to_string(etcd_port) + "/v3/kv/compaction";
  compact.headers.emplace_back("Content-Type", "application/json");
  compact.body = Json{{"revision", revision}, {"physical", true}}.dump();
  const auto compacted = (*http)->send(compact, http::Limits{});
  ASSERT_TRUE(compacted.has_value()) << compacted.error().message;
  ASSERT_EQ(compacted->status, 200) << compacted->body;

  options.continue_token = first->continue_token;
  const auto expired = m_client->list(k_configmaps, "default", options);
  ASSERT_FALSE(expired.has_value()) << "a compacted continue token was accepted";
  EXPECT_EQ(expired.error().kind, ErrorKind::gone) << expired.error().message;
  EXPECT_NE(expired.error().message.find("continue"), std::string::npos) << expired.error().message;
  std::cout << "the API server said: " << expired.error().message << "\n";
}

TEST_F(KubeClientIt, ClientCertificateFromFilesAndFromData) {
  auto by_file = client_for("cert-admin");
  ASSERT_NE(by_file, nullptr);
  const auto listed = by_file->list(k_configmaps, "kube-system", {});
  ASSERT_TRUE(listed.has_value()) << listed.error().message;

  Config config;
  config.server = m_harness["KUBE_SERVER"];
  config.ca_data = *util::read_file(m_harness["KUBE_CA"]);
  config.client_cert_data = *util::read_file(m_harness["KUBE_CLIENT_CERT"]);
  config.client_key_data = *util::read_file(m_harness["KUBE_CLIENT_KEY"]);
  config.source = "test";
  auto by_data = Client::create(config, m_env, m_clock);
  ASSERT_TRUE(by_data.has_value()) << by_data.error().message;
  ASSERT_TRUE((*by_data)->list(k_configmaps, "kube-system", {}).has_value());

  // Without the CA the server's certificate is not trusted.
  config.ca_data.clear();
  auto untrusted = Client::create(config, m_env, m_clock);
  ASSERT_TRUE(untrusted.has_value());
  const auto refused = (*untrusted)->list(k_configmaps, "kube-system", {});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, ErrorKind::auth) << refused.error().message;
}

TEST_F(KubeClientIt, TokensAreAuthorisedByTheServer) {
  auto user = m_client->with_token(m_harness["KUBE_USER_TOKEN"]);
  const auto forbidden = user->get(k_configmaps, "default", "anything");
  ASSERT_FALSE(forbidden.has_value());
  EXPECT_EQ(forbidden.error().kind, ErrorKind::auth);
  EXPECT_NE(forbidden.error().message.find("iu-user"), std::string::npos)
      << forbidden.error().message;
  auto nobody = m_client->with_token("not-a-token");
  const auto unauthorized = nobody->list(k_configmaps, "default", {});
  ASSERT_FALSE(unauthorized.has_value());
  EXPECT_EQ(unauthorized.error().kind, ErrorKind::auth);
  auto admin = m_client->with_token(m_harness["KUBE_ADMIN_TOKEN"]);
  EXPECT_TRUE(admin->list(k_configmaps, "default", {}).has_value());
}

} // namespace
} // namespace common::kube
