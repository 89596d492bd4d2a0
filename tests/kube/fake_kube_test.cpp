// The FakeApi behaves like the API server where the machinery depends on it: these tests pin
// that behaviour so the machinery's tests mean something.
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/fake_kube.hpp"

namespace {

using json = nlohmann::json;
using tests::FakeApi;
namespace kube = common::kube;
namespace util = common::util;
using util::ErrorKind;
using Type = kube::WatchEvent::Type;

const kube::Resource k_iu = kube::imageupdaters();

std::string object(const std::string& name, const json& spec = {{"a", 1}}) {
  return json{{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
              {"kind", "ImageUpdater"},
              {"metadata", {{"name", name}}},
              {"spec", spec}}
      .dump();
}

kube::ListOptions paged(std::size_t limit, std::string token = {}) {
  kube::ListOptions o;
  o.limit = limit;
  o.continue_token = std::move(token);
  return o;
}

kube::WatchOptions from(std::string version) {
  kube::WatchOptions o;
  o.resource_version = std::move(version);
  return o;
}

json must(const util::Result<std::string>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? json::parse(*r) : json();
}

TEST(FakeApi, CreateSetsServerFieldsAndRefusesDuplicates) {
  FakeApi api;
  json o = must(api.create(k_iu, "ns", object("a")));
  EXPECT_EQ(o["metadata"]["namespace"], "ns");
  EXPECT_EQ(o["metadata"]["generation"], 1);
  EXPECT_FALSE(o["metadata"]["uid"].get<std::string>().empty());
  EXPECT_EQ(o["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(o["metadata"]["resourceVersion"], api.resource_version());
  auto again = api.create(k_iu, "ns", object("a"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);
  EXPECT_EQ(api.count(FakeApi::Verb::create), 2u);
}

TEST(FakeApi, UpdateChecksVersionAndBumpsGenerationOnSpecOnly) {
  FakeApi api;
  json o = must(api.create(k_iu, "ns", object("a")));
  json stale = o;
  o["metadata"]["labels"] = {{"l", "1"}};
  json labelled = must(api.update(k_iu, "ns", "a", o.dump()));
  EXPECT_EQ(labelled["metadata"]["generation"], 1);
  EXPECT_NE(labelled["metadata"]["resourceVersion"], o["metadata"]["resourceVersion"]);

  auto conflict = api.update(k_iu, "ns", "a", stale.dump());
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().kind, ErrorKind::conflict);

  labelled["spec"]["a"] = 2;
  labelled["status"] = {{"ignored", true}}; // the main resource does not write status
  json changed = must(api.update(k_iu, "ns", "a", labelled.dump()));
  EXPECT_EQ(changed["metadata"]["generation"], 2);
  EXPECT_FALSE(changed.contains("status"));

  // A write that changes nothing stores nothing.
  std::string version = api.resource_version();
  json same = must(api.update(k_iu, "ns", "a", changed.dump()));
  EXPECT_EQ(same["metadata"]["resourceVersion"], changed["metadata"]["resourceVersion"]);
  EXPECT_EQ(api.resource_version(), version);
}

TEST(FakeApi, StatusSubresourceWritesOnlyStatus) {
  FakeApi api;
  json o = must(api.create(k_iu, "ns", object("a")));
  o["spec"]["a"] = 5;
  o["status"] = {{"ready", true}};
  json s = must(api.update(k_iu, "ns", "a", o.dump(), "status"));
  EXPECT_EQ(s["spec"]["a"], 1);
  EXPECT_EQ(s["status"]["ready"], true);
  EXPECT_EQ(s["metadata"]["generation"], 1);
  EXPECT_EQ(api.count(FakeApi::Verb::update_status), 1u);
  json p = must(api.patch(k_iu, "ns", "a", kube::PatchType::merge,
                          R"({"status":{"ready":false},"spec":{"a":9}})", "status"));
  EXPECT_EQ(p["status"]["ready"], false);
  EXPECT_EQ(p["spec"]["a"], 1);
}

TEST(FakeApi, FinalizersDelayDeletion) {
  FakeApi api;
  json o = must(api.create(k_iu, "ns", object("a")));
  o["metadata"]["finalizers"] = {"x/cleanup"};
  o = must(api.update(k_iu, "ns", "a", o.dump()));
  json deleting = must(api.remove(k_iu, "ns", "a"));
  EXPECT_TRUE(deleting["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(api.size(k_iu), 1u);
  deleting["metadata"]["finalizers"] = json::array();
  must(api.update(k_iu, "ns", "a", deleting.dump()));
  EXPECT_EQ(api.size(k_iu), 0u);
  auto gone = api.get(k_iu, "ns", "a");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found);
}

TEST(FakeApi, ListPaginatesAndSelects) {
  FakeApi api;
  for (int i = 0; i < 5; ++i) {
    json o = json::parse(object("o" + std::to_string(i)));
    o["metadata"]["labels"] = {{"even", i % 2 == 0 ? "yes" : "no"}};
    must(api.create(k_iu, i < 3 ? "a" : "b", o.dump()));
  }
  struct Case {
    std::string ns, selector;
    std::size_t limit;
    std::vector<std::string> names;
  };
  const Case cases[] = {
      {"", "", 2, {"o0", "o1", "o2", "o3", "o4"}},
      {"a", "", 0, {"o0", "o1", "o2"}},
      {"", "even=yes", 1, {"o0", "o2", "o4"}},
      {"", "even!=yes", 0, {"o1", "o3"}},
      {"b", "even==no", 0, {"o3"}},
      {"", "missing", 0, {}},
      {"", "!missing", 10, {"o0", "o1", "o2", "o3", "o4"}},
  };
  for (const Case& c : cases) {
    kube::ListOptions options;
    options.label_selector = c.selector;
    options.limit = c.limit;
    std::vector<std::string> names;
    std::size_t pages = 0;
    do {
      auto page = api.list(k_iu, c.ns, options);
      ASSERT_TRUE(page) << page.error().message;
      ++pages;
      for (const auto& item : page->items) {
        names.push_back(json::parse(item)["metadata"]["name"]);
      }
      options.continue_token = page->continue_token;
    } while (!options.continue_token.empty());
    EXPECT_EQ(names, c.names) << c.ns << " " << c.selector;
    if (c.limit != 0) {
      EXPECT_GE(pages, c.names.size() / c.limit) << c.selector;
    }
  }
}

TEST(FakeApi, ContinueTokenExpiresOnCompaction) {
  FakeApi api;
  must(api.create(k_iu, "a", object("x")));
  must(api.create(k_iu, "a", object("y")));
  auto page = api.list(k_iu, "", paged(1));
  ASSERT_TRUE(page);
  api.compact();
  auto next = api.list(k_iu, "", paged(1, page->continue_token));
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().kind, ErrorKind::gone);
}

TEST(FakeApi, WatchDeliversEventsFromAVersion) {
  FakeApi api;
  json a = must(api.create(k_iu, "ns", object("a")));
  std::string version = a["metadata"]["resourceVersion"];
  must(api.create(k_iu, "other", object("b")));
  a["spec"]["a"] = 3;
  must(api.update(k_iu, "ns", "a", a.dump()));
  must(api.remove(k_iu, "ns", "a"));
  auto w = api.watch(k_iu, "ns", from(version));
  ASSERT_TRUE(w);
  std::vector<Type> types;
  for (int i = 0; i < 2; ++i) {
    auto e = (*w)->next();
    ASSERT_TRUE(e && *e);
    types.push_back((*e)->type);
  }
  EXPECT_EQ(types, (std::vector<Type>{Type::modified, Type::deleted}));
  api.send_bookmark();
  auto b = (*w)->next();
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->type, Type::bookmark);
  EXPECT_EQ((*b)->resource_version, api.resource_version());
  api.end_watches();
  auto end = (*w)->next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(FakeApi, WatchFromACompactedVersionIsGone) {
  FakeApi api;
  json a = must(api.create(k_iu, "ns", object("a")));
  must(api.create(k_iu, "ns", object("b")));
  api.compact();
  auto w = api.watch(k_iu, "", from(a["metadata"]["resourceVersion"]));
  ASSERT_TRUE(w);
  auto e = (*w)->next();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::gone);
}

TEST(FakeApi, CancelAndEndWithErrorUnblockAWatch) {
  FakeApi api;
  auto w = api.watch(k_iu, "", {});
  ASSERT_TRUE(w);
  std::thread t([&] { (*w)->cancel(); });
  auto e = (*w)->next();
  t.join();
  ASSERT_TRUE(e);
  EXPECT_FALSE(*e);

  auto w2 = api.watch(k_iu, "", {});
  ASSERT_TRUE(w2);
  api.end_watches(util::Error(ErrorKind::gone, "expired"));
  auto e2 = (*w2)->next();
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().kind, ErrorKind::gone);
  EXPECT_EQ(api.open_watches(), 2u);
}

TEST(FakeApi, InjectedFailuresComeFirst) {
  FakeApi api;
  api.fail_next(FakeApi::Verb::list, util::Error(ErrorKind::transient, "down"), 2);
  EXPECT_EQ(api.list(k_iu, "", {}).error().kind, ErrorKind::transient);
  EXPECT_EQ(api.list(k_iu, "", {}).error().kind, ErrorKind::transient);
  EXPECT_TRUE(api.list(k_iu, "", {}));
  EXPECT_EQ(api.count(FakeApi::Verb::list), 3u);
  EXPECT_EQ(api.total_requests(), 3u);
}

} // namespace
