// Loop against the FakeApi with a recording reconciler: what queues an object (add, delete, a
// spec or annotation change; never the controller's own status write), leader election between
// two loops on one API, and a status write that loses a race.
#include <atomic>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/cluster/cluster_store.hpp"
#include "common/cluster/loop.hpp"
#include "common/metrics/registry.hpp"

#include "tests/cluster/support.hpp"
#include "tests/support/fake_kube.hpp"

namespace {

using json = nlohmann::json;
using tests::FakeApi;
using tests::SharedFakeClock;
namespace cluster = common::cluster;
namespace kube = common::kube;
namespace store = common::store;
namespace util = common::util;
using cluster_test::eventually;
using cluster_test::object;
using cluster_test::ready_status;
using cluster_test::RecordingReconciler;
using common::util::ErrorKind;
using namespace std::chrono_literals;

// A loop, its reconciler and a ClusterStore reading from the loop's cache (as serve wires them).
struct Replica {
  RecordingReconciler reconciler;
  std::unique_ptr<cluster::Loop> loop;
  std::unique_ptr<cluster::ClusterStore> store;

  Replica(FakeApi& api, SharedFakeClock& clock, cluster::LoopOptions options,
          common::metrics::Registry* registry = nullptr) {
    store = std::make_unique<cluster::ClusterStore>(
        api, [this](const store::Key& key) -> std::optional<std::string> {
          return loop ? loop->cached(key) : std::nullopt;
        });
    reconciler.store = store.get();
    auto created =
        cluster::Loop::create(api, std::move(options), reconciler, clock, registry, nullptr);
    EXPECT_TRUE(created) << (created ? "" : created.error().message);
    if (created) {
      loop = std::move(*created);
    }
  }
};

cluster::LoopOptions without_election() {
  cluster::LoopOptions o;
  o.leader_elect = false;
  o.controller.workers = 1; // one worker: keys are reconciled in the order they were queued
  o.sync_timeout = 5s;
  return o;
}

cluster::LoopOptions with_election(const std::string& identity) {
  cluster::LoopOptions o = without_election();
  o.leader_elect = true;
  o.lease.namespace_ = "system";
  o.lease.name = "imageupdater";
  o.lease.identity = identity;
  o.lease.wait_scale = 0.001; // retry period 2 ms of real time; the clock stands still
  o.lease.jitter_seed = 7;
  return o;
}

// The cache holds `name` at the version the API server has now.
bool cache_caught_up(FakeApi& api, cluster::Loop& loop, const std::string& ns,
                     const std::string& name) {
  auto now = api.get(kube::imageupdaters(), ns, name);
  auto cached = loop.cached({ns, name});
  if (!now) {
    return !cached;
  }
  return cached && json::parse(*cached)["metadata"]["resourceVersion"] ==
                       json::parse(*now)["metadata"]["resourceVersion"];
}

TEST(Loop, ReconcilesWhatMattersWithoutLeaderElection) {
  FakeApi api;
  SharedFakeClock clock;
  cluster::ClusterStore direct(api); // the test's own writes, as another client
  ASSERT_TRUE(direct.create(object("apps", "a")));
  ASSERT_TRUE(direct.create(object("other", "b")));
  common::metrics::Registry registry;
  Replica r(api, clock, without_election(), &registry);
  ASSERT_NE(r.loop, nullptr);
  EXPECT_FALSE(r.loop->leading());
  const auto gets_at_start = api.count(FakeApi::Verb::get);
  r.loop->start();
  EXPECT_TRUE(r.loop->leading());
  EXPECT_NE(registry.expose().find("imageupdater_leader 1"), std::string::npos)
      << registry.expose();

  // Every object present at start, once.
  ASSERT_TRUE(eventually([&] { return r.reconciler.seen().size() == 2; }));
  EXPECT_EQ(r.reconciler.count("a"), 1u);
  EXPECT_EQ(r.reconciler.count("b"), 1u);
  EXPECT_TRUE(r.reconciler.last("a").found);

  // An object created later.
  ASSERT_TRUE(direct.create(object("apps", "c")));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("c") == 1; }));
  EXPECT_TRUE(r.reconciler.last("c").found) << "the cache holds it before the handler queues it";
  // Reconciles read the cache, never the API server; one list, then a watch.
  EXPECT_EQ(api.count(FakeApi::Verb::get), gets_at_start);
  EXPECT_EQ(api.count(FakeApi::Verb::list), 1u);

  // A spec change (a new generation) queues it again, and the reconciler reads the new version.
  auto a = direct.get({"apps", "a"});
  ASSERT_TRUE(a);
  json spec = json::parse(a->spec_json);
  spec["argocd"]["app"]["name"] = "changed";
  a->spec_json = spec.dump();
  auto a2 = direct.replace(*a);
  ASSERT_TRUE(a2);
  ASSERT_EQ(a2->generation, 2);
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("a") == 2; }));
  EXPECT_EQ(r.reconciler.last("a").resource_version, a2->resource_version);

  // reconcile.fluxcd.io/requestedAt (an annotation change) queues it again.
  store::Object requested = *a2;
  requested.annotations["reconcile.fluxcd.io/requestedAt"] = "2026-01-01T00:00:00Z";
  auto a3 = direct.replace(requested);
  ASSERT_TRUE(a3);
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("a") == 3; }));
  EXPECT_EQ(r.reconciler.last("a").resource_version, a3->resource_version);

  // A status-only write does not. Proof without a sleep: the cache takes the write in, then a
  // change of another object queues that one; with one worker and a FIFO queue, a reconcile of
  // "a" queued by the status write would come before it.
  auto a4 =
      direct.replace_status({"apps", "a"}, a3->resource_version, ready_status("True", "Succeeded"));
  ASSERT_TRUE(a4) << a4.error().message;
  ASSERT_TRUE(eventually([&] { return cache_caught_up(api, *r.loop, "apps", "a"); }));
  auto c = direct.get({"apps", "c"});
  ASSERT_TRUE(c);
  c->labels["poke"] = "1";
  ASSERT_TRUE(direct.replace(*c));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("c") == 2; }));
  EXPECT_EQ(r.reconciler.count("a"), 3u) << "the status write queued a reconcile";

  // A delete queues it; the reconciler, reading through the loop's cache, sees not_found.
  ASSERT_TRUE(direct.remove({"other", "b"}, ""));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("b") == 2; }));
  EXPECT_FALSE(r.reconciler.last("b").found);

  r.loop->stop();
  EXPECT_FALSE(r.loop->leading());
  EXPECT_NE(registry.expose().find("imageupdater_leader 0"), std::string::npos);
  r.loop->stop(); // idempotent
  // Stopped: nothing is reconciled any more, and the watch is closed.
  EXPECT_EQ(api.open_watches(), 0u);
  const auto before = r.reconciler.seen().size();
  ASSERT_TRUE(direct.create(object("apps", "late")));
  EXPECT_EQ(r.reconciler.seen().size(), before);
}

TEST(Loop, ANamespacedLoopSeesItsNamespaceOnly) {
  FakeApi api;
  SharedFakeClock clock;
  cluster::ClusterStore direct(api);
  ASSERT_TRUE(direct.create(object("apps", "a")));
  ASSERT_TRUE(direct.create(object("other", "b")));
  auto options = without_election();
  options.namespace_ = "apps";
  Replica r(api, clock, options);
  r.loop->start();
  ASSERT_TRUE(direct.create(object("other", "d")));
  ASSERT_TRUE(direct.create(object("apps", "c")));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("c") == 1; }));
  EXPECT_EQ(r.reconciler.count("a"), 1u);
  EXPECT_EQ(r.reconciler.count("b"), 0u);
  EXPECT_EQ(r.reconciler.count("d"), 0u);
  EXPECT_FALSE(r.loop->cached({"other", "b"}));
}

TEST(Loop, TheWatchSurvivesAnExpiredVersion) {
  FakeApi api;
  SharedFakeClock clock;
  cluster::ClusterStore direct(api);
  ASSERT_TRUE(direct.create(object("apps", "a")));
  Replica r(api, clock, without_election());
  r.loop->start();
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("a") == 1; }));
  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  // The server ends the watch with 410 and has compacted the versions: the informer lists again.
  ASSERT_TRUE(direct.create(object("apps", "during")));
  api.compact();
  api.end_watches(util::Error(ErrorKind::gone, "too old resource version"));
  ASSERT_TRUE(eventually([&] { return r.loop->informer_stats().relists >= 1; }, 20s));
  ASSERT_TRUE(direct.create(object("apps", "after")));
  ASSERT_TRUE(eventually([&] { return r.reconciler.count("after") == 1; }, 20s));
  EXPECT_EQ(r.reconciler.count("during"), 1u);
}

TEST(Loop, CreateChecksTheLeaseOptions) {
  FakeApi api;
  SharedFakeClock clock;
  RecordingReconciler reconciler;
  auto options = with_election("a");
  options.lease.namespace_.clear();
  auto loop = cluster::Loop::create(api, options, reconciler, clock, nullptr, nullptr);
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().kind, ErrorKind::invalid_input);
  options = with_election("a");
  options.lease.renew_deadline = options.lease.lease_duration;
  loop = cluster::Loop::create(api, options, reconciler, clock, nullptr, nullptr);
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().kind, ErrorKind::invalid_input);
  // Without leader election the lease options are not looked at.
  options.leader_elect = false;
  EXPECT_TRUE(cluster::Loop::create(api, options, reconciler, clock, nullptr, nullptr));
}

TEST(Loop, OnlyTheLeaderReconcilesAndStopHandsOver) {
  FakeApi api;
  SharedFakeClock clock;
  cluster::ClusterStore direct(api);
  ASSERT_TRUE(direct.create(object("apps", "a")));
  Replica first(api, clock, with_election("first"));
  first.loop->start();
  ASSERT_TRUE(eventually([&] { return first.loop->leading(); }));
  ASSERT_TRUE(eventually([&] { return first.reconciler.count("a") == 1; }));
  Replica second(api, clock, with_election("second"));
  second.loop->start();
  // The standby's cache is warm, and it keeps trying for the Lease (gets of it) in vain: the
  // leader renews it, and the frozen clock never lets it run out.
  ASSERT_TRUE(eventually([&] { return second.loop->cached({"apps", "a"}).has_value(); }));
  const auto gets = api.count(FakeApi::Verb::get);
  ASSERT_TRUE(eventually([&] { return api.count(FakeApi::Verb::get) >= gets + 20; }));
  EXPECT_FALSE(second.loop->leading());

  // Changes are reconciled by the leader only.
  ASSERT_TRUE(direct.create(object("apps", "b")));
  ASSERT_TRUE(eventually([&] { return first.reconciler.count("b") == 1; }));
  ASSERT_TRUE(eventually([&] { return second.loop->cached({"apps", "b"}).has_value(); }));
  EXPECT_TRUE(second.reconciler.seen().empty());
  EXPECT_EQ(
      json::parse(*api.get(kube::leases(), "system", "imageupdater"))["spec"]["holderIdentity"],
      "first");

  // The leader stops: it releases the Lease, the standby takes over and reconciles everything.
  first.loop->stop();
  EXPECT_FALSE(first.loop->leading());
  ASSERT_TRUE(eventually([&] { return second.loop->leading(); }));
  ASSERT_TRUE(eventually(
      [&] { return second.reconciler.count("a") == 1 && second.reconciler.count("b") == 1; }));
  ASSERT_TRUE(direct.create(object("apps", "c")));
  ASSERT_TRUE(eventually([&] { return second.reconciler.count("c") == 1; }));
  EXPECT_EQ(first.reconciler.count("c"), 0u);
  EXPECT_EQ(
      json::parse(*api.get(kube::leases(), "system", "imageupdater"))["spec"]["holderIdentity"],
      "second");
  second.loop->stop();
  EXPECT_EQ(
      json::parse(*api.get(kube::leases(), "system", "imageupdater"))["spec"]["holderIdentity"],
      "");
}

TEST(Loop, AStaleStatusWriteConflictsAndTheNextReconcileSucceeds) {
  FakeApi api;
  SharedFakeClock clock;
  cluster::ClusterStore direct(api);
  ASSERT_TRUE(direct.create(object("apps", "a")));
  Replica r(api, clock, without_election());
  // The reconciler writes the status with the version it read from the cache. On its first
  // call another client changes the object first (the cache is behind now), so the write
  // conflicts; the reconciler waits for the cache to catch up before it says so, so the retry
  // the controller makes at once reads the new version.
  std::mutex mutex;
  std::vector<std::string> results;
  std::atomic<bool> poked{false};
  r.reconciler.hook = [&](const store::Key& key,
                          const store::Object* read) -> util::Result<std::chrono::nanoseconds> {
    if (read == nullptr) {
      return std::chrono::nanoseconds(0);
    }
    if (!poked.exchange(true)) {
      store::Object other = *read;
      other.annotations["other"] = "x";
      EXPECT_TRUE(direct.replace(other));
    }
    auto written =
        r.store->replace_status(key, read->resource_version, ready_status("True", "Succeeded"));
    {
      const std::lock_guard lock(mutex);
      results.push_back(written ? "ok" : util::to_string(written.error().kind));
    }
    if (!written) {
      EXPECT_TRUE(eventually([&] { return cache_caught_up(api, *r.loop, "apps", "a"); }));
      return std::unexpected(written.error());
    }
    return std::chrono::nanoseconds(0);
  };
  r.loop->start();
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(mutex);
    return results.size() >= 2;
  }));
  {
    const std::lock_guard lock(mutex);
    EXPECT_EQ(results[0], "conflict");
    EXPECT_EQ(results[1], "ok");
  }
  const json now = json::parse(*api.get(kube::imageupdaters(), "apps", "a"));
  EXPECT_EQ(now["status"], json::parse(ready_status("True", "Succeeded")));
  EXPECT_EQ(now["metadata"]["annotations"]["other"], "x");
}

} // namespace
