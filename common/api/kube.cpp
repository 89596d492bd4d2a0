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

// ---- printer columns: the JSONPath subset the CRD's columns use ----

// Evaluates ".a.b", "[*]" and "[?(@.key==\"value\")]" steps; every match, in order.
std::vector<const json*> evaluate(const json& root, std::string_view path) {
  std::vector<const json*> current{&root};
  while (!path.empty()) {
    std::vector<const json*> next;
    if (path.front() == '.') {
      path.remove_prefix(1);
      const auto end = path.find_first_of(".[");
      const std::string key(path.substr(0, end));
      path.remove_prefix(end == std::string_view::npos ? path.size() : end);
      for (const json* j : current) {
        if (j->is_object() && j->contains(key)) {
          next.push_back(&(*j)[key]);
        }
      }
    } else if (path.starts_with("[*]")) {
      path.remove_prefix(3);
      for (const json* j : current) {
        if (j->is_array()) {
          for (const json& item : *j) {
            next.push_back(&item);
          }
        }
      }
    } else if (path.starts_with("[?(@.")) {
      const auto close = path.find(")]");
      if (close == std::string_view::npos) {
        return {};
      }
      const std::string_view filter = path.substr(5, close - 5); // key=="value"
      path.remove_prefix(close + 2);
      const auto eq = filter.find("==");
      if (eq == std::string_view::npos || filter.size() < eq + 4) {
        return {};
      }
      const std::string key(filter.substr(0, eq));
      const std::string value(filter.substr(eq + 3, filter.size() - eq - 4));
      for (const json* j : current) {
        if (!j->is_array()) {
          continue;
        }
        for (const json& item : *j) {
          if (item.is_object() && item.contains(key) && item[key] == value) {
            next.push_back(&item);
          }
        }
      }
    } else {
      return {};
    }
    current = std::move(next);
  }
  return current;
}

// apimachinery's duration.HumanDuration.
std::string human_duration(std::chrono::seconds d) {
  const long long seconds = d.count();
  auto f = [](const char* format, long long a, long long b = 0) {
    char out[32];
    std::snprintf(out, sizeof out, format, a, b);
    return std::string(out);
  };
  if (seconds < -1) {
    return "<invalid>";
  }
  if (seconds < 0) {
    return "0s";
  }
  if (seconds < 120) {
    return f("%llds", seconds);
  }
  const long long minutes = seconds / 60;
  if (minutes < 10) {
    return seconds % 60 == 0 ? f("%lldm", minutes) : f("%lldm%llds", minutes, seconds % 60);
  }
  if (minutes < 180) {
    return f("%lldm", minutes);
  }
  const long long hours = seconds / 3600;
  if (hours < 8) {
    return minutes % 60 == 0 ? f("%lldh", hours) : f("%lldh%lldm", hours, minutes % 60);
  }
  if (hours < 48) {
    return f("%lldh", hours);
  }
  if (hours < 24 * 8) {
    return hours % 24 == 0 ? f("%lldd", hours / 24) : f("%lldd%lldh", hours / 24, hours % 24);
  }
  if (hours < 24 * 365 * 2) {
    return f("%lldd", hours / 24);
  }
  if (hours < 24 * 365 * 8) {
    const long long days = (hours / 24) % 365;
    return days == 0 ? f("%lldy", hours / 24 / 365) : f("%lldy%lldd", hours / 24 / 365, days);
  }
  return f("%lldy", hours / 24 / 365);
}

json cell(const json& object, const json& column, std::chrono::system_clock::time_point now) {
  const auto found = evaluate(object, column["jsonPath"].get<std::string>());
  std::vector<std::string> values;
  for (const json* v : found) {
    if (v->is_null()) {
      continue;
    }
    values.push_back(v->is_string() ? v->get<std::string>() : v->dump());
  }
  if (values.empty()) {
    return nullptr;
  }
  if (column["type"] == "date") {
    auto t = util::parse_rfc3339(values.front());
    if (!t) {
      return "<invalid>";
    }
    return human_duration(std::chrono::floor<std::chrono::seconds>(now - *t));
  }
  std::string joined;
  for (const std::string& v : values) {
    joined += (joined.empty() ? "" : ",") + v;
  }
  return joined;
}

json row(const json& object, const json& columns, std::chrono::system_clock::time_point now) {
  json cells = json::array();
  cells.push_back(object["metadata"].value("name", ""));
  for (const json& column : columns) {
    cells.push_back(cell(object, column, now));
  }
  return {{"cells", std::move(cells)},
          {"object",
           {{"kind", "PartialObjectMetadata"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", object.value("metadata", json::object())}}}};
}

void unknown(const json& value, const json& schema, const std::string& at,
             std::vector<std::string>& out) {
  if (schema.value("x-kubernetes-preserve-unknown-fields", false)) {
    return;
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      unknown(value[i], schema["items"], at + "[" + std::to_string(i) + "]", out);
    }
    return;
  }
  if (!value.is_object()) {
    return;
  }
  for (const auto& [key, child] : value.items()) {
    const std::string path = at.empty() ? key : at + "." + key;
    if (schema.contains("properties") && schema["properties"].contains(key)) {
      unknown(child, schema["properties"][key], path, out);
    } else if (schema.contains("additionalProperties")) {
      unknown(child, schema["additionalProperties"], path, out);
    } else {
      out.push_back(path);
    }
  }
}

} // namespace

std::vector<std::string> unknown_fields(std::string_view object) {
  std::vector<std::string> out;
  json value = json::parse(object, nullptr, false);
  if (!value.is_object()) {
    return out;
  }
  static const json schema = [] {
    json root = json::parse(crd_json())["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    root["properties"]["metadata"]["x-kubernetes-preserve-unknown-fields"] = true;
    return root;
  }();
  unknown(value, schema, "", out);
  return out;
}

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

PatchType patch_type(std::string_view content_type) {
  if (content_type == "application/merge-patch+json") {
    return PatchType::merge;
  }
  if (content_type == "application/json-patch+json") {
    return PatchType::json;
  }
  return PatchType::unsupported;
}

util::Result<std::string> apply_patch(PatchType type, std::string_view object,
                                      std::string_view patch) {
  try {
    json target = json::parse(object);
    const json p = json::parse(patch);
    if (type == PatchType::merge) {
      if (!p.is_object()) {
        return util::fail(util::ErrorKind::invalid_input, "a merge patch must be a JSON object");
      }
      target.merge_patch(p);
    } else if (type == PatchType::json) {
      if (!p.is_array()) {
        return util::fail(util::ErrorKind::invalid_input,
                          "a JSON patch must be an array of operations");
      }
      target = target.patch(p);
    } else {
      return util::fail(util::ErrorKind::invalid_input, "unsupported patch type");
    }
    return target.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const json::exception& e) {
    return util::fail(util::ErrorKind::invalid_input,
                      std::string("the patch does not apply: ") + e.what());
  }
}

Output negotiate(std::string_view accept) {
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto end = accept.find(',', start);
    if (end == std::string_view::npos) {
      end = accept.size();
    }
    const std::string item = util::to_lower(util::trim(accept.substr(start, end - start)));
    start = end + 1;
    const std::string type(util::trim(std::string_view(item).substr(0, item.find(';'))));
    if (type == "application/yaml") {
      return Output::yaml;
    }
    if (type == "application/json" && item.find("as=table") != std::string::npos) {
      if (item.find("g=meta.k8s.io") != std::string::npos) {
        return Output::table;
      }
      continue;
    }
    if (type == "application/json" || type == "*/*" || type == "application/*") {
      return Output::json;
    }
  }
  return Output::json;
}

std::string to_table(std::string_view body, std::chrono::system_clock::time_point now) {
  const json value = json::parse(body);
  const json columns = json::parse(printer_columns_json());
  json definitions = json::array();
  definitions.push_back({{"name", "Name"},
                         {"type", "string"},
                         {"format", "name"},
                         {"description", "metadata.name"},
                         {"priority", 0}});
  for (const json& c : columns) {
    definitions.push_back({{"name", c["name"]},
                           {"type", c["type"]},
                           {"format", ""},
                           {"description", c.value("description", "")},
                           {"priority", c.value("priority", 0)}});
  }
  json rows = json::array();
  json metadata = json::object();
  if (value.contains("items")) {
    for (const json& item : value["items"]) {
      rows.push_back(row(item, columns, now));
    }
    metadata = value.value("metadata", json::object());
  } else {
    rows.push_back(row(value, columns, now));
    metadata["resourceVersion"] = value["metadata"].value("resourceVersion", "");
  }
  return json{{"kind", "Table"},
              {"apiVersion", "meta.k8s.io/v1"},
              {"metadata", std::move(metadata)},
              {"columnDefinitions", std::move(definitions)},
              {"rows", std::move(rows)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

util::Result<std::string> filter_by_fields(std::string_view list, std::string_view selector) {
  struct Term {
    std::string field;
    bool equal;
    std::string value;
  };
  std::vector<Term> terms;
  std::size_t start = 0;
  while (start <= selector.size()) {
    auto end = selector.find(',', start);
    if (end == std::string_view::npos) {
      end = selector.size();
    }
    const std::string_view term = util::trim(selector.substr(start, end - start));
    start = end + 1;
    if (term.empty()) {
      continue;
    }
    Term t;
    std::size_t op = term.find("!=");
    std::size_t width = 2;
    t.equal = op == std::string_view::npos;
    if (t.equal) {
      op = term.find("==");
      if (op == std::string_view::npos) {
        op = term.find('=');
        width = 1;
      }
    }
    if (op == std::string_view::npos) {
      return util::fail(util::ErrorKind::invalid_input,
                        "invalid field selector term " + util::quote(term));
    }
    t.field = std::string(util::trim(term.substr(0, op)));
    t.value = std::string(util::trim(term.substr(op + width)));
    if (t.field != "metadata.name" && t.field != "metadata.namespace") {
      return util::fail(util::ErrorKind::invalid_input,
                        "field label " + util::quote(t.field) +
                            " is not supported (supported: metadata.name, metadata.namespace)");
    }
    terms.push_back(std::move(t));
  }
  json value = json::parse(list);
  json kept = json::array();
  for (json& item : value["items"]) {
    bool keep = true;
    for (const Term& t : terms) {
      const std::string key = t.field.substr(9); // after "metadata."
      keep = keep && ((item["metadata"].value(key, "") == t.value) == t.equal);
    }
    if (keep) {
      kept.push_back(std::move(item));
    }
  }
  value["items"] = std::move(kept);
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace common::api::detail
