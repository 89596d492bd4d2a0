// decode/encode between the ImageUpdater custom resource and store::Object, and selector_text.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/cluster/cluster_store.hpp"

namespace {

using json = nlohmann::json;
namespace cluster = common::cluster;
namespace store = common::store;
using common::util::ErrorKind;
using Op = store::Requirement::Op;

TEST(ClusterCodec, DecodesEveryModelledField) {
  const json cr = {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
                   {"kind", "ImageUpdater"},
                   {"metadata",
                    {{"name", "web"},
                     {"namespace", "apps"},
                     {"uid", "u-1"},
                     {"resourceVersion", "42"},
                     {"generation", 3},
                     {"creationTimestamp", "2026-01-02T03:04:05Z"},
                     {"labels", {{"team", "a"}}},
                     {"annotations", {{"reconcile.fluxcd.io/requestedAt", "now"}}},
                     {"finalizers", {"x/y"}}}},
                   {"spec", {{"kind", "argocd"}, {"images", {"web=nginx"}}}},
                   {"status", {{"observedGeneration", 2}}}};
  auto o = cluster::decode(cr.dump());
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->key.namespace_, "apps");
  EXPECT_EQ(o->key.name, "web");
  EXPECT_EQ(o->uid, "u-1");
  EXPECT_EQ(o->resource_version, "42");
  EXPECT_EQ(o->generation, 3);
  EXPECT_EQ(o->creation_timestamp, "2026-01-02T03:04:05Z");
  EXPECT_EQ(o->labels, (std::map<std::string, std::string>{{"team", "a"}}));
  EXPECT_EQ(o->annotations,
            (std::map<std::string, std::string>{{"reconcile.fluxcd.io/requestedAt", "now"}}));
  EXPECT_EQ(json::parse(o->spec_json), cr["spec"]);
  EXPECT_EQ(json::parse(o->status_json), cr["status"]);
}

TEST(ClusterCodec, AbsentPartsAreEmpty) {
  const json cases[] = {
      {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
       {"kind", "ImageUpdater"},
       {"metadata", {{"name", "a"}}}},
      {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
       {"kind", "ImageUpdater"},
       {"metadata", {{"name", "a"}, {"labels", nullptr}, {"annotations", nullptr}}},
       {"status", nullptr}},
  };
  for (const json& cr : cases) {
    auto o = cluster::decode(cr.dump());
    ASSERT_TRUE(o) << cr.dump() << ": " << o.error().message;
    EXPECT_EQ(o->spec_json, "{}") << cr.dump();
    EXPECT_EQ(o->status_json, "{}") << cr.dump();
    EXPECT_TRUE(o->labels.empty());
    EXPECT_TRUE(o->annotations.empty());
    EXPECT_EQ(o->generation, 0);
  }
}

TEST(ClusterCodec, RefusesWhatIsNotAnImageUpdater) {
  struct Case {
    const char* what;
    std::string text;
    ErrorKind kind;
    const char* names; // part of the message
  };
  const std::string head = R"({"apiVersion":"gitops.kubesphere.io/v1alpha1","kind":"ImageUpdater")";
  const Case cases[] = {
      {"not JSON", "{", ErrorKind::internal, "not JSON"},
      {"an array", "[]", ErrorKind::invalid_input, "JSON object"},
      {"another kind", R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}})",
       ErrorKind::invalid_input, "ConfigMap"},
      {"Argo CD Image Updater's kind",
       R"({"apiVersion":"argocd-image-updater.argoproj.io/v1alpha1","kind":"ImageUpdater","metadata":{"name":"a"}})",
       ErrorKind::invalid_input, "argocd-image-updater.argoproj.io"},
      {"another version",
       R"({"apiVersion":"gitops.kubesphere.io/v1","kind":"ImageUpdater","metadata":{"name":"a"}})",
       ErrorKind::invalid_input, "not an ImageUpdater"},
      {"no metadata", head + "}", ErrorKind::invalid_input, "metadata"},
      {"metadata not an object", head + R"(,"metadata":"a"})", ErrorKind::invalid_input,
       "metadata"},
      {"labels not an object", head + R"(,"metadata":{"name":"a","labels":["x"]}})",
       ErrorKind::invalid_input, "metadata.labels"},
      {"a label not a string", head + R"(,"metadata":{"name":"a","labels":{"x":1}}})",
       ErrorKind::invalid_input, "metadata.labels.x"},
      {"an annotation not a string", head + R"(,"metadata":{"name":"a","annotations":{"y":true}}})",
       ErrorKind::invalid_input, "metadata.annotations.y"},
  };
  for (const Case& c : cases) {
    auto o = cluster::decode(c.text);
    ASSERT_FALSE(o) << c.what;
    EXPECT_EQ(o.error().kind, c.kind) << c.what << ": " << o.error().message;
    const std::string& full = o.error().message;
    EXPECT_NE(full.find(c.names), std::string::npos) << c.what << ": " << full;
  }
}

TEST(ClusterCodec, EncodeDecodeRoundTrip) {
  store::Object o;
  o.key = {"apps", "web"};
  o.resource_version = "7";
  o.labels = {{"a", "1"}, {"b", ""}};
  o.annotations = {{"note", "x=y, z"}};
  o.spec_json = R"({"images":["web=nginx"],"kind":"argocd"})";
  o.status_json = R"({"observedGeneration":1})";
  for (bool with_status : {false, true}) {
    const std::string text = cluster::encode(o, with_status);
    const json cr = json::parse(text);
    EXPECT_EQ(cr["apiVersion"], "gitops.kubesphere.io/v1alpha1");
    EXPECT_EQ(cr["kind"], "ImageUpdater");
    EXPECT_EQ(cr.contains("status"), with_status);
    EXPECT_FALSE(cr["metadata"].contains("uid")) << "the server owns the uid";
    auto back = cluster::decode(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->key, o.key);
    EXPECT_EQ(back->resource_version, o.resource_version);
    EXPECT_EQ(back->labels, o.labels);
    EXPECT_EQ(back->annotations, o.annotations);
    EXPECT_EQ(json::parse(back->spec_json), json::parse(o.spec_json));
    EXPECT_EQ(back->status_json, with_status ? o.status_json : "{}");
  }
  // Nothing to say: no labels, annotations, version; an empty spec is {}.
  store::Object bare;
  bare.key = {"apps", "bare"};
  const json cr = json::parse(cluster::encode(bare, true));
  EXPECT_EQ(cr["metadata"], (json{{"name", "bare"}, {"namespace", "apps"}}));
  EXPECT_EQ(cr["spec"], json::object());
  EXPECT_FALSE(cr.contains("status"));
}

bool same(const store::Selector& a, const store::Selector& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].op != b[i].op || a[i].key != b[i].key || a[i].values != b[i].values) {
      return false;
    }
  }
  return true;
}

TEST(ClusterCodec, SelectorTextForEveryOperator) {
  struct Case {
    store::Selector selector;
    const char* text;
  };
  const Case cases[] = {
      {{}, ""},
      {{{Op::equals, "app", {"web"}}}, "app=web"},
      {{{Op::not_equals, "tier", {"db"}}}, "tier!=db"},
      {{{Op::in, "env", {"a", "b"}}}, "env in (a,b)"},
      {{{Op::in, "env", {"a"}}}, "env in (a)"},
      {{{Op::not_in, "env", {"c", "d"}}}, "env notin (c,d)"},
      {{{Op::exists, "example.com/owner", {}}}, "example.com/owner"},
      {{{Op::not_exists, "canary", {}}}, "!canary"},
      {{{Op::equals, "app", {""}}}, "app="},
      {{{Op::equals, "app", {"web"}},
        {Op::in, "tier", {"a", "b"}},
        {Op::not_exists, "canary", {}},
        {Op::exists, "team", {}},
        {Op::not_in, "zone", {"x"}},
        {Op::not_equals, "v", {"1"}}},
       "app=web,tier in (a,b),!canary,team,zone notin (x),v!=1"},
  };
  for (const Case& c : cases) {
    const std::string text = cluster::selector_text(c.selector);
    EXPECT_EQ(text, c.text);
    auto parsed = store::parse_selector(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().message;
    EXPECT_TRUE(same(*parsed, c.selector)) << "parse_selector(selector_text(x)) != x for " << text;
  }
}

} // namespace
