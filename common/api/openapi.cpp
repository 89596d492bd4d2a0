#include "common/api/openapi.hpp"

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/api/api.hpp"
#include "common/api/schema.hpp"

namespace common::api {
namespace {

using nlohmann::json;

json ref(std::string_view schema) {
  return {{"$ref", "#/components/schemas/" + std::string(schema)}};
}

json path_param(const char* name, const char* description) {
  return {{"name", name},
          {"in", "path"},
          {"required", true},
          {"description", description},
          {"schema", {{"type", "string"}}}};
}

json query_param(const char* name, const char* type, const char* description) {
  return {{"name", name},
          {"in", "query"},
          {"required", false},
          {"description", description},
          {"schema", {{"type", type}}}};
}

json content(std::string_view schema) {
  return {{"application/json", {{"schema", ref(schema)}}}};
}

json body(std::string_view schema) {
  return {{"required", true},
          {"content",
           {{"application/json", {{"schema", ref(schema)}}},
            {"application/yaml", {{"schema", ref(schema)}}}}}};
}

json response(const char* description, std::string_view schema) {
  return {{"description", description}, {"content", content(schema)}};
}

// The error responses an operation can give (Status objects), by code.
json with_errors(json responses, std::initializer_list<std::pair<const char*, const char*>> codes) {
  for (const auto& [code, description] : codes) {
    responses[code] = response(description, "Status");
  }
  // With a token file (the default off loopback) every API operation may also answer these.
  responses["401"] = response("no or unknown bearer token (when tokens are required)", "Status");
  responses["403"] =
      response("the token may not access this namespace, or may only read", "Status");
  responses["500"] = response("internal error", "Status");
  return responses;
}

json list_operation(const char* id, const char* summary, bool namespaced) {
  json params = json::array();
  if (namespaced) {
    params.push_back(path_param("namespace", "the namespace (a DNS-1123 label)"));
  }
  params.push_back(query_param("limit", "integer",
                               "at most this many items; more are announced by metadata.continue"));
  params.push_back(query_param("continue", "string", "the metadata.continue of the previous page"));
  params.push_back(query_param("labelSelector", "string",
                               "Kubernetes label selector: k=v, k!=v, k in (a,b), k notin (a), "
                               "k, !k; comma-separated"));
  return {{"operationId", id},
          {"summary", summary},
          {"parameters", std::move(params)},
          {"responses", with_errors({{"200", response("the list", "ImageUpdaterList")}},
                                    {{"400", "bad query (limit, continue, labelSelector)"}})}};
}

json string_map() {
  return {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
}

json schemas() {
  json metadata = {
      {"type", "object"},
      {"properties",
       {{"name", {{"type", "string"}, {"description", "a DNS-1123 subdomain"}}},
        {"namespace",
         {{"type", "string"}, {"description", "the path's namespace; another one is an error"}}},
        {"uid", {{"type", "string"}, {"readOnly", true}}},
        {"resourceVersion",
         {{"type", "string"},
          {"description", "opaque; required on PUT and compared (409 when stale)"}}},
        {"generation", {{"type", "integer"}, {"format", "int64"}, {"readOnly", true}}},
        {"creationTimestamp", {{"type", "string"}, {"format", "date-time"}, {"readOnly", true}}},
        {"labels", string_map()},
        {"annotations", string_map()}}}};
  // The CRD's schemas (schema.hpp): one model for both documents.
  json status = json::parse(detail::status_schema_json());
  status["readOnly"] = true;
  json spec = json::parse(detail::spec_schema_json());
  json updater = {
      {"type", "object"},
      {"required", {"metadata", "spec"}},
      {"properties",
       {{"apiVersion", {{"type", "string"}, {"enum", {"gitops.kubesphere.io/v1alpha1"}}}},
        {"kind", {{"type", "string"}, {"enum", {"ImageUpdater"}}}},
        {"metadata", ref("ObjectMeta")},
        {"spec", ref("ImageUpdaterSpec")},
        {"status", ref("ImageUpdaterStatus")}}}};
  json list = {
      {"type", "object"},
      {"properties",
       {{"apiVersion", {{"type", "string"}}},
        {"kind", {{"type", "string"}, {"enum", {"ImageUpdaterList"}}}},
        {"metadata",
         {{"type", "object"},
          {"properties",
           {{"resourceVersion", {{"type", "string"}}}, {"continue", {{"type", "string"}}}}}}},
        {"items", {{"type", "array"}, {"items", ref("ImageUpdater")}}}}}};
  json cause = {{"type", "object"},
                {"properties",
                 {{"field", {{"type", "string"}}},
                  {"reason", {{"type", "string"}}},
                  {"message", {{"type", "string"}}}}}};
  json status_object = {{"type", "object"},
                        {"properties",
                         {{"apiVersion", {{"type", "string"}, {"enum", {"v1"}}}},
                          {"kind", {{"type", "string"}, {"enum", {"Status"}}}},
                          {"status", {{"type", "string"}, {"enum", {"Success", "Failure"}}}},
                          {"message", {{"type", "string"}}},
                          {"reason", {{"type", "string"}}},
                          {"code", {{"type", "integer"}}},
                          {"details",
                           {{"type", "object"},
                            {"properties",
                             {{"name", {{"type", "string"}}},
                              {"group", {{"type", "string"}}},
                              {"kind", {{"type", "string"}}},
                              {"uid", {{"type", "string"}}},
                              {"causes", {{"type", "array"}, {"items", cause}}}}}}}}}};
  json delete_options = {
      {"type", "object"},
      {"properties",
       {{"preconditions",
         {{"type", "object"}, {"properties", {{"resourceVersion", {{"type", "string"}}}}}}}}}};
  return {{"ObjectMeta", metadata},         {"ImageUpdaterSpec", spec},
          {"ImageUpdaterStatus", status},   {"ImageUpdater", updater},
          {"ImageUpdaterList", list},       {"Status", status_object},
          {"DeleteOptions", delete_options}};
}

} // namespace

std::string openapi_document(int indent) {
  const std::string prefix(k_api_prefix);
  json ns = path_param("namespace", "the namespace (a DNS-1123 label)");
  json name = path_param("name", "the ImageUpdater's name (a DNS-1123 subdomain)");

  json paths = json::object();
  paths[prefix + "/imageupdaters"]["get"] = list_operation(
      "listImageUpdatersForAllNamespaces", "List ImageUpdaters of every namespace", false);
  json& collection = paths[prefix + "/namespaces/{namespace}/imageupdaters"];
  collection["get"] =
      list_operation("listImageUpdaters", "List the ImageUpdaters of a namespace", true);
  collection["post"] = {
      {"operationId", "createImageUpdater"},
      {"summary", "Create an ImageUpdater"},
      {"parameters", {ns}},
      {"requestBody", body("ImageUpdater")},
      {"responses",
       with_errors({{"201", response("created: the stored object", "ImageUpdater")}},
                   {{"400", "malformed body or path, or a namespace other than the path's"},
                    {"409", "AlreadyExists"},
                    {"413", "body larger than the limit"},
                    {"415", "body neither application/json nor application/yaml"},
                    {"422", "invalid ImageUpdater: details.causes lists every problem"}})}};
  json& item = paths[prefix + "/namespaces/{namespace}/imageupdaters/{name}"];
  item["get"] = {{"operationId", "readImageUpdater"},
                 {"summary", "Read an ImageUpdater with its status"},
                 {"parameters", {ns, name}},
                 {"responses", with_errors({{"200", response("the object", "ImageUpdater")}},
                                           {{"400", "malformed path"}, {"404", "NotFound"}})}};
  item["put"] = {
      {"operationId", "replaceImageUpdater"},
      {"summary", "Replace an ImageUpdater (metadata.resourceVersion required; status ignored)"},
      {"parameters", {ns, name}},
      {"requestBody", body("ImageUpdater")},
      {"responses",
       with_errors({{"200", response("the stored object", "ImageUpdater")}},
                   {{"400", "malformed body or path, or a namespace/name other than the path's"},
                    {"404", "NotFound"},
                    {"409", "Conflict: metadata.resourceVersion is stale"},
                    {"413", "body larger than the limit"},
                    {"415", "body neither application/json nor application/yaml"},
                    {"422", "invalid ImageUpdater: details.causes lists every problem"}})}};
  item["patch"] = {
      {"operationId", "patchImageUpdater"},
      {"summary", "Patch an ImageUpdater: the patch is applied to the stored object, which is "
                  "then replaced as by PUT (retried on a concurrent write unless the patch names "
                  "metadata.resourceVersion)"},
      {"parameters", {ns, name}},
      {"requestBody",
       {{"required", true},
        {"content",
         {{"application/merge-patch+json",
           {{"schema", {{"type", "object"}, {"description", "RFC 7386 JSON merge patch"}}}}},
          {"application/json-patch+json",
           {{"schema",
             {{"type", "array"},
              {"description", "RFC 6902 JSON patch"},
              {"items", {{"type", "object"}}}}}}}}}}},
      {"responses",
       with_errors({{"200", response("the stored object", "ImageUpdater")}},
                   {{"400", "malformed body or path, or a namespace/name other than the path's"},
                    {"404", "NotFound"},
                    {"409", "Conflict: the patch's metadata.resourceVersion is stale"},
                    {"413", "body larger than the limit"},
                    {"415", "a patch type other than merge-patch+json or json-patch+json"},
                    {"422", "the patch does not apply, or the result is an invalid "
                            "ImageUpdater: details.causes lists every problem"}})}};
  item["delete"] = {
      {"operationId", "deleteImageUpdater"},
      {"summary", "Delete an ImageUpdater"},
      {"parameters", {ns, name}},
      {"requestBody",
       {{"required", false},
        {"content", {{"application/json", {{"schema", ref("DeleteOptions")}}}}}}},
      {"responses", with_errors({{"200", response("deleted (a Success Status)", "Status")}},
                                {{"400", "malformed path or body"},
                                 {"404", "NotFound"},
                                 {"409", "Conflict: preconditions.resourceVersion is stale"}})}};
  paths[std::string(k_openapi_path)]["get"] = {
      {"operationId", "getOpenAPI"},
      {"summary", "This document"},
      {"security", json::array()},
      {"responses", {{"200", {{"description", "the OpenAPI 3 document"}}}}}};

  json doc = {{"openapi", "3.0.3"},
              {"info",
               {{"title", "ImageUpdater API"},
                {"version", "v1alpha1"},
                {"description",
                 "ImageUpdaters (gitops.kubesphere.io/v1alpha1) as Kubernetes objects; errors "
                 "are Kubernetes Status objects. Every route under /kapis/gitops.kubesphere.io/"
                 "v1alpha1 is also served under /apis/gitops.kubesphere.io/v1alpha1, next to "
                 "the discovery documents, /version and /openapi/v3 that kubectl reads. A body "
                 "without a Content-Type is JSON (YAML when it cannot start JSON text); "
                 "`Accept: application/yaml` answers YAML, and kubectl's Table Accept a "
                 "meta.k8s.io/v1 Table with the CRD's printer columns."}}},
              {"paths", std::move(paths)},
              {"security", json::array({json::object(), {{"bearerToken", json::array()}}})},
              {"components",
               {{"schemas", schemas()},
                {"securitySchemes",
                 {{"bearerToken",
                   {{"type", "http"},
                    {"scheme", "bearer"},
                    {"description", "a token from the service's --token-file; required when "
                                    "the service was started with one"}}}}}}}};
  return doc.dump(indent);
}

} // namespace common::api
