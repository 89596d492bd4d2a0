// Every route and every error code of the ImageUpdater API, through an in-memory store.
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/api/api.hpp"

#include "tests/support/fake_store.hpp"

namespace {

using namespace common;
using api::HttpRequest;
using api::HttpResponse;
using nlohmann::json;

const std::string k_prefix = "/kapis/gitops.kubesphere.io/v1alpha1";
const std::string k_ns_path = k_prefix + "/namespaces/demo/imageupdaters";

// "k=v", "k!=v", "k", "!k", comma-separated; "bad" anywhere fails.
util::Result<store::Selector> test_selector(std::string_view text) {
  store::Selector out;
  std::string s(text);
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? comma : comma - start);
    if (part.find("bad") != std::string::npos) {
      return util::fail(util::ErrorKind::invalid_input, "bad requirement \"" + part + "\"");
    }
    if (auto ne = part.find("!="); ne != std::string::npos) {
      out.push_back(
          {store::Requirement::Op::not_equals, part.substr(0, ne), {part.substr(ne + 2)}});
    } else if (auto eq = part.find('='); eq != std::string::npos) {
      out.push_back({store::Requirement::Op::equals, part.substr(0, eq), {part.substr(eq + 1)}});
    } else if (part.starts_with("!")) {
      out.push_back({store::Requirement::Op::not_exists, part.substr(1), {}});
    } else {
      out.push_back({store::Requirement::Op::exists, part, {}});
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

json updater(const std::string& name, const std::string& ns = "demo") {
  json j = {
      {"apiVersion", "gitops.kubesphere.io/v1alpha1"},
      {"kind", "ImageUpdater"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"kind", "argocd"}, {"images", {"nginx:^0.1"}}, {"argocd", {{"app", {{"name", "web"}}}}}}}};
  if (!ns.empty()) {
    j["metadata"]["namespace"] = ns;
  }
  return j;
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

json parsed(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  return j;
}

class ApiTest : public ::testing::Test {
protected:
  ApiTest() : api(store, clock, options()) {}

  static api::Options options() {
    api::Options o;
    o.max_body_bytes = 4096;
    o.max_list_limit = 50;
    o.parse_selector = test_selector;
    return o;
  }

  HttpResponse send(const HttpRequest& r) {
    HttpResponse out = api.handle(r);
    EXPECT_EQ(out.content_type, "application/json");
    return out;
  }

  json create(const std::string& name, const std::string& ns = "demo",
              json labels = json::object()) {
    json body = updater(name, ns);
    if (!labels.empty()) {
      body["metadata"]["labels"] = labels;
    }
    auto r = send(request("POST", k_prefix + "/namespaces/" + ns + "/imageupdaters", body.dump()));
    EXPECT_EQ(r.status, 201) << r.body;
    return parsed(r);
  }

  tests::FakeStore store;
  util::FakeClock clock;
  api::ImageUpdaterApi api;
};

// ---- the happy paths of every route ----

TEST_F(ApiTest, CreateReturnsTheStoredObject) {
  auto r = send(request("POST", k_ns_path, updater("web").dump()));
  ASSERT_EQ(r.status, 201) << r.body;
  json o = parsed(r);
  EXPECT_EQ(o["apiVersion"], "gitops.kubesphere.io/v1alpha1");
  EXPECT_EQ(o["kind"], "ImageUpdater");
  EXPECT_EQ(o["metadata"]["name"], "web");
  EXPECT_EQ(o["metadata"]["namespace"], "demo");
  EXPECT_EQ(o["metadata"]["uid"], "uid-1");
  EXPECT_EQ(o["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(o["metadata"]["generation"], 1);
  EXPECT_EQ(o["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(o["spec"], updater("web")["spec"]);
  EXPECT_EQ(o["status"], json::object());
  // Sorted keys: the output is deterministic.
  EXPECT_EQ(r.body.substr(0, 15), "{\"apiVersion\":\"");
  EXPECT_EQ(store.size(), 1u);
}

TEST_F(ApiTest, CreateTakesTheNamespaceFromThePath) {
  auto r = send(request("POST", k_ns_path, updater("web", "").dump()));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parsed(r)["metadata"]["namespace"], "demo");
}

TEST_F(ApiTest, CreateIgnoresClientStatusAndServerFields) {
  json body = updater("web");
  body["status"] = {{"lastCheckTime", "2020-01-01T00:00:00Z"}};
  body["metadata"]["uid"] = "mine";
  body["metadata"]["generation"] = 7;
  auto r = send(request("POST", k_ns_path, body.dump()));
  ASSERT_EQ(r.status, 201) << r.body;
  json o = parsed(r);
  EXPECT_EQ(o["status"], json::object());
  EXPECT_EQ(o["metadata"]["uid"], "uid-1");
  EXPECT_EQ(o["metadata"]["generation"], 1);
}

TEST_F(ApiTest, CreateFillsApiVersionAndKindWhenLeftOut) {
  json body = updater("web");
  body.erase("apiVersion");
  body.erase("kind");
  auto r = send(request("POST", k_ns_path, body.dump()));
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ApiTest, CreateFromYaml) {
  const std::string yaml = "apiVersion: gitops.kubesphere.io/v1alpha1\n"
                           "kind: ImageUpdater\n"
                           "metadata:\n  name: from-yaml\n  labels: {team: a, tier: '1'}\n"
                           "spec:\n  kind: argocd\n  images:\n    - nginx:^0.1\n"
                           "  argocd:\n    app: {name: web}\n";
  auto r = send(request("POST", k_ns_path, yaml, "application/yaml; charset=utf-8"));
  ASSERT_EQ(r.status, 201) << r.body;
  json o = parsed(r);
  EXPECT_EQ(o["metadata"]["name"], "from-yaml");
  EXPECT_EQ(o["metadata"]["labels"], json({{"team", "a"}, {"tier", "1"}}));
  EXPECT_EQ(o["spec"]["images"], json({"nginx:^0.1"}));
}

TEST_F(ApiTest, GetOneWithItsStatus) {
  create("web");
  ASSERT_TRUE(
      store.replace_status({"demo", "web"}, "1", R"({"lastCheckTime":"2024-01-02T03:04:05Z"})"));
  auto r = send(request("GET", k_ns_path + "/web"));
  ASSERT_EQ(r.status, 200) << r.body;
  json o = parsed(r);
  EXPECT_EQ(o["metadata"]["name"], "web");
  EXPECT_EQ(o["status"]["lastCheckTime"], "2024-01-02T03:04:05Z");
}

TEST_F(ApiTest, ListOneNamespaceAndAll) {
  create("a");
  create("b");
  create("c", "other");
  auto r = send(request("GET", k_ns_path));
  ASSERT_EQ(r.status, 200) << r.body;
  json l = parsed(r);
  EXPECT_EQ(l["kind"], "ImageUpdaterList");
  EXPECT_EQ(l["apiVersion"], "gitops.kubesphere.io/v1alpha1");
  EXPECT_EQ(l["metadata"]["resourceVersion"], "3");
  EXPECT_FALSE(l["metadata"].contains("continue"));
  ASSERT_EQ(l["items"].size(), 2u);
  EXPECT_EQ(l["items"][0]["metadata"]["name"], "a");
  EXPECT_EQ(l["items"][1]["kind"], "ImageUpdater");
  EXPECT_EQ(store.last_namespace, "demo");

  auto all = send(request("GET", k_prefix + "/imageupdaters"));
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(parsed(all)["items"].size(), 3u);
  EXPECT_EQ(store.last_namespace, "");
}

TEST_F(ApiTest, PagingRoundTrip) {
  for (int i = 0; i < 7; ++i) {
    create("u" + std::to_string(i));
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    HttpRequest r = request("GET", k_ns_path);
    r.query["limit"] = "3";
    if (!token.empty()) {
      r.query["continue"] = token;
    }
    auto resp = send(r);
    ASSERT_EQ(resp.status, 200) << resp.body;
    EXPECT_EQ(store.last_options.limit, 3u);
    json l = parsed(resp);
    for (const json& item : l["items"]) {
      seen.push_back(item["metadata"]["name"]);
    }
    token = l["metadata"].value("continue", "");
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"u0", "u1", "u2", "u3", "u4", "u5", "u6"}));
}

TEST_F(ApiTest, ListLimitIsCapped) {
  const std::pair<const char*, std::size_t> cases[] = {{"", 50},   {"0", 50},  {"10", 10},
                                                       {"50", 50}, {"51", 50}, {"1000000", 50}};
  for (const auto& [limit, want] : cases) {
    HttpRequest r = request("GET", k_ns_path);
    if (*limit != '\0') {
      r.query["limit"] = limit;
    }
    ASSERT_EQ(send(r).status, 200);
    EXPECT_EQ(store.last_options.limit, want) << limit;
  }
}

TEST_F(ApiTest, LabelSelectorIsPassedThrough) {
  create("a", "demo", {{"team", "x"}});
  create("b", "demo", {{"team", "y"}});
  create("c", "demo", json::object());
  const std::pair<const char*, std::vector<std::string>> cases[] = {
      {"team=x", {"a"}}, {"team!=x", {"b", "c"}}, {"team", {"a", "b"}}, {"!team", {"c"}}};
  for (const auto& [selector, want] : cases) {
    HttpRequest r = request("GET", k_ns_path);
    r.query["labelSelector"] = selector;
    auto resp = send(r);
    ASSERT_EQ(resp.status, 200) << resp.body;
    std::vector<std::string> got;
    const json list = parsed(resp);
    for (const json& item : list["items"]) {
      got.push_back(item["metadata"]["name"]);
    }
    EXPECT_EQ(got, want) << selector;
  }
  HttpRequest r = request("GET", k_ns_path);
  r.query["labelSelector"] = "team=x,tier";
  ASSERT_EQ(send(r).status, 200);
  ASSERT_EQ(store.last_options.selector.size(), 2u);
  EXPECT_EQ(store.last_options.selector[0].key, "team");
  EXPECT_EQ(store.last_options.selector[1].op, store::Requirement::Op::exists);
}

TEST_F(ApiTest, ReplaceBumpsVersionAndGeneration) {
  json o = create("web");
  o["spec"]["images"] = {"nginx:^0.2"};
  o["metadata"]["labels"] = {{"team", "x"}};
  auto r = send(request("PUT", k_ns_path + "/web", o.dump()));
  ASSERT_EQ(r.status, 200) << r.body;
  json updated = parsed(r);
  EXPECT_EQ(updated["spec"]["images"], json({"nginx:^0.2"}));
  EXPECT_EQ(updated["metadata"]["labels"], json({{"team", "x"}}));
  EXPECT_EQ(updated["metadata"]["generation"], 2);
  EXPECT_EQ(updated["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(updated["metadata"]["uid"], "uid-1");
}

TEST_F(ApiTest, ReplaceIgnoresClientStatus) {
  json o = create("web");
  ASSERT_TRUE(store.replace_status({"demo", "web"}, "1", R"({"conditions":[]})"));
  o["metadata"]["resourceVersion"] = "2";
  o["status"] = {{"lastCheckTime", "1999-01-01T00:00:00Z"}};
  auto r = send(request("PUT", k_ns_path + "/web", o.dump()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["status"], json({{"conditions", json::array()}}));
}

TEST_F(ApiTest, StaleResourceVersionIsAConflict) {
  json o = create("web");
  json first = o;
  first["spec"]["images"] = {"nginx:^0.2"};
  json second = o;
  second["spec"]["images"] = {"nginx:^0.3"};
  // Two writers hold version 1: exactly one wins.
  auto r1 = send(request("PUT", k_ns_path + "/web", first.dump()));
  auto r2 = send(request("PUT", k_ns_path + "/web", second.dump()));
  EXPECT_EQ(r1.status, 200) << r1.body;
  ASSERT_EQ(r2.status, 409) << r2.body;
  json s = parsed(r2);
  EXPECT_EQ(s["reason"], "Conflict");
  EXPECT_EQ(s["details"]["name"], "web");
  EXPECT_EQ(s["details"]["kind"], "imageupdaters");
  EXPECT_NE(s["message"].get<std::string>().find("the object has been modified"),
            std::string::npos);
  auto now = parsed(send(request("GET", k_ns_path + "/web")));
  EXPECT_EQ(now["spec"]["images"], json({"nginx:^0.2"}));
}

TEST_F(ApiTest, DeleteAnswersSuccessAndRemoves) {
  create("web");
  auto r = send(request("DELETE", k_ns_path + "/web"));
  ASSERT_EQ(r.status, 200) << r.body;
  json s = parsed(r);
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["status"], "Success");
  EXPECT_EQ(s["details"]["uid"], "uid-1");
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(send(request("GET", k_ns_path + "/web")).status, 404);
}

TEST_F(ApiTest, DeletePreconditions) {
  create("web");
  json stale = {{"preconditions", {{"resourceVersion", "9"}}}};
  EXPECT_EQ(send(request("DELETE", k_ns_path + "/web", stale.dump())).status, 409);
  json fresh = {{"preconditions", {{"resourceVersion", "1"}}}};
  EXPECT_EQ(send(request("DELETE", k_ns_path + "/web", fresh.dump())).status, 200);
}

TEST_F(ApiTest, OpenApiIsServed) {
  auto r = send(request("GET", "/openapi.json"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(parsed(r)["openapi"], "3.0.3");
}

TEST_F(ApiTest, ValidationWarningsBecomeWarningHeaders) {
  json body = updater("web");
  body["spec"]["argocd"]["update-strategy"] = {{"nobody", "semver"}};
  auto r = send(request("POST", k_ns_path, body.dump()));
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "Warning");
  EXPECT_TRUE(r.headers[0].second.starts_with("299 - \"")) << r.headers[0].second;
}

// ---- every error code ----

struct ErrorCase {
  const char* name;
  HttpRequest request;
  int code;
  const char* reason;
  const char* message_part; // "" = not checked
};

json with(json j, const json::json_pointer& at, json value) {
  j[at] = std::move(value);
  return j;
}

TEST_F(ApiTest, Errors) {
  create("exists");
  json current = parsed(send(request("GET", k_ns_path + "/exists")));
  const std::string big(5000, ' ');
  HttpRequest bad_limit = request("GET", k_ns_path);
  bad_limit.query["limit"] = "-1";
  HttpRequest bad_limit_text = request("GET", k_ns_path);
  bad_limit_text.query["limit"] = "ten";
  HttpRequest bad_selector = request("GET", k_ns_path);
  bad_selector.query["labelSelector"] = "bad==";
  HttpRequest bad_continue = request("GET", k_ns_path);
  bad_continue.query["continue"] = "garbage";
  const std::string item = k_ns_path + "/exists";

  const ErrorCase cases[] = {
      // 400
      {"empty body", request("POST", k_ns_path, "", ""), 400, "BadRequest", "empty"},
      {"blank YAML body", request("POST", k_ns_path, " \n", "application/yaml"), 400, "BadRequest",
       "empty"},
      {"malformed JSON", request("POST", k_ns_path, "{\"apiVersion\":"), 400, "BadRequest",
       "invalid JSON"},
      {"malformed YAML", request("POST", k_ns_path, "a: [b\nc: d", "application/yaml"), 400,
       "BadRequest", "invalid YAML"},
      {"two YAML documents", request("POST", k_ns_path, "a: 1\n---\nb: 2\n", "application/yaml"),
       400, "BadRequest", "more than one document"},
      {"not an object", request("POST", k_ns_path, "[1,2]"), 400, "BadRequest", "object"},
      {"deep JSON", request("POST", k_ns_path, std::string(200, '[') + std::string(200, ']')), 400,
       "BadRequest", "nested"},
      {"another kind",
       request("POST", k_ns_path, with(updater("x"), "/kind"_json_pointer, "Pod").dump()), 400,
       "BadRequest", "kind"},
      {"another apiVersion",
       request("POST", k_ns_path,
               with(updater("x"), "/apiVersion"_json_pointer, "gitops.kubesphere.io/v2").dump()),
       400, "BadRequest", "apiVersion"},
      {"namespace mismatch", request("POST", k_ns_path, updater("x", "other").dump()), 400,
       "BadRequest", "does not match the namespace"},
      {"name mismatch on PUT",
       request("PUT", item, with(current, "/metadata/name"_json_pointer, "y").dump()), 400,
       "BadRequest", "does not match the name"},
      {"namespace mismatch on PUT",
       request("PUT", item, with(current, "/metadata/namespace"_json_pointer, "other").dump()), 400,
       "BadRequest", "namespace"},
      {"bad namespace in path", request("GET", k_prefix + "/namespaces/Demo/imageupdaters"), 400,
       "BadRequest", "DNS-1123 label"},
      {"bad name in path", request("GET", k_ns_path + "/Web_1"), 400, "BadRequest",
       "DNS-1123 subdomain"},
      {"negative limit", bad_limit, 400, "BadRequest", "limit"},
      {"text limit", bad_limit_text, 400, "BadRequest", "limit"},
      {"bad labelSelector", bad_selector, 400, "BadRequest", "labelSelector"},
      {"bad continue", bad_continue, 400, "BadRequest", "continue"},
      {"bad DeleteOptions", request("DELETE", item, "{\"preconditions\":{\"resourceVersion\":1}}"),
       400, "BadRequest", "preconditions"},
      // 404
      {"unknown path", request("GET", "/api/v1/pods"), 404, "NotFound", "could not find"},
      {"unknown resource", request("GET", k_prefix + "/namespaces/demo/widgets"), 404, "NotFound",
       ""},
      {"trailing slash", request("GET", k_ns_path + "/"), 404, "NotFound", ""},
      {"too deep a path", request("GET", item + "/status"), 404, "NotFound", ""},
      {"get absent", request("GET", k_ns_path + "/absent"), 404, "NotFound",
       "imageupdaters.gitops.kubesphere.io \"absent\" not found"},
      {"put absent",
       request("PUT", k_ns_path + "/absent",
               with(current, "/metadata/name"_json_pointer, "absent").dump()),
       404, "NotFound", "not found"},
      {"delete absent", request("DELETE", k_ns_path + "/absent"), 404, "NotFound", "not found"},
      // 405
      {"POST on an item", request("POST", item, updater("x").dump()), 405, "MethodNotAllowed", ""},
      {"PUT on a collection", request("PUT", k_ns_path, updater("x").dump()), 405,
       "MethodNotAllowed", ""},
      {"DELETE on a collection", request("DELETE", k_ns_path), 405, "MethodNotAllowed", ""},
      {"POST across namespaces", request("POST", k_prefix + "/imageupdaters", "{}"), 405,
       "MethodNotAllowed", ""},
      {"PATCH on a collection", request("PATCH", k_ns_path, "{}"), 405, "MethodNotAllowed", ""},
      // 409
      {"create twice", request("POST", k_ns_path, updater("exists").dump()), 409, "AlreadyExists",
       "already exists"},
      {"stale version",
       request("PUT", item, with(current, "/metadata/resourceVersion"_json_pointer, "0").dump()),
       409, "Conflict", "modified"},
      // 413
      {"too large", request("POST", k_ns_path, updater("x").dump() + big), 413,
       "RequestEntityTooLarge", "limit"},
      {"too large on PUT", request("PUT", item, current.dump() + big), 413, "RequestEntityTooLarge",
       ""},
      // 415
      {"text/plain", request("POST", k_ns_path, updater("x").dump(), "text/plain"), 415,
       "UnsupportedMediaType", "application/json, application/yaml"},
      {"form on PUT", request("PUT", item, current.dump(), "application/x-www-form-urlencoded"),
       415, "UnsupportedMediaType", ""},
      // 422
      {"invalid name", request("POST", k_ns_path, updater("Not_A_Name").dump()), 422, "Invalid",
       "metadata.name"},
      {"no resourceVersion on PUT",
       request("PUT", item,
               with(current, "/metadata/resourceVersion"_json_pointer, nullptr).dump()),
       422, "Invalid", "metadata.resourceVersion"},
      {"bad label",
       request("POST", k_ns_path,
               with(updater("x"), "/metadata/labels"_json_pointer, {{"a b", "c"}}).dump()),
       422, "Invalid", "metadata.labels"},
      {"bad label value",
       request("POST", k_ns_path,
               with(updater("x"), "/metadata/labels"_json_pointer, {{"a", "-c"}}).dump()),
       422, "Invalid", "metadata.labels"},
      {"label value not a string",
       request("POST", k_ns_path,
               with(updater("x"), "/metadata/labels"_json_pointer, {{"a", 1}}).dump()),
       422, "Invalid", "metadata.labels"},
      {"labels not a map",
       request("POST", k_ns_path,
               with(updater("x"), "/metadata/annotations"_json_pointer, json::array()).dump()),
       422, "Invalid", "metadata.annotations"},
      {"name not a string",
       request("POST", k_ns_path, with(updater("x"), "/metadata/name"_json_pointer, 5).dump()), 422,
       "Invalid", "metadata.name"},
      {"bad annotation key",
       request(
           "POST", k_ns_path,
           with(updater("x"), "/metadata/annotations"_json_pointer, {{"/x", "anything"}}).dump()),
       422, "Invalid", "metadata.annotations"},
      {"invalid spec on PUT",
       request("PUT", item, with(current, "/spec/images"_json_pointer, json::array()).dump()), 422,
       "Invalid", "spec"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    int calls_before = store.calls;
    auto r = send(c.request);
    EXPECT_EQ(r.status, c.code) << r.body;
    json s = parsed(r);
    EXPECT_EQ(s["kind"], "Status");
    EXPECT_EQ(s["apiVersion"], "v1");
    EXPECT_EQ(s["status"], "Failure");
    EXPECT_EQ(s["code"], c.code);
    EXPECT_EQ(s["reason"], c.reason);
    EXPECT_NE(s["message"].get<std::string>().find(c.message_part), std::string::npos)
        << s["message"];
    if (c.code == 405) {
      ASSERT_EQ(r.headers.size(), 1u);
      EXPECT_EQ(r.headers[0].first, "Allow");
    }
    if (c.code == 400 || c.code == 413 || c.code == 415 || c.code == 422) {
      // Refused before the store: nothing written. (A bad continue token is the store's call.)
      if (std::string(c.name) != "bad continue") {
        EXPECT_EQ(store.calls, calls_before);
      }
    }
  }
  EXPECT_EQ(store.size(), 1u);
}

TEST_F(ApiTest, InvalidListsEveryProblemWithItsField) {
  json body = updater("Bad_Name");
  body["spec"]["images"] = {"nginx:^0.1", "nginx:^0.2"};
  body["spec"]["argocd"]["update-strategy"] = {{"nginx", "semverr"}};
  body["metadata"]["labels"] = {{"ok", "fine"}, {"bad key", "v"}};
  auto r = send(request("POST", k_ns_path, body.dump()));
  ASSERT_EQ(r.status, 422) << r.body;
  json s = parsed(r);
  EXPECT_EQ(s["details"]["kind"], "ImageUpdater");
  EXPECT_EQ(s["details"]["group"], "gitops.kubesphere.io");
  EXPECT_EQ(s["details"]["name"], "Bad_Name");
  std::set<std::string> fields;
  for (const json& c : s["details"]["causes"]) {
    EXPECT_EQ(c["reason"], "FieldValueInvalid");
    EXPECT_FALSE(c["message"].get<std::string>().empty());
    fields.insert(c.value("field", ""));
  }
  EXPECT_TRUE(fields.contains("metadata.name")) << r.body;
  EXPECT_TRUE(fields.contains("spec.argocd.update-strategy.nginx")) << r.body;
  EXPECT_TRUE(fields.contains("metadata.labels")) << r.body;
  EXPECT_GE(s["details"]["causes"].size(), 4u) << r.body; // the duplicate alias too
  EXPECT_TRUE(s["message"].get<std::string>().starts_with(
      "ImageUpdater.gitops.kubesphere.io \"Bad_Name\" is invalid: "));
}

TEST_F(ApiTest, RouteNamesForMetrics) {
  const std::pair<HttpRequest, std::string> cases[] = {
      {request("GET", k_ns_path + "/web"),
       "GET /kapis/gitops.kubesphere.io/v1alpha1/namespaces/{namespace}/imageupdaters/{name}"},
      {request("POST", k_ns_path),
       "POST /kapis/gitops.kubesphere.io/v1alpha1/namespaces/{namespace}/imageupdaters"},
      {request("GET", k_prefix + "/imageupdaters"),
       "GET /kapis/gitops.kubesphere.io/v1alpha1/imageupdaters"},
      {request("GET", "/openapi.json"), "GET /openapi.json"},
      {request("GET", "/nope"), ""},
  };
  for (const auto& [r, want] : cases) {
    EXPECT_EQ(api::ImageUpdaterApi::route_of(r), want) << r.path;
  }
}

TEST_F(ApiTest, HeaderLookupIgnoresCase) {
  HttpRequest r;
  r.headers = {{"content-TYPE", "application/json"}};
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Accept"), "");
}

} // namespace

namespace {

// Mutated bodies (bytes flipped, inserted, cut) never crash and always get a JSON answer with
// a known code.
TEST_F(ApiTest, MutatedBodiesAreAnswered) {
  const std::string seeds[] = {
      updater("web").dump(),
      "apiVersion: gitops.kubesphere.io/v1alpha1\nkind: ImageUpdater\nmetadata: {name: web}\n"
      "spec:\n  images: [nginx]\n  argocd:\n    app: {name: web}\n    update-strategy: &s "
      "{nginx: semver}\n  x: *s\n",
  };
  const char k_bytes[] = "{}[],:&*!|>'\"\\\n -#?%@`\t0a\xff";
  std::mt19937 random(42);
  int answered = 0;
  for (int i = 0; i < 3000; ++i) {
    bool yaml = i % 2 == 1;
    std::string body = seeds[yaml ? 1 : 0];
    int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      std::size_t at = random() % body.size();
      char c = k_bytes[random() % (sizeof(k_bytes) - 1)];
      switch (random() % 3) {
      case 0:
        body[at] = c;
        break;
      case 1:
        body.insert(at, 1, c);
        break;
      default:
        body.resize(at);
      }
    }
    auto r = send(request(i % 3 == 0 ? "PUT" : "POST", k_ns_path + (i % 3 == 0 ? "/web" : ""), body,
                          yaml ? "application/yaml" : "application/json"));
    EXPECT_TRUE(r.status == 201 || r.status == 200 || r.status == 400 || r.status == 404 ||
                r.status == 409 || r.status == 413 || r.status == 422)
        << r.status << " " << r.body;
    EXPECT_FALSE(json::parse(r.body, nullptr, false).is_discarded()) << body;
    ++answered;
  }
  EXPECT_EQ(answered, 3000);
}

} // namespace

namespace {

// Issue 13: a spec carries no power over the host and no reach into another namespace.
TEST_F(ApiTest, SpecsNamingHostSourcesOrOtherNamespacesSecretsAre422) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ext:/bin/sh", "ext: runs a program on the host"},
      {"env:AWS_SECRET_ACCESS_KEY", "env: reads the service's environment"},
      {"ghcr.io=ext:/usr/bin/id", "ext:"},
      {"pullsecret:team-b/regcred", R"(is in namespace \"team-b\")"},
      {"secret:team-b/regcred#token", R"(is in namespace \"team-b\")"},
      {"team-b/regcred", R"(is in namespace \"team-b\")"},
  };
  for (const auto& [secret, why] : cases) {
    json body = updater("web");
    body["spec"]["argocd"]["secret"] = {{"nginx", secret}};
    auto r = send(request("POST", k_ns_path, body.dump()));
    ASSERT_EQ(r.status, 422) << secret << ": " << r.body;
    const std::string text = r.body;
    EXPECT_NE(text.find("spec.argocd.secret.nginx"), std::string::npos) << text;
    EXPECT_NE(text.find(why), std::string::npos) << text;
  }
  // Its own namespace, and a bare name (which means it), are fine.
  for (const char* secret : {"regcred", "demo/regcred", "pullsecret:demo/regcred"}) {
    json body = updater(std::string("ok-") + std::to_string(std::string_view(secret).size()));
    body["spec"]["argocd"]["secret"] = {{"nginx", secret}};
    auto r = send(request("POST", k_ns_path, body.dump()));
    EXPECT_EQ(r.status, 201) << secret << ": " << r.body;
  }
}

TEST_F(ApiTest, DeeplyNestedBodiesAreRefusedCheaply) {
  // A 1 MiB body of '[' (JSON or YAML flow) is refused by a scan, not by building a tree.
  api::Options o = options();
  o.max_body_bytes = 2u << 20;
  api::ImageUpdaterApi big(store, clock, o);
  for (const char* type : {"application/json", "application/yaml"}) {
    const std::string body(1u << 20, '[');
    auto r = big.handle(request("POST", k_ns_path, body, type));
    EXPECT_EQ(r.status, 400) << type << ": " << r.body.substr(0, 300);
  }
  // A flat array of half a million values too.
  std::string flat = "[";
  for (int i = 0; i < 500'000; ++i) {
    flat += "1,";
  }
  flat += "1]";
  auto r = big.handle(request("POST", k_ns_path, flat));
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find("more than 100000 values"), std::string::npos) << r.body.substr(0, 300);
}

} // namespace
