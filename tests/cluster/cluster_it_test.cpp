// common/cluster against a real kube-apiserver (tests/harness/kube.sh, fixture `kube`): the CRD
// installed from the committed kustomize/crd file, ClusterStore over kube::Client (the API
// server's versions, conflicts, selectors, status subresource and RBAC), and the Loop over the
// real client: without and with leader election, and across an API server restart after etcd
// was compacted (the informer's watch version is too old then: 410, a relist).
#include <atomic>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/api/crd.hpp"
#include "common/cluster/cluster_store.hpp"
#include "common/cluster/loop.hpp"
#include "common/credentials/environment.hpp"
#include "common/http/poco_client.hpp"
#include "common/kube/client.hpp"
#include "common/kube/config.hpp"
#include "common/util/clock.hpp"

#include "tests/cluster/support.hpp"
#include "tests/integration/services_env.hpp"
#include "tests/support/process.hpp"

namespace {

using json = nlohmann::json;
namespace cluster = common::cluster;
namespace kube = common::kube;
namespace store = common::store;
namespace util = common::util;
using cluster_test::eventually;
using cluster_test::ready_status;
using cluster_test::RecordingReconciler;
using common::util::ErrorKind;
using namespace std::chrono_literals;

const kube::Resource k_crds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
const kube::Resource k_configmaps{"", "v1", "configmaps", true};
constexpr const char* k_ns = "default";

std::string unique(const std::string& base) {
  static std::atomic<int> counter{0};
  return base + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

class ClusterIt : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    bool skip = false;
    m_kube = it::Kube::load(why, skip);
    if (!m_kube) {
      if (skip) {
        GTEST_SKIP() << "no Kubernetes API server: " << why;
      }
      FAIL() << why;
    }
    auto config = kube::load_kubeconfig(m_env, {m_kube->env("KUBE_KUBECONFIG")}, "admin");
    ASSERT_TRUE(config) << config.error().message;
    auto client = kube::Client::create(*config, m_env, m_clock);
    ASSERT_TRUE(client) << client.error().message;
    m_client = std::move(*client);
    install_crd();
  }

  // The committed CRD (kustomize/crd; tests/api/crd_test.cpp keeps it equal to crd_yaml(), whose
  // JSON form is crd_json()) created through the client; AlreadyExists is fine (other tests of
  // the fixture install it too). Then waits until the resource is served.
  void install_crd() {
    const std::string committed = test_support::read_text_file(
        std::string(IU_SOURCE_DIR) + "/kustomize/crd/gitops.kubesphere.io_imageupdaters.yaml");
    ASSERT_EQ(committed, common::api::crd_yaml()) << "kustomize/crd is not the generated CRD";
    auto created = m_client->create(k_crds, "", common::api::crd_json());
    if (!created) {
      ASSERT_EQ(created.error().kind, ErrorKind::conflict) << created.error().message;
    }
    util::Error last;
    ASSERT_TRUE(eventually(
        [&] {
          auto listed = m_client->list(kube::imageupdaters(), k_ns, {});
          if (!listed) {
            last = listed.error();
          }
          return listed.has_value();
        },
        60s))
        << "the CRD is not served: " << last.message;
  }

  store::Object object(const std::string& name,
                       const std::map<std::string, std::string>& labels = {}) {
    return cluster_test::object(k_ns, name, labels);
  }

  std::optional<it::Kube> m_kube;
  common::credentials::SystemEnvironment m_env;
  util::SystemClock m_clock;
  std::unique_ptr<kube::Client> m_client;
};

TEST_F(ClusterIt, StoreOverTheApiServer) {
  cluster::ClusterStore s(*m_client);
  const std::string label = unique("store");
  const std::string name = label + "-a";
  auto created = s.create(object(name, {{"iu-test", label}, {"tier", "a"}}));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->uid.empty());
  EXPECT_EQ(created->generation, 1);
  EXPECT_FALSE(created->creation_timestamp.empty());
  auto again = s.create(object(name));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos)
      << again.error().message;
  for (const char* n : {"-b", "-c"}) {
    ASSERT_TRUE(s.create(object(label + n, {{"iu-test", label}, {"tier", n + 1}})));
  }

  // The API server refuses what the schema refuses, as invalid_input.
  store::Object bad = object(label + "-bad");
  bad.spec_json = R"({"kind":"nope","images":["web=nginx"]})";
  auto invalid = s.create(bad);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().kind, ErrorKind::invalid_input) << invalid.error().message;

  auto got = s.get({k_ns, name});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->uid, created->uid);
  auto missing = s.get({k_ns, label + "-nope"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);

  // Lists: pages, set-based selectors (the API server parses what selector_text writes).
  using Op = store::Requirement::Op;
  struct Case {
    store::Selector selector;
    std::size_t limit;
    std::vector<std::string> names;
  };
  const Case cases[] = {
      {{{Op::equals, "iu-test", {label}}}, 2, {name, label + "-b", label + "-c"}},
      {{{Op::equals, "iu-test", {label}}, {Op::in, "tier", {"a", "c"}}}, 1, {name, label + "-c"}},
      {{{Op::equals, "iu-test", {label}}, {Op::not_in, "tier", {"a", "c"}}}, 0, {label + "-b"}},
      {{{Op::equals, "iu-test", {label}}, {Op::not_equals, "tier", {"b"}}},
       0,
       {name, label + "-c"}},
      {{{Op::equals, "iu-test", {label}}, {Op::not_exists, "tier", {}}}, 0, {}},
      {{{Op::equals, "iu-test", {label}}, {Op::exists, "tier", {}}},
       0,
       {name, label + "-b", label + "-c"}},
  };
  for (const Case& c : cases) {
    store::ListOptions options;
    options.selector = c.selector;
    options.limit = c.limit;
    std::vector<std::string> names;
    int pages = 0;
    do {
      auto page = s.list("", options);
      ASSERT_TRUE(page) << cluster::selector_text(c.selector) << ": " << page.error().message;
      for (const auto& item : page->items) {
        names.push_back(item.key.name);
      }
      options.continue_token = page->continue_token;
      ++pages;
    } while (!options.continue_token.empty() && pages < 10);
    EXPECT_EQ(names, c.names) << cluster::selector_text(c.selector);
  }

  // replace: spec, labels, annotations; a finalizer another manager set survives; a stale
  // version is the API server's 409.
  json raw = json::parse(*m_client->get(kube::imageupdaters(), k_ns, name));
  raw["metadata"]["finalizers"] = {"example.com/keep"};
  ASSERT_TRUE(m_client->update(kube::imageupdaters(), k_ns, name, raw.dump()));
  auto current = s.get({k_ns, name});
  ASSERT_TRUE(current);
  store::Object next = *current;
  next.labels.erase("tier");
  next.annotations["reconcile.fluxcd.io/requestedAt"] = "now";
  json spec = json::parse(next.spec_json);
  spec["argocd"]["app"]["name"] = "changed";
  next.spec_json = spec.dump();
  auto replaced = s.replace(next);
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->generation, 2);
  EXPECT_EQ(replaced->labels, (std::map<std::string, std::string>{{"iu-test", label}}));
  EXPECT_EQ(replaced->annotations.at("reconcile.fluxcd.io/requestedAt"), "now");
  EXPECT_EQ(
      json::parse(*m_client->get(kube::imageupdaters(), k_ns, name))["metadata"]["finalizers"],
      json({"example.com/keep"}));
  auto stale = s.replace(next);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  EXPECT_NE(stale.error().message.find("the object has been modified"), std::string::npos)
      << stale.error().message;

  // replace_status: the status subresource; spec and generation untouched.
  auto with_status = s.replace_status({k_ns, name}, replaced->resource_version,
                                      ready_status("True", "Succeeded", "ok", 2));
  ASSERT_TRUE(with_status) << with_status.error().message;
  EXPECT_EQ(with_status->generation, 2);
  EXPECT_EQ(json::parse(with_status->spec_json), spec);
  EXPECT_EQ(json::parse(with_status->status_json)["conditions"][0]["reason"], "Succeeded");
  auto stale_status = s.replace_status({k_ns, name}, replaced->resource_version, "{}");
  ASSERT_FALSE(stale_status);
  EXPECT_EQ(stale_status.error().kind, ErrorKind::conflict);

  // remove: a stale precondition is conflict; the finalizer keeps the object (deleting) until
  // it is removed.
  auto refused = s.remove({k_ns, name}, created->resource_version);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::conflict) << refused.error().message;
  ASSERT_TRUE(s.remove({k_ns, name}, with_status->resource_version));
  json deleting = json::parse(*m_client->get(kube::imageupdaters(), k_ns, name));
  EXPECT_TRUE(deleting["metadata"].contains("deletionTimestamp"));
  ASSERT_TRUE(m_client->patch(kube::imageupdaters(), k_ns, name, kube::PatchType::merge,
                              R"({"metadata":{"finalizers":null}})"));
  auto gone = s.get({k_ns, name});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found);
  for (const char* n : {"-b", "-c"}) {
    ASSERT_TRUE(s.remove({k_ns, label + n}, ""));
  }
}

TEST_F(ClusterIt, CallerStoreActsAsTheCaller) {
  cluster::ClusterStore admin(*m_client);
  const std::string name = unique("caller");
  ASSERT_TRUE(admin.create(object(name)));
  auto user = cluster::caller_store(*m_client, m_kube->env("KUBE_USER_TOKEN"));
  auto forbidden = user->get({k_ns, name});
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().kind, ErrorKind::auth);
  EXPECT_NE(forbidden.error().message.find("iu-user"), std::string::npos)
      << forbidden.error().message;
  auto listed = user->list(k_ns, {});
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().kind, ErrorKind::auth);
  auto nobody = cluster::caller_store(*m_client, "not-a-token");
  auto unauthorized = nobody->get({k_ns, name});
  ASSERT_FALSE(unauthorized);
  EXPECT_EQ(unauthorized.error().kind, ErrorKind::auth);
  auto as_admin = cluster::caller_store(*m_client, m_kube->env("KUBE_ADMIN_TOKEN"));
  auto got = as_admin->get({k_ns, name});
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(as_admin->remove({k_ns, name}, got->resource_version));
}

// A loop and a ClusterStore reading from its cache, as serve wires them.
struct Replica {
  RecordingReconciler reconciler;
  std::unique_ptr<cluster::Loop> loop;
  std::unique_ptr<cluster::ClusterStore> store;

  Replica(kube::Api& api, util::Clock& clock, cluster::LoopOptions options) {
    store = std::make_unique<cluster::ClusterStore>(
        api, [this](const store::Key& key) -> std::optional<std::string> {
          return loop ? loop->cached(key) : std::nullopt;
        });
    reconciler.store = store.get();
    auto created =
        cluster::Loop::create(api, std::move(options), reconciler, clock, nullptr, nullptr);
    EXPECT_TRUE(created) << (created ? "" : created.error().message);
    if (created) {
      loop = std::move(*created);
    }
  }
};

cluster::LoopOptions loop_options(bool leader_elect, const std::string& lease,
                                  const std::string& identity) {
  cluster::LoopOptions o;
  o.namespace_ = k_ns;
  o.leader_elect = leader_elect;
  o.controller.workers = 2;
  o.sync_timeout = 30s;
  o.lease.namespace_ = k_ns;
  o.lease.name = lease;
  o.lease.identity = identity;
  o.lease.lease_duration = 4s;
  o.lease.renew_deadline = 3s;
  o.lease.retry_period = 500ms;
  return o;
}

TEST_F(ClusterIt, LoopReconcilesWhatTheApiServerHolds) {
  cluster::ClusterStore s(*m_client);
  const std::string base = unique("loop");
  ASSERT_TRUE(s.create(object(base + "-before")));
  Replica r(*m_client, m_clock, loop_options(false, "", ""));
  ASSERT_NE(r.loop, nullptr);
  r.loop->start();
  EXPECT_TRUE(r.loop->leading());
  ASSERT_TRUE(eventually([&] { return r.reconciler.count(base + "-before") == 1; }, 30s));
  EXPECT_TRUE(r.reconciler.last(base + "-before").found)
      << "listed objects are read from the cache";
  auto after = s.create(object(base + "-after"));
  ASSERT_TRUE(after);
  ASSERT_TRUE(eventually([&] { return r.reconciler.count(base + "-after") == 1; }, 30s));
  EXPECT_TRUE(r.reconciler.last(base + "-after").found);

  // requestedAt queues it again; the controller's status write does not (shown by the next
  // change: one reconcile more, not two).
  store::Object requested = *after;
  requested.annotations["reconcile.fluxcd.io/requestedAt"] = "1";
  auto a2 = s.replace(requested);
  ASSERT_TRUE(a2) << a2.error().message;
  ASSERT_TRUE(eventually([&] { return r.reconciler.count(base + "-after") == 2; }, 30s));
  auto a3 =
      r.store->replace_status(a2->key, a2->resource_version, ready_status("True", "Succeeded"));
  ASSERT_TRUE(a3) << a3.error().message;
  ASSERT_TRUE(eventually(
      [&] {
        auto cached = r.store->get(a2->key);
        return cached && cached->resource_version == a3->resource_version;
      },
      30s));
  ASSERT_TRUE(s.remove({k_ns, base + "-before"}, ""));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count(base + "-before") == 2; }, 30s));
  EXPECT_FALSE(r.reconciler.last(base + "-before").found);
  EXPECT_EQ(r.reconciler.count(base + "-after"), 2u);
  r.loop->stop();
  ASSERT_TRUE(s.remove({k_ns, base + "-after"}, ""));
}

TEST_F(ClusterIt, LeaderElectionOnARealLease) {
  cluster::ClusterStore s(*m_client);
  const std::string base = unique("elect");
  ASSERT_TRUE(s.create(object(base + "-a")));
  Replica first(*m_client, m_clock, loop_options(true, base, "first"));
  first.loop->start();
  ASSERT_TRUE(eventually([&] { return first.loop->leading(); }, 30s));
  ASSERT_TRUE(eventually([&] { return first.reconciler.count(base + "-a") == 1; }, 30s));
  Replica second(*m_client, m_clock, loop_options(true, base, "second"));
  second.loop->start(); // returns once its cache is synced
  ASSERT_TRUE(s.create(object(base + "-b")));
  ASSERT_TRUE(eventually([&] { return first.reconciler.count(base + "-b") == 1; }, 30s));
  ASSERT_TRUE(
      eventually([&] { return second.loop->cached({k_ns, base + "-b"}).has_value(); }, 30s));
  EXPECT_FALSE(second.loop->leading());
  EXPECT_TRUE(second.reconciler.seen().empty());
  json lease = json::parse(*m_client->get(kube::leases(), k_ns, base));
  EXPECT_EQ(lease["spec"]["holderIdentity"], "first");

  const auto handover = std::chrono::steady_clock::now();
  first.loop->stop();
  ASSERT_TRUE(eventually([&] { return second.loop->leading(); }, 30s));
  std::cout << "handover after stop(): "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - handover)
                   .count()
            << " ms\n";
  ASSERT_TRUE(eventually(
      [&] {
        return second.reconciler.count(base + "-a") == 1 &&
               second.reconciler.count(base + "-b") == 1;
      },
      30s));
  ASSERT_TRUE(s.create(object(base + "-c")));
  ASSERT_TRUE(eventually([&] { return second.reconciler.count(base + "-c") == 1; }, 30s));
  EXPECT_EQ(first.reconciler.count(base + "-c"), 0u);
  lease = json::parse(*m_client->get(kube::leases(), k_ns, base));
  EXPECT_EQ(lease["spec"]["holderIdentity"], "second");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  second.loop->stop();
  for (const char* n : {"-a", "-b", "-c"}) {
    ASSERT_TRUE(s.remove({k_ns, base + n}, ""));
  }
  ASSERT_TRUE(m_client->remove(kube::leases(), k_ns, base));
}

// After etcd is compacted past the informer's last version and the API server restarts (its
// watch cache then starts at the current revision), the informer's watch from its old version
// is answered 410 and the informer lists again; the loop goes on seeing changes.
TEST_F(ClusterIt, LoopSurvivesCompactionAndARestart) {
  const std::string env_dir = m_kube->dir();
  std::ifstream ports(env_dir + "/ports");
  int etcd_port = 0;
  if (!(ports >> etcd_port)) {
    GTEST_SKIP() << "the harness does not say where etcd listens (DIR/ports)";
  }
  cluster::ClusterStore s(*m_client);
  const std::string base = unique("gone");
  ASSERT_TRUE(s.create(object(base + "-a")));
  Replica r(*m_client, m_clock, loop_options(false, "", ""));
  r.loop->start();
  ASSERT_TRUE(eventually([&] { return r.reconciler.count(base + "-a") == 1; }, 30s));
  const auto before = r.loop->informer_stats();

  // Writes elsewhere move etcd's revision past everything the informer has seen.
  const std::string cm = base + "-cm";
  ASSERT_TRUE(m_client->create(k_configmaps, k_ns,
                               json{{"apiVersion", "v1"},
                                    {"kind", "ConfigMap"},
                                    {"metadata", {{"name", cm}}},
                                    {"data", {{"k", "0"}}}}
                                   .dump()));
  std::string revision;
  for (int i = 1; i <= 3; ++i) {
    auto patched = m_client->patch(k_configmaps, k_ns, cm, kube::PatchType::merge,
                                   json{{"data", {{"k", std::to_string(i)}}}}.dump());
    ASSERT_TRUE(patched) << patched.error().message;
    revision = json::parse(*patched)["metadata"]["resourceVersion"];
  }
  auto http = common::http::PocoClient::create({});
  ASSERT_TRUE(http);
  common::http::Request compact;
  compact.method = "POST";
  compact.url = "http://127.0.0.1:" + std::to_string(etcd_port) + "/v3/kv/compaction";
  compact.headers.emplace_back("Content-Type", "application/json");
  compact.body = json{{"revision", revision}, {"physical", true}}.dump();
  const auto compacted = (*http)->send(compact, common::http::Limits{});
  ASSERT_TRUE(compacted) << compacted.error().message;
  ASSERT_EQ(compacted->status, 200) << compacted->body;

  const auto restarted = test_support::run_process(
      {std::string(IU_SOURCE_DIR) + "/tests/harness/kube.sh", "restart-apiserver", env_dir}, {},
      120);
  ASSERT_EQ(restarted.exit_code, 0) << restarted.out << restarted.err;

  ASSERT_TRUE(s.create(object(base + "-b")));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count(base + "-b") == 1; }, 60s));
  const auto after = r.loop->informer_stats();
  std::cout << "informer: relists " << before.relists << " -> " << after.relists << ", errors "
            << before.errors << " -> " << after.errors << ", watches " << before.watch_requests
            << " -> " << after.watch_requests << "\n";
  EXPECT_GT(after.errors, before.errors) << "the restart broke the watch";
  EXPECT_GT(after.relists, before.relists) << "the watch from the compacted version was not 410";
  // And the loop keeps following changes after the relist.
  ASSERT_TRUE(s.remove({k_ns, base + "-a"}, ""));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count(base + "-a") == 2; }, 30s));
  EXPECT_FALSE(r.reconciler.last(base + "-a").found);
  r.loop->stop();
  ASSERT_TRUE(s.remove({k_ns, base + "-b"}, ""));
  ASSERT_TRUE(m_client->remove(k_configmaps, k_ns, cm));
}

} // namespace
