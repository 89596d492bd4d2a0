// The documents kubectl reads besides the objects (kube.hpp): discovery, /version, the OpenAPI v3
// documents, the Namespace stand-in; tables, patches and selectors are in kube_output.cpp.
#include "common/api/kube.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/api.hpp"
#include "common/api/crd.hpp"
#include "common/api/writes.hpp"
#include "common/util/strings.hpp"
#include "common/util/time.hpp"

namespace common::api::detail {
namespace {

using nlohmann::json;

constexpr std::string_view k_openapi_v3 = "/openapi/v3";
constexpr std::string_view k_openapi_v3_gv = "/openapi/v3/apis/gitops.kubesphere.io/v1alpha1";
constexpr std::string_view k_group_path = "/apis/gitops.kubesphere.io";

json group() {
  json version = {{"groupVersion", k_api_version}, {"version", "v1alpha1"}};
  return {{"name", k_group}, {"versions", json::array({version})}, {"preferredVersion", version}};
}

json resource_list() {
  json resource = {{"name", k_resource},
                   {"singularName", k_singular},
                   {"namespaced", true},
                   {"kind", k_kind},
                   {"verbs", {"create", "delete", "get", "list", "patch", "update"}},
                   {"shortNames", json::array()},
                   {"categories", {k_category}}};
  for (std::string_view s : k_short_names) {
    resource["shortNames"].push_back(s);
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", k_api_version},
          {"resources", json::array({resource})}};
}

json gvk() {
  return {{"group", k_group}, {"version", "v1alpha1"}, {"kind", k_kind}};
}

json query(const char* name, const char* description) {
  return {{"name", name},
          {"in", "query"},
          {"description", description},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

json path_param(const char* name) {
  return {{"name", name},
          {"in", "path"},
          {"required", true},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

// The group-version's OpenAPI v3 document in kube-apiserver's shape, reduced to what kubectl
// reads: the object schema (explain) and, per write operation, the parameters it checks for
// server-side field validation (fieldValidation on a PATCH of the kind).
json openapi_v3() {
  const std::string type = "io.kubesphere.gitops.v1alpha1.ImageUpdater";
  json crd = json::parse(crd_json());
  json object = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
  object["x-kubernetes-group-version-kind"] = json::array({gvk()});
  json list = {
      {"type", "object"},
      {"required", {"items"}},
      {"properties",
       {{"apiVersion", {{"type", "string"}}},
        {"kind", {{"type", "string"}}},
        {"metadata", {{"type", "object"}}},
        {"items", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/" + type}}}}}}},
      {"x-kubernetes-group-version-kind",
       json::array({{{"group", k_group}, {"version", "v1alpha1"}, {"kind", k_list_kind}}})}};
  auto body = [&](std::initializer_list<const char*> types) {
    json content = json::object();
    for (const char* t : types) {
      content[t] = {{"schema", {{"$ref", "#/components/schemas/" + type}}}};
    }
    return json{{"required", true}, {"content", std::move(content)}};
  };
  auto response = [&] {
    return json{
        {"200",
         {{"description", "OK"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/" + type}}}}},
            {"application/yaml", {{"schema", {{"$ref", "#/components/schemas/" + type}}}}}}}}}};
  };
  json write_params = json::array({query("dryRun", "not supported (400)"),
                                   query("fieldManager", "accepted and ignored"),
                                   query("fieldValidation", "Ignore, Warn or Strict")});
  auto operation = [&](const char* id, const char* action, json params) {
    return json{{"operationId", id},
                {"parameters", std::move(params)},
                {"responses", response()},
                {"x-kubernetes-action", action},
                {"x-kubernetes-group-version-kind", gvk()}};
  };
  const std::string prefix(k_kube_prefix);
  json paths = json::object();
  json& all = paths[prefix + "/imageupdaters"];
  all["get"] = operation("listGitopsKubesphereIoV1alpha1ImageUpdaterForAllNamespaces", "list",
                         json::array({query("labelSelector", ""), query("limit", ""),
                                      query("continue", ""), query("fieldSelector", "")}));
  json& collection = paths[prefix + "/namespaces/{namespace}/imageupdaters"];
  collection["parameters"] = json::array({path_param("namespace")});
  collection["get"] = operation("listGitopsKubesphereIoV1alpha1NamespacedImageUpdater", "list",
                                json::array({query("labelSelector", ""), query("limit", ""),
                                             query("continue", ""), query("fieldSelector", "")}));
  collection["post"] =
      operation("createGitopsKubesphereIoV1alpha1NamespacedImageUpdater", "post", write_params);
  collection["post"]["requestBody"] = body({"application/json", "application/yaml"});
  json& item = paths[prefix + "/namespaces/{namespace}/imageupdaters/{name}"];
  item["parameters"] = json::array({path_param("name"), path_param("namespace")});
  item["get"] =
      operation("readGitopsKubesphereIoV1alpha1NamespacedImageUpdater", "get", json::array());
  item["put"] =
      operation("replaceGitopsKubesphereIoV1alpha1NamespacedImageUpdater", "put", write_params);
  item["put"]["requestBody"] = body({"application/json", "application/yaml"});
  item["patch"] =
      operation("patchGitopsKubesphereIoV1alpha1NamespacedImageUpdater", "patch", write_params);
  item["patch"]["requestBody"] =
      body({"application/json-patch+json", "application/merge-patch+json"});
  item["delete"] =
      operation("deleteGitopsKubesphereIoV1alpha1NamespacedImageUpdater", "delete", json::array());
  return {
      {"openapi", "3.0.0"},
      {"info", {{"title", "ImageUpdater API (kubectl)"}, {"version", "v1alpha1"}}},
      {"paths", std::move(paths)},
      {"components",
       {{"schemas",
         {{type, std::move(object)}, {"io.kubesphere.gitops.v1alpha1.ImageUpdaterList", list}}}}}};
}

// FNV-1a, 64 bits, as 16 upper-case hex digits: the cache key kubectl keeps the document under.
std::string content_hash(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llX", static_cast<unsigned long long>(h));
  return out;
}

HttpResponse document(const json& body) {
  HttpResponse r;
  r.body = body.dump();
  return r;
}

} // namespace

namespace {

constexpr std::string_view k_namespaces = "/api/v1/namespaces/";

// "/api/v1/namespaces/NS" with NS a namespace name: kubectl reads it to word a NotFound.
bool is_namespace_path(std::string_view path) {
  return path.starts_with(k_namespaces) &&
         check_dns1123_label(path.substr(k_namespaces.size())).empty();
}

} // namespace

bool is_kube_document(std::string_view path) {
  return is_namespace_path(path) || path == "/api" || path == "/apis" || path == k_group_path ||
         path == k_kube_prefix || path == "/version" || path == k_openapi_v3 ||
         path == k_openapi_v3_gv;
}

std::optional<HttpResponse> kube_document(std::string_view path) {
  if (path == "/api") {
    return document({{"kind", "APIVersions"},
                     {"versions", json::array()},
                     {"serverAddressByClientCIDRs", json::array()}});
  }
  if (is_namespace_path(path)) {
    // Every namespace exists here (objects name theirs), so kubectl words a missing object as
    // the object's NotFound, not the namespace's.
    return document({{"kind", "Namespace"},
                     {"apiVersion", "v1"},
                     {"metadata", {{"name", path.substr(k_namespaces.size())}}},
                     {"status", {{"phase", "Active"}}}});
  }
  if (path == "/apis") {
    return document(
        {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", json::array({group()})}});
  }
  if (path == k_group_path) {
    json g = group();
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return document(g);
  }
  if (path == k_kube_prefix) {
    return document(resource_list());
  }
  if (path == "/version") {
    // The Kubernetes API level whose conventions this API follows (kubectl compares versions).
    return document({{"major", "1"},
                     {"minor", "32"},
                     {"gitVersion", "v1.32.0+imageupdater"},
                     {"platform", "linux/amd64"}});
  }
  if (path == k_openapi_v3) {
    const std::string doc = openapi_v3().dump();
    const std::string gv(k_kube_prefix.substr(1));
    return document({{"paths",
                      {{gv,
                        {{"serverRelativeURL",
                          std::string(k_openapi_v3_gv) + "?hash=" + content_hash(doc)}}}}}});
  }
  if (path == k_openapi_v3_gv) {
    return document(openapi_v3());
  }
  return std::nullopt;
}

} // namespace common::api::detail
