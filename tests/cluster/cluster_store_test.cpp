// ClusterStore against the in-memory FakeApi: the store::Store contract on the API server's
// terms (versions, conflicts, paging, selectors) and what it leaves alone (finalizers, other
// managers' metadata, the spec on a status write).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/cluster/cluster_store.hpp"

#include "tests/cluster/support.hpp"
#include "tests/support/fake_kube.hpp"

namespace {

using json = nlohmann::json;
using tests::FakeApi;
namespace cluster = common::cluster;
namespace kube = common::kube;
namespace store = common::store;
using cluster_test::object;
using cluster_test::ready_status;
using common::util::ErrorKind;
using Op = store::Requirement::Op;

json stored(FakeApi& api, const std::string& ns, const std::string& name) {
  auto text = api.get(kube::imageupdaters(), ns, name);
  EXPECT_TRUE(text) << name;
  return text ? json::parse(*text) : json();
}

TEST(ClusterStore, CreateGetAndTheServersBookkeeping) {
  FakeApi api;
  cluster::ClusterStore s(api);
  store::Object o = object("apps", "web", {{"team", "a"}});
  o.annotations = {{"note", "1"}};
  o.resource_version = "999";                        // ignored: the server sets it
  o.status_json = ready_status("True", "Succeeded"); // not written on create
  auto created = s.create(o);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->key, o.key);
  EXPECT_FALSE(created->uid.empty());
  EXPECT_FALSE(created->resource_version.empty());
  EXPECT_NE(created->resource_version, "999");
  EXPECT_EQ(created->generation, 1);
  EXPECT_FALSE(created->creation_timestamp.empty());
  EXPECT_EQ(created->labels, o.labels);
  EXPECT_EQ(created->annotations, o.annotations);
  EXPECT_EQ(json::parse(created->spec_json), json::parse(o.spec_json));
  EXPECT_EQ(created->status_json, "{}");

  auto again = s.create(o);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);

  auto got = s.get({"apps", "web"});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->uid, created->uid);
  EXPECT_EQ(got->resource_version, created->resource_version);

  auto missing = s.get({"apps", "nope"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  auto other_namespace = s.get({"other", "web"});
  ASSERT_FALSE(other_namespace);
  EXPECT_EQ(other_namespace.error().kind, ErrorKind::not_found);
}

TEST(ClusterStore, ErrorsOfTheApiKeepTheirKinds) {
  const ErrorKind kinds[] = {ErrorKind::auth, ErrorKind::transient, ErrorKind::invalid_input,
                             ErrorKind::gone};
  for (ErrorKind kind : kinds) {
    FakeApi api;
    cluster::ClusterStore s(api);
    ASSERT_TRUE(s.create(object("apps", "web")));
    api.fail_next(FakeApi::Verb::get, {kind, "refused"});
    api.fail_next(FakeApi::Verb::list, {kind, "refused"});
    api.fail_next(FakeApi::Verb::create, {kind, "refused"});
    api.fail_next(FakeApi::Verb::remove, {kind, "refused"});
    auto got = s.get({"apps", "web"});
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().kind, kind);
    EXPECT_EQ(got.error().message, "refused");
    auto listed = s.list("apps", {});
    ASSERT_FALSE(listed);
    EXPECT_EQ(listed.error().kind, kind);
    auto created = s.create(object("apps", "two"));
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().kind, kind);
    auto removed = s.remove({"apps", "web"}, "");
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().kind, kind);
  }
}

TEST(ClusterStore, ListPagesThroughWithASelector) {
  FakeApi api;
  cluster::ClusterStore s(api);
  for (int i = 0; i < 7; ++i) {
    const std::string ns = i < 5 ? "apps" : "other";
    ASSERT_TRUE(s.create(object(ns, "o" + std::to_string(i), {{"tier", i % 2 ? "odd" : "even"}})));
  }
  struct Case {
    const char* what;
    std::string ns;
    store::Selector selector;
    std::size_t limit;
    std::vector<std::string> names;
    int pages;
  };
  const Case cases[] = {
      {"all namespaces, pages of 3", "", {}, 3, {"o0", "o1", "o2", "o3", "o4", "o5", "o6"}, 3},
      {"one namespace, no limit", "apps", {}, 0, {"o0", "o1", "o2", "o3", "o4"}, 1},
      {"one namespace, pages of 2", "apps", {}, 2, {"o0", "o1", "o2", "o3", "o4"}, 3},
      {"equality", "", {{Op::equals, "tier", {"odd"}}}, 2, {"o1", "o3", "o5"}, 2},
      {"inequality", "apps", {{Op::not_equals, "tier", {"odd"}}}, 0, {"o0", "o2", "o4"}, 1},
      {"exists", "other", {{Op::exists, "tier", {}}}, 1, {"o5", "o6"}, 2},
      {"not exists", "", {{Op::not_exists, "tier", {}}}, 0, {}, 1},
  };
  for (const Case& c : cases) {
    store::ListOptions options;
    options.limit = c.limit;
    options.selector = c.selector;
    std::vector<std::string> names;
    int pages = 0;
    do {
      auto page = s.list(c.ns, options);
      ASSERT_TRUE(page) << c.what << ": " << page.error().message;
      EXPECT_FALSE(page->resource_version.empty()) << c.what;
      EXPECT_LE(page->items.size(), c.limit == 0 ? 100 : c.limit) << c.what;
      for (const auto& item : page->items) {
        names.push_back(item.key.name);
        EXPECT_FALSE(item.uid.empty());
      }
      options.continue_token = page->continue_token;
      ++pages;
    } while (!options.continue_token.empty() && pages < 10);
    EXPECT_EQ(names, c.names) << c.what;
    // FakeApi hands out a continue token when a page is full, even if nothing follows.
    EXPECT_GE(pages, c.pages) << c.what;
    EXPECT_LE(pages, c.pages + 1) << c.what;
  }
  EXPECT_EQ(api.count(FakeApi::Verb::get), 0u) << "a list is a list, not gets";
}

TEST(ClusterStore, ListOfAnExpiredContinueTokenIsGone) {
  FakeApi api;
  cluster::ClusterStore s(api);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.create(object("apps", "o" + std::to_string(i))));
  }
  store::ListOptions options;
  options.limit = 1;
  auto first = s.list("apps", options);
  ASSERT_TRUE(first);
  ASSERT_FALSE(first->continue_token.empty());
  ASSERT_TRUE(s.create(object("apps", "o9")));
  api.compact();
  options.continue_token = first->continue_token;
  auto expired = s.list("apps", options);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().kind, ErrorKind::gone);
}

TEST(ClusterStore, ReplaceKeepsWhatItDoesNotModel) {
  FakeApi api;
  cluster::ClusterStore s(api);
  auto created = s.create(object("apps", "web", {{"team", "a"}}));
  ASSERT_TRUE(created);
  // Another manager adds a finalizer, an owner reference and its own annotation; the status is
  // written.
  json other = stored(api, "apps", "web");
  other["metadata"]["finalizers"] = {"example.com/cleanup"};
  other["metadata"]["ownerReferences"] = {
      {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", "owner-uid"}}};
  other["metadata"]["annotations"] = {{"other.example.com/mark", "x"}};
  ASSERT_TRUE(api.update(kube::imageupdaters(), "apps", "web", other.dump()));
  auto current = s.get({"apps", "web"});
  ASSERT_TRUE(current);
  auto with_status =
      s.replace_status(current->key, current->resource_version, ready_status("True", "Succeeded"));
  ASSERT_TRUE(with_status) << with_status.error().message;

  store::Object next = *with_status;
  next.labels = {{"team", "b"}};
  next.annotations["reconcile.fluxcd.io/requestedAt"] = "t1";
  json spec = json::parse(next.spec_json);
  spec["argocd"]["app"]["name"] = "changed";
  next.spec_json = spec.dump();
  auto replaced = s.replace(next);
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->generation, 2);
  EXPECT_NE(replaced->resource_version, with_status->resource_version);
  EXPECT_EQ(replaced->labels, next.labels);
  EXPECT_EQ(replaced->annotations, next.annotations);
  EXPECT_EQ(json::parse(replaced->spec_json), spec);
  EXPECT_EQ(json::parse(replaced->status_json), json::parse(ready_status("True", "Succeeded")))
      << "replace() leaves the status alone";
  const json after = stored(api, "apps", "web");
  EXPECT_EQ(after["metadata"]["finalizers"], json({"example.com/cleanup"}));
  EXPECT_EQ(after["metadata"]["ownerReferences"][0]["uid"], "owner-uid");
  EXPECT_EQ(after["metadata"]["uid"], created->uid);

  // The version read before is stale now: conflict, and nothing changes.
  store::Object stale = next;
  stale.labels = {{"team", "stale"}};
  auto refused = s.replace(stale);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::conflict);
  EXPECT_EQ(stored(api, "apps", "web")["metadata"]["labels"], json({{"team", "b"}}));

  // Labels and annotations removed are removed.
  store::Object bare = *replaced;
  bare.labels.clear();
  bare.annotations.clear();
  auto cleared = s.replace(bare);
  ASSERT_TRUE(cleared) << cleared.error().message;
  EXPECT_TRUE(cleared->labels.empty());
  EXPECT_TRUE(cleared->annotations.empty());
  EXPECT_EQ(cleared->generation, 2) << "metadata is not spec";
  const json final_ = stored(api, "apps", "web");
  EXPECT_FALSE(final_["metadata"].contains("labels"));
  EXPECT_FALSE(final_["metadata"].contains("annotations"));
  EXPECT_EQ(final_["metadata"]["finalizers"], json({"example.com/cleanup"}));
}

TEST(ClusterStore, ReplaceRefusals) {
  FakeApi api;
  cluster::ClusterStore s(api);
  ASSERT_TRUE(s.create(object("apps", "web")));
  store::Object no_version = object("apps", "web");
  auto refused = s.replace(no_version);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(api.count(FakeApi::Verb::update), 0u);

  store::Object missing = object("apps", "nope");
  missing.resource_version = "1";
  auto absent = s.replace(missing);
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().kind, ErrorKind::not_found);

  auto got = s.get({"apps", "web"});
  ASSERT_TRUE(got);
  store::Object bad_spec = *got;
  bad_spec.spec_json = "{";
  auto not_json = s.replace(bad_spec);
  ASSERT_FALSE(not_json);
  EXPECT_EQ(api.count(FakeApi::Verb::update), 0u);
}

TEST(ClusterStore, ReplaceStatusTouchesOnlyTheStatus) {
  FakeApi api;
  cluster::ClusterStore s(api);
  auto created = s.create(object("apps", "web", {{"team", "a"}}));
  ASSERT_TRUE(created);
  const json before = stored(api, "apps", "web");
  auto written = s.replace_status(created->key, created->resource_version,
                                  ready_status("False", "ResolveFailed", "registry down"));
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->generation, created->generation);
  EXPECT_NE(written->resource_version, created->resource_version);
  EXPECT_EQ(json::parse(written->status_json),
            json::parse(ready_status("False", "ResolveFailed", "registry down")));
  EXPECT_EQ(api.count(FakeApi::Verb::update_status), 1u);
  EXPECT_EQ(api.count(FakeApi::Verb::update), 0u);
  json after = stored(api, "apps", "web");
  EXPECT_EQ(after["spec"], before["spec"]);
  EXPECT_EQ(after["metadata"]["labels"], before["metadata"]["labels"]);
  EXPECT_EQ(after["metadata"]["generation"], before["metadata"]["generation"]);

  // Stale: conflict; no version: refused before any request; absent: not_found; not JSON.
  auto stale = s.replace_status(created->key, created->resource_version, "{}");
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  auto unversioned = s.replace_status(created->key, "", "{}");
  ASSERT_FALSE(unversioned);
  EXPECT_EQ(unversioned.error().kind, ErrorKind::invalid_input);
  auto absent = s.replace_status({"apps", "nope"}, "1", "{}");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().kind, ErrorKind::not_found);
  auto bad = s.replace_status(created->key, written->resource_version, "{");
  ASSERT_FALSE(bad);
  EXPECT_EQ(api.count(FakeApi::Verb::update_status), 3u) << "stale and absent reached the server";
  EXPECT_EQ(stored(api, "apps", "web")["status"],
            json::parse(ready_status("False", "ResolveFailed", "registry down")));
}

TEST(ClusterStore, RemoveWithAPrecondition) {
  FakeApi api;
  cluster::ClusterStore s(api);
  auto created = s.create(object("apps", "web"));
  ASSERT_TRUE(created);
  auto changed = s.replace_status(created->key, created->resource_version, "{}");
  ASSERT_TRUE(changed);
  auto changed2 =
      s.replace_status(created->key, changed->resource_version, ready_status("True", "Succeeded"));
  ASSERT_TRUE(changed2);

  auto stale = s.remove(created->key, created->resource_version);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  EXPECT_EQ(api.size(kube::imageupdaters()), 1u);
  ASSERT_TRUE(s.remove(created->key, changed2->resource_version));
  EXPECT_EQ(api.size(kube::imageupdaters()), 0u);
  auto absent = s.remove(created->key, "");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().kind, ErrorKind::not_found);

  ASSERT_TRUE(s.create(object("apps", "unconditional")));
  ASSERT_TRUE(s.remove({"apps", "unconditional"}, ""));
  EXPECT_EQ(api.size(kube::imageupdaters()), 0u);
}

TEST(ClusterStore, GetThroughTheCacheMakesNoRequest) {
  FakeApi api;
  cluster::ClusterStore direct(api);
  auto created = direct.create(object("apps", "web"));
  ASSERT_TRUE(created);
  const std::string cached_json = *api.get(kube::imageupdaters(), "apps", "web");
  std::vector<store::Key> asked;
  cluster::ClusterStore s(api, [&](const store::Key& key) -> std::optional<std::string> {
    asked.push_back(key);
    if (key.name == "web") {
      return cached_json;
    }
    if (key.name == "broken") {
      return std::string(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"}})");
    }
    return std::nullopt;
  });
  const auto requests = api.total_requests();

  auto got = s.get({"apps", "web"});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->uid, created->uid);
  EXPECT_EQ(got->resource_version, created->resource_version);

  // Absent from the cache: not_found, even though the server has nothing to say either way.
  ASSERT_TRUE(direct.create(object("apps", "uncached")));
  const auto requests_after_create = api.total_requests();
  auto absent = s.get({"apps", "uncached"});
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().kind, ErrorKind::not_found);
  EXPECT_NE(absent.error().message.find("\"uncached\" not found"), std::string::npos)
      << absent.error().message;

  auto broken = s.get({"apps", "broken"});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().kind, ErrorKind::internal) << broken.error().message;

  EXPECT_EQ(api.total_requests(), requests_after_create);
  EXPECT_EQ(requests_after_create, requests + 1) << "only the create reached the server";
  EXPECT_EQ(api.count(FakeApi::Verb::get), 1u) << "only the test's own get";
  EXPECT_EQ(asked.size(), 3u);

  // list() always asks the server.
  auto listed = s.list("apps", {});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->items.size(), 2u);
  EXPECT_EQ(api.count(FakeApi::Verb::list), 1u);
}

TEST(ClusterStore, ErrorKindsFromTheApiAreNotReinterpretedOnWrites) {
  FakeApi api;
  cluster::ClusterStore s(api);
  auto created = s.create(object("apps", "web"));
  ASSERT_TRUE(created);
  api.fail_next(FakeApi::Verb::update_status, {ErrorKind::auth, "forbidden"});
  auto refused = s.replace_status(created->key, created->resource_version, "{}");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::auth);
  EXPECT_EQ(refused.error().message, "forbidden");
  api.fail_next(FakeApi::Verb::update, {ErrorKind::invalid_input, "spec.kind: Unsupported value"});
  auto invalid = s.replace(*created);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(invalid.error().message, "spec.kind: Unsupported value");
}

} // namespace
