#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/kube/informer.hpp"

#include "tests/support/fake_kube.hpp"

namespace {

using json = nlohmann::json;
using tests::FakeApi;
namespace kube = common::kube;
namespace util = common::util;
using util::ErrorKind;
using namespace std::chrono_literals;

const kube::Resource k_iu = kube::imageupdaters();

// What the handlers saw, as "add ns/name", "update ns/name", "delete ns/name".
class Recorder {
public:
  kube::InformerHandlers handlers() {
    return {[this](const kube::CachedObject& o) { push("add", o); },
            [this](const kube::CachedObject& old, const kube::CachedObject& now) {
              EXPECT_EQ(old.meta.key(), now.meta.key());
              push("update", now);
            },
            [this](const kube::CachedObject& o) { push("delete", o); }};
  }
  std::vector<std::string> take() {
    std::lock_guard lock(m_mutex);
    return std::exchange(m_seen, {});
  }
  std::size_t size() {
    std::lock_guard lock(m_mutex);
    return m_seen.size();
  }

private:
  void push(const char* what, const kube::CachedObject& o) {
    std::lock_guard lock(m_mutex);
    m_seen.push_back(std::string(what) + " " + o.meta.namespace_ + "/" + o.meta.name);
  }
  std::mutex m_mutex;
  std::vector<std::string> m_seen;
};

template <class F>
bool eventually(F pred, std::chrono::milliseconds timeout = 5s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

std::string make(const std::string& name, int a = 1) {
  return json{{"metadata", {{"name", name}}}, {"spec", {{"a", a}}}}.dump();
}

json get(FakeApi& api, const std::string& ns, const std::string& name) {
  return json::parse(*api.get(k_iu, ns, name));
}

kube::InformerOptions options(std::string namespace_ = {}) {
  kube::InformerOptions o;
  o.resource = k_iu;
  o.namespace_ = std::move(namespace_);
  o.wait_scale = 0.001; // backoffs of 0.8 ms to 30 ms
  o.jitter_seed = 1;
  return o;
}

TEST(Informer, ListsInPagesThenWatches) {
  FakeApi api;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(api.create(k_iu, i % 2 == 0 ? "a" : "b", make("o" + std::to_string(i))));
  }
  Recorder seen;
  auto opts = options();
  opts.page_size = 2;
  kube::Informer informer(api, opts, seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  EXPECT_EQ(seen.take(),
            (std::vector<std::string>{"add a/o0", "add a/o2", "add a/o4", "add b/o1", "add b/o3"}));
  EXPECT_EQ(api.count(FakeApi::Verb::list), 3u);
  EXPECT_EQ(informer.stats().list_requests, 3u);
  EXPECT_EQ(informer.list("b").size(), 2u);
  EXPECT_EQ(informer.list().size(), 5u);
  auto o2 = informer.get({"a", "o2"});
  ASSERT_NE(o2, nullptr);
  EXPECT_EQ(o2->meta.generation, 1);
  EXPECT_EQ(json::parse(o2->json)["spec"]["a"], 1);

  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  json o = get(api, "a", "o0");
  o["spec"]["a"] = 2;
  ASSERT_TRUE(api.update(k_iu, "a", "o0", o.dump()));
  ASSERT_TRUE(api.create(k_iu, "c", make("new")));
  ASSERT_TRUE(api.remove(k_iu, "b", "o1"));
  ASSERT_TRUE(eventually([&] { return seen.size() == 3; }));
  EXPECT_EQ(seen.take(), (std::vector<std::string>{"update a/o0", "add c/new", "delete b/o1"}));
  EXPECT_EQ(informer.get({"a", "o0"})->meta.generation, 2);
  EXPECT_EQ(informer.get({"b", "o1"}), nullptr);
  EXPECT_EQ(informer.last_resource_version(), api.resource_version());
  EXPECT_EQ(api.count(FakeApi::Verb::list), 3u); // a watch, not a poll
}

TEST(Informer, OneNamespaceOnly) {
  FakeApi api;
  ASSERT_TRUE(api.create(k_iu, "a", make("x")));
  ASSERT_TRUE(api.create(k_iu, "b", make("y")));
  Recorder seen;
  kube::Informer informer(api, options("b"), seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  ASSERT_TRUE(api.create(k_iu, "a", make("z")));
  ASSERT_TRUE(api.create(k_iu, "b", make("w")));
  ASSERT_TRUE(eventually([&] { return seen.size() == 2; }));
  EXPECT_EQ(seen.take(), (std::vector<std::string>{"add b/y", "add b/w"}));
}

TEST(Informer, BookmarksMoveTheVersionAndEndedWatchesResume) {
  FakeApi api;
  ASSERT_TRUE(api.create(k_iu, "a", make("x")));
  Recorder seen;
  kube::Informer informer(api, options(), seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  // Another resource's write moves the global version; the bookmark carries it here.
  ASSERT_TRUE(api.create(kube::leases(), "a", make("l")));
  api.send_bookmark();
  ASSERT_TRUE(
      eventually([&] { return informer.last_resource_version() == api.resource_version(); }));

  api.end_watches(); // the server's timeout
  ASSERT_TRUE(eventually([&] { return api.count(FakeApi::Verb::watch) == 2; }));
  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  ASSERT_TRUE(api.create(k_iu, "a", make("y")));
  ASSERT_TRUE(eventually([&] { return seen.size() == 2; }));
  EXPECT_EQ(seen.take(), (std::vector<std::string>{"add a/x", "add a/y"}));
  EXPECT_EQ(api.count(FakeApi::Verb::list), 1u);
  EXPECT_EQ(informer.stats().relists, 0u);
  EXPECT_EQ(informer.stats().watch_requests, 2u);
}

TEST(Informer, GoneRelistsAndReportsTheDifference) {
  FakeApi api;
  for (const char* name : {"keep", "change", "drop"}) {
    ASSERT_TRUE(api.create(k_iu, "a", make(name)));
  }
  Recorder seen;
  kube::Informer informer(api, options(), seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  seen.take();

  // The informer cannot watch while the objects change, and the versions it knows expire.
  api.fail_next(FakeApi::Verb::watch, util::Error(ErrorKind::transient, "down"), 1'000'000);
  api.end_watches();
  ASSERT_TRUE(eventually([&] { return api.count(FakeApi::Verb::watch) >= 3; }));
  json change = get(api, "a", "change");
  change["spec"]["a"] = 7;
  ASSERT_TRUE(api.update(k_iu, "a", "change", change.dump()));
  ASSERT_TRUE(api.remove(k_iu, "a", "drop"));
  ASSERT_TRUE(api.create(k_iu, "a", make("new")));
  api.compact();
  api.clear_failures();

  ASSERT_TRUE(eventually([&] { return seen.size() == 3; }));
  EXPECT_EQ(seen.take(),
            (std::vector<std::string>{"delete a/drop", "update a/change", "add a/new"}));
  EXPECT_EQ(api.count(FakeApi::Verb::list), 2u);
  EXPECT_EQ(informer.stats().relists, 1u);
  EXPECT_GE(informer.stats().errors, 2u);
  EXPECT_EQ(informer.get({"a", "change"})->meta.generation, 2);
}

TEST(Informer, GoneDuringAWatchRelists) {
  FakeApi api;
  ASSERT_TRUE(api.create(k_iu, "a", make("x")));
  Recorder seen;
  kube::Informer informer(api, options(), seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  api.end_watches(util::Error(ErrorKind::gone, "too old resource version"));
  ASSERT_TRUE(eventually([&] { return informer.stats().lists == 2; }));
  EXPECT_EQ(informer.stats().relists, 1u);
  EXPECT_EQ(seen.take(), (std::vector<std::string>{"add a/x"})); // nothing changed
}

TEST(Informer, ListFailuresBackOffUntilTheServerAnswers) {
  FakeApi api;
  ASSERT_TRUE(api.create(k_iu, "a", make("x")));
  api.fail_next(FakeApi::Verb::list, util::Error(ErrorKind::transient, "refused"), 3);
  Recorder seen;
  kube::Informer informer(api, options(), seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  EXPECT_EQ(api.count(FakeApi::Verb::list), 4u);
  EXPECT_EQ(informer.stats().errors, 3u);
  EXPECT_EQ(informer.stats().lists, 1u);
}

TEST(Informer, WaitSyncedTimesOutAndStopEndsEverything) {
  FakeApi api;
  api.fail_next(FakeApi::Verb::list, util::Error(ErrorKind::auth, "forbidden"), 1'000'000);
  Recorder seen;
  auto opts = options();
  opts.wait_scale = 1.0; // a real 800 ms backoff: stop() must cut it short
  kube::Informer informer(api, opts, seen.handlers());
  informer.start();
  EXPECT_FALSE(informer.wait_synced(20ms));
  auto before = std::chrono::steady_clock::now();
  informer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 500ms);
  EXPECT_FALSE(informer.wait_synced(1s)); // stopped: answers at once
}

TEST(Informer, StopCancelsABlockedWatch) {
  FakeApi api;
  Recorder seen;
  kube::Informer informer(api, options(), seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  ASSERT_TRUE(eventually([&] { return api.open_watches() == 1; }));
  informer.stop();
  EXPECT_EQ(api.open_watches(), 0u);
  informer.stop(); // idempotent
}

TEST(Informer, ExpiredContinueTokenFallsBackToOneList) {
  FakeApi api;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(api.create(k_iu, "a", make("o" + std::to_string(i))));
  }
  api.compact(); // every continue token handed out from now on is already expired
  Recorder seen;
  auto opts = options();
  opts.page_size = 2;
  kube::Informer informer(api, opts, seen.handlers());
  informer.start();
  ASSERT_TRUE(informer.wait_synced(5s));
  EXPECT_EQ(seen.size(), 3u);
  // The first page, the second refused as expired, then one list of everything.
  EXPECT_EQ(api.count(FakeApi::Verb::list), 3u);
  EXPECT_EQ(informer.stats().errors, 0u);
}

} // namespace
