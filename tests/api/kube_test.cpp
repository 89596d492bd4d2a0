// What kubectl needs of the API (kube.hpp): the /apis routes, discovery, /version, the OpenAPI
// v3 documents, PATCH (merge and JSON patch, conflicts), a body without a Content-Type,
// YAML and Table answers, field selectors, and the refusals (watch, dryRun, other patch types).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/api/api.hpp"
#include "common/api/kube.hpp"
#include "common/api/yaml_json.hpp"

#include "tests/support/fake_store.hpp"

namespace {

using namespace common;
using api::HttpRequest;
using api::HttpResponse;
using nlohmann::json;

const std::string k_kapis = "/kapis/gitops.kubesphere.io/v1alpha1";
const std::string k_apis = "/apis/gitops.kubesphere.io/v1alpha1";
const std::string k_items = k_apis + "/namespaces/demo/imageupdaters";

json updater(const std::string& name) {
  return {
      {"apiVersion", "gitops.kubesphere.io/v1alpha1"},
      {"kind", "ImageUpdater"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"kind", "argocd"}, {"images", {"nginx:^0.1"}}, {"argocd", {{"app", {{"name", "web"}}}}}}}};
}

HttpRequest request(std::string method, std::string path, std::string body = "",
                    std::string type = "application/json") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  if (!r.body.empty() && !type.empty()) {
    r.headers.emplace_back("Content-Type", type);
  }
  return r;
}

HttpRequest with_type(HttpRequest r, const std::string& type) {
  r.headers.emplace_back("Content-Type", type);
  return r;
}

json parsed(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  return j;
}

class KubeTest : public ::testing::Test {
protected:
  KubeTest() : api(store, clock, options()) {}

  api::Options options() {
    api::Options o;
    o.authorize = [this](const HttpRequest&, const std::string&, bool,
                         std::string&) -> std::optional<HttpResponse> {
      ++authorized;
      return std::nullopt;
    };
    return o;
  }

  json create(const std::string& name) {
    auto r = api.handle(request("POST", k_items, updater(name).dump()));
    EXPECT_EQ(r.status, 201) << r.body;
    return parsed(r);
  }

  tests::FakeStore store;
  util::FakeClock clock;
  int authorized = 0;
  api::ImageUpdaterApi api;
};

TEST_F(KubeTest, TheRoutesAreServedUnderBothPrefixes) {
  create("web");
  for (const std::string& prefix : {k_kapis, k_apis}) {
    auto r = api.handle(request("GET", prefix + "/namespaces/demo/imageupdaters/web"));
    EXPECT_EQ(r.status, 200) << prefix;
    EXPECT_EQ(parsed(r)["metadata"]["name"], "web");
    EXPECT_EQ(api.handle(request("GET", prefix + "/imageupdaters")).status, 200);
  }
  EXPECT_EQ(api::ImageUpdaterApi::route_of(request("GET", k_items + "/web")),
            "GET " + k_apis + "/namespaces/{namespace}/imageupdaters/{name}");
  EXPECT_EQ(api::ImageUpdaterApi::route_of(request("GET", "/apis")), "GET /apis");
  EXPECT_EQ(api.handle(request("GET", "/apis/other.io/v1/namespaces/demo/imageupdaters")).status,
            404);
}

TEST_F(KubeTest, DiscoveryDocuments) {
  struct Doc {
    std::string path;
    std::string kind;
  };
  for (const Doc& d :
       {Doc{"/api", "APIVersions"}, Doc{"/apis", "APIGroupList"},
        Doc{"/apis/gitops.kubesphere.io", "APIGroup"}, Doc{k_apis, "APIResourceList"}}) {
    // kubectl asks for aggregated discovery first; plain JSON makes it fall back.
    HttpRequest r = request("GET", d.path);
    r.headers.emplace_back("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as="
                                     "APIGroupDiscoveryList,application/json");
    auto answer = api.handle(r);
    ASSERT_EQ(answer.status, 200) << d.path;
    EXPECT_EQ(answer.content_type, "application/json");
    EXPECT_EQ(parsed(answer)["kind"], d.kind) << d.path;
  }
  EXPECT_EQ(authorized, 0); // discovery is public, as /openapi.json is
  const json groups = parsed(api.handle(request("GET", "/apis")));
  EXPECT_EQ(groups["groups"][0]["name"], "gitops.kubesphere.io");
  EXPECT_EQ(groups["groups"][0]["preferredVersion"]["groupVersion"],
            "gitops.kubesphere.io/v1alpha1");
  const json resources = parsed(api.handle(request("GET", k_apis)));
  EXPECT_EQ(resources["groupVersion"], "gitops.kubesphere.io/v1alpha1");
  const json& r = resources["resources"][0];
  EXPECT_EQ(r["name"], "imageupdaters");
  EXPECT_EQ(r["singularName"], "imageupdater");
  EXPECT_EQ(r["kind"], "ImageUpdater");
  EXPECT_EQ(r["namespaced"], true);
  EXPECT_EQ(r["shortNames"], json({"iu", "imgupd"}));
  EXPECT_EQ(r["categories"], json({"imageupdater"}));
  EXPECT_EQ(r["verbs"], json({"create", "delete", "get", "list", "patch", "update"}));
  EXPECT_EQ(parsed(api.handle(request("GET", "/version")))["major"], "1");
  // Every namespace exists: kubectl asks when an object is not found.
  const json ns = parsed(api.handle(request("GET", "/api/v1/namespaces/demo")));
  EXPECT_EQ(ns["kind"], "Namespace");
  EXPECT_EQ(ns["metadata"]["name"], "demo");
  EXPECT_EQ(api.handle(request("GET", "/api/v1/namespaces/Not_A_Label")).status, 404);
  EXPECT_EQ(api::ImageUpdaterApi::route_of(request("GET", "/api/v1/namespaces/demo")),
            "GET /api/v1/namespaces/{name}");
  EXPECT_EQ(api.handle(request("POST", "/apis", "{}")).status, 405);
}

TEST_F(KubeTest, OpenApiV3ForKubectlsFieldValidation) {
  const json index = parsed(api.handle(request("GET", "/openapi/v3")));
  const std::string url = index["paths"]["apis/gitops.kubesphere.io/v1alpha1"]["serverRelativeURL"];
  ASSERT_TRUE(url.starts_with("/openapi/v3/apis/gitops.kubesphere.io/v1alpha1?hash=")) << url;
  const json doc = parsed(api.handle(request("GET", url.substr(0, url.find('?')))));
  const json& patch =
      doc["paths"][k_apis + "/namespaces/{namespace}/imageupdaters/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"]["kind"], "ImageUpdater");
  bool field_validation = false;
  for (const json& p : patch["parameters"]) {
    field_validation = field_validation || p["name"] == "fieldValidation";
  }
  EXPECT_TRUE(field_validation);
  EXPECT_TRUE(doc["components"]["schemas"].contains("io.kubesphere.gitops.v1alpha1.ImageUpdater"));
}

TEST_F(KubeTest, ABodyWithoutContentTypeIsJsonOrYaml) {
  auto r = api.handle(request("POST", k_items, updater("json").dump(), ""));
  EXPECT_EQ(r.status, 201) << r.body;
  auto yaml = api.handle(request("POST", k_items,
                                 "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\n"
                                 "metadata: {name: yaml}\nspec:\n  kind: argocd\n"
                                 "  images: [nginx]\n  argocd: {app: {name: web}}\n",
                                 ""));
  EXPECT_EQ(yaml.status, 201) << yaml.body;
}

TEST_F(KubeTest, MergePatchAsKubectlApplySendsIt) {
  create("web");
  const json patch = {
      {"metadata", {{"annotations", {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}}}}},
      {"spec", {{"images", {"nginx:^0.2"}}}}};
  auto r =
      api.handle(request("PATCH", k_items + "/web", patch.dump(), "application/merge-patch+json"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json o = parsed(r);
  EXPECT_EQ(o["spec"]["images"], json({"nginx:^0.2"}));
  EXPECT_EQ(o["spec"]["argocd"]["app"]["name"], "web"); // merged, not replaced
  EXPECT_EQ(o["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"], "{}");
  EXPECT_EQ(o["metadata"]["generation"], 2);
  // null removes a member.
  auto removed =
      api.handle(request("PATCH", k_items + "/web", R"({"metadata":{"annotations":null}})",
                         "application/merge-patch+json"));
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_FALSE(parsed(removed)["metadata"].contains("annotations"));
}

TEST_F(KubeTest, JsonPatch) {
  create("web");
  const std::string ops = R"([{"op":"test","path":"/spec/kind","value":"argocd"},
                              {"op":"add","path":"/spec/images/-","value":"redis:^7.0"}])";
  auto r = api.handle(request("PATCH", k_items + "/web", ops, "application/json-patch+json"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["spec"]["images"], json({"nginx:^0.1", "redis:^7.0"}));
  const std::string failing = R"([{"op":"test","path":"/spec/kind","value":"fluxcd"}])";
  EXPECT_EQ(
      api.handle(request("PATCH", k_items + "/web", failing, "application/json-patch+json")).status,
      422);
}

TEST_F(KubeTest, PatchRefusals) {
  const json current = create("web");
  struct Refusal {
    const char* name;
    HttpRequest request;
    int code;
    const char* reason;
  };
  const std::string item = k_items + "/web";
  const Refusal cases[] = {
      {"strategic merge patch",
       request("PATCH", item, "{}", "application/strategic-merge-patch+json"), 415,
       "UnsupportedMediaType"},
      {"server-side apply", request("PATCH", item, "{}", "application/apply-patch+yaml"), 415,
       "UnsupportedMediaType"},
      {"no type", request("PATCH", item, "{}", ""), 415, "UnsupportedMediaType"},
      {"not JSON", request("PATCH", item, "{", "application/merge-patch+json"), 400, "BadRequest"},
      {"empty", with_type(request("PATCH", item), "application/merge-patch+json"), 400,
       "BadRequest"},
      {"not an object", request("PATCH", item, "[1]", "application/merge-patch+json"), 422,
       "Invalid"},
      {"absent", request("PATCH", k_items + "/absent", "{}", "application/merge-patch+json"), 404,
       "NotFound"},
      {"invalid result",
       request("PATCH", item, R"({"spec":{"images":[]}})", "application/merge-patch+json"), 422,
       "Invalid"},
      {"stale resourceVersion in the patch",
       request("PATCH", item, R"({"metadata":{"resourceVersion":"0"}})",
               "application/merge-patch+json"),
       409, "Conflict"},
      {"renamed",
       request("PATCH", item, R"({"metadata":{"name":"other"}})", "application/merge-patch+json"),
       400, "BadRequest"},
  };
  for (const Refusal& c : cases) {
    auto r = api.handle(c.request);
    EXPECT_EQ(r.status, c.code) << c.name << ": " << r.body;
    EXPECT_EQ(parsed(r)["reason"], c.reason) << c.name;
  }
  EXPECT_EQ(parsed(api.handle(request("GET", item)))["metadata"]["resourceVersion"],
            current["metadata"]["resourceVersion"]);
}

// A write between the patch's read and its write: the patch is applied again to the new object.
TEST_F(KubeTest, PatchRetriesAConcurrentWrite) {
  create("web");
  store.before_replace = [this, done = false]() mutable {
    if (!done) {
      done = true;
      json other = parsed(api.handle(request("GET", k_items + "/web")));
      other["metadata"]["labels"] = {{"by", "other"}};
      store.before_replace = nullptr;
      EXPECT_EQ(api.handle(request("PUT", k_items + "/web", other.dump())).status, 200);
    }
  };
  auto r = api.handle(request("PATCH", k_items + "/web", R"({"metadata":{"labels":{"a":"b"}}})",
                              "application/merge-patch+json"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["metadata"]["labels"], json({{"a", "b"}, {"by", "other"}}));
}

TEST_F(KubeTest, YamlWhenAsked) {
  create("web");
  HttpRequest r = request("GET", k_items + "/web");
  r.headers.emplace_back("Accept", "application/yaml");
  auto answer = api.handle(r);
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.content_type, "application/yaml");
  auto back = api::detail::yaml_to_json(answer.body);
  ASSERT_TRUE(back.has_value()) << answer.body;
  EXPECT_EQ(json::parse(*back), parsed(api.handle(request("GET", k_items + "/web"))));
  // Errors stay Status JSON.
  HttpRequest missing = request("GET", k_items + "/absent");
  missing.headers.emplace_back("Accept", "application/yaml");
  EXPECT_EQ(api.handle(missing).content_type, "application/json");
}

TEST_F(KubeTest, TableWhenKubectlAsks) {
  create("web");
  HttpRequest r = request("GET", k_items);
  r.headers.emplace_back("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
                                   "json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
  clock.advance(std::chrono::seconds(300));
  const json table = parsed(api.handle(r));
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  std::vector<std::string> columns;
  for (const json& c : table["columnDefinitions"]) {
    columns.push_back(c["name"]);
  }
  EXPECT_EQ(columns, (std::vector<std::string>{"Name", "Kind", "Ready", "Images", "Last check",
                                               "Age", "Message"}));
  ASSERT_EQ(table["rows"].size(), 1u);
  const json& cells = table["rows"][0]["cells"];
  EXPECT_EQ(cells[0], "web");
  EXPECT_EQ(cells[1], "argocd");
  EXPECT_TRUE(cells[2].is_null()); // no status yet
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(table["rows"][0]["object"]["metadata"]["name"], "web");
}

TEST(KubeTable, CellsFromTheStatus) {
  const json object = {
      {"metadata", {{"name", "web"}, {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
      {"spec", {{"kind", "fluxcd"}}},
      {"status",
       {{"lastCheckTime", "2024-01-01T02:59:00Z"},
        {"images", {{{"tag", "1.2.3"}}, {{"tag", "7.0"}}}},
        {"conditions",
         {{{"type", "Reconciling"}, {"status", "True"}},
          {{"type", "Ready"}, {"status", "False"}, {"message", "registry down"}}}}}}};
  const auto now = std::chrono::sys_days(std::chrono::year(2024) / 1 / 1) + std::chrono::hours(3);
  const json table = json::parse(api::detail::to_table(object.dump(), now));
  EXPECT_EQ(table["rows"][0]["cells"],
            json({"web", "fluxcd", "False", "1.2.3,7.0", "60s", "3h", "registry down"}));
}

TEST_F(KubeTest, FieldSelectorsAsKubectlSendsThem) {
  create("web");
  create("api");
  HttpRequest r = request("GET", k_items);
  r.query["fieldSelector"] = "metadata.name=web";
  json list = parsed(api.handle(r));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "web");
  r.query["fieldSelector"] = "metadata.name!=web,metadata.namespace==demo";
  list = parsed(api.handle(r));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "api");
  r.query["fieldSelector"] = "spec.kind=argocd";
  EXPECT_EQ(api.handle(r).status, 400);
}

TEST_F(KubeTest, WatchAndDryRunAreRefused) {
  HttpRequest watch = request("GET", k_items);
  watch.query["watch"] = "true";
  auto w = api.handle(watch);
  EXPECT_EQ(w.status, 405);
  EXPECT_NE(parsed(w)["message"].get<std::string>().find("watch"), std::string::npos);
  HttpRequest dry = request("POST", k_items, updater("web").dump());
  dry.query["dryRun"] = "All";
  EXPECT_EQ(api.handle(dry).status, 400);
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(KubeTest, StrictFieldValidationRefusesUnknownFields) {
  json body = updater("web");
  body["spec"]["argocd"]["colour"] = "blue";
  body["spec"]["extra"] = json::object({{"a", 1}});
  HttpRequest strict = request("POST", k_items, body.dump());
  strict.query["fieldValidation"] = "Strict";
  auto refused = api.handle(strict);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(parsed(refused)["message"],
            "strict decoding error: unknown field \"spec.argocd.colour\", unknown field "
            "\"spec.extra\"");
  EXPECT_EQ(store.size(), 0u);
  // Warn (and no parameter): stored, with the spec model's warnings.
  strict.query["fieldValidation"] = "Warn";
  auto warned = api.handle(strict);
  EXPECT_EQ(warned.status, 201) << warned.body;
  EXPECT_FALSE(warned.headers.empty());
  // A patch is judged by its result; per-image settings of the proposal dialect are open.
  HttpRequest patch = request("PATCH", k_items + "/web", R"({"spec":{"argocd":{"colour":null,
      "update-strategy":{"nginx":"semver"}},"extra":null}})",
                              "application/merge-patch+json");
  patch.query["fieldValidation"] = "Strict";
  auto cleaned = api.handle(patch);
  EXPECT_EQ(cleaned.status, 200) << cleaned.body;
  patch.body = R"({"status":{"anything":1},"metadata":{"labels":{"a":"b"}},"spec":{"nope":1}})";
  EXPECT_EQ(parsed(api.handle(patch))["message"],
            "strict decoding error: unknown field \"spec.nope\"");
}

TEST(KubeNegotiate, AcceptHeaders) {
  using api::detail::Output;
  const std::pair<const char*, Output> cases[] = {
      {"", Output::json},
      {"application/json", Output::json},
      {"*/*", Output::json},
      {"application/yaml", Output::yaml},
      {"application/json, application/yaml", Output::json},
      {"text/html, application/yaml;q=0.9", Output::yaml},
      {"application/json;as=Table;v=v1;g=meta.k8s.io,application/json", Output::table},
      {"application/json;as=Table;v=v1;g=other.io,application/json", Output::json},
  };
  for (const auto& [accept, want] : cases) {
    EXPECT_EQ(api::detail::negotiate(accept), want) << accept;
  }
}

} // namespace
