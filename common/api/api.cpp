#include "common/api/api.hpp"

#include <charconv>
#include <expected>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/openapi.hpp"
#include "common/api/status.hpp"
#include "common/api/yaml_json.hpp"
#include "common/spec/loader.hpp"
#include "common/util/json_depth.hpp"
#include "common/util/outcome.hpp"
#include "common/util/strings.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::api {
namespace {

using nlohmann::json;

constexpr std::string_view k_group = "gitops.kubesphere.io";
constexpr std::string_view k_api_version = "gitops.kubesphere.io/v1alpha1";
constexpr std::string_view k_kind = "ImageUpdater";
constexpr std::string_view k_resource = "imageupdaters";
constexpr std::size_t k_max_depth = 100; // nesting of a JSON body, as the spec loader's bound
constexpr std::size_t k_max_values = 100'000; // values of a body, as the spec loader's nodes

template <class T>
using Answer = std::expected<T, HttpResponse>;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse ok(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = dump(body);
  return r;
}

StatusDetails object_details(const std::string& name) {
  return StatusDetails{name, std::string(k_group), std::string(k_resource), "", {}};
}

std::string qualified(const std::string& name) {
  return std::string(k_resource) + "." + std::string(k_group) + " \"" + name + "\"";
}

HttpResponse bad_request(const std::string& message) {
  return status_response(400, "BadRequest", message);
}

// Store errors with Kubernetes' wording for the kinds clients branch on (the status is the
// table's, util::outcome; the messages and AlreadyExists are the API server's).
HttpResponse store_error(const util::Error& e, const std::string& name, bool creating = false) {
  StatusDetails d = object_details(name);
  const int code = util::outcome(e.kind).http_status;
  if (e.kind == util::ErrorKind::not_found) {
    return status_response(code, "NotFound", qualified(name) + " not found", d);
  }
  if (e.kind == util::ErrorKind::conflict && creating) {
    return status_response(code, "AlreadyExists", qualified(name) + " already exists", d);
  }
  if (e.kind == util::ErrorKind::conflict) {
    return status_response(code, "Conflict",
                           "Operation cannot be fulfilled on " + qualified(name) +
                               ": the object has been modified; please apply your changes to "
                               "the latest version and try again",
                           d);
  }
  return error_response(e, d);
}

// ---- routes ----

enum class RouteKind { none, openapi, list_all, collection, item };

struct Route {
  RouteKind kind = RouteKind::none;
  std::string namespace_;
  std::string name;
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
    if (path.empty()) {
      parts.emplace_back(); // a trailing '/' is an empty segment: no route has one
    }
  }
  return parts;
}

Route match(std::string_view path) {
  if (path == k_openapi_path) {
    return {RouteKind::openapi, "", ""};
  }
  if (!path.starts_with(k_api_prefix) || path.size() == k_api_prefix.size() ||
      path[k_api_prefix.size()] != '/') {
    return {};
  }
  auto parts = split_path(path.substr(k_api_prefix.size() + 1));
  if (parts.size() == 1 && parts[0] == k_resource) {
    return {RouteKind::list_all, "", ""};
  }
  if ((parts.size() == 3 || parts.size() == 4) && parts[0] == "namespaces" && !parts[1].empty() &&
      parts[2] == k_resource) {
    if (parts.size() == 3) {
      return {RouteKind::collection, std::string(parts[1]), ""};
    }
    if (!parts[3].empty()) {
      return {RouteKind::item, std::string(parts[1]), std::string(parts[3])};
    }
  }
  return {};
}

std::string allowed(RouteKind kind) {
  switch (kind) {
  case RouteKind::collection:
    return "GET, POST";
  case RouteKind::item:
    return "DELETE, GET, PUT";
  default:
    return "GET";
  }
}

bool method_allowed(RouteKind kind, const std::string& method) {
  if (method == "GET") {
    return true;
  }
  return (kind == RouteKind::collection && method == "POST") ||
         (kind == RouteKind::item && (method == "PUT" || method == "DELETE"));
}

// ---- bodies ----

Answer<json> decode_body(const HttpRequest& request, const Options& options) {
  if (request.body.size() > options.max_body_bytes) {
    return std::unexpected(status_response(
        413, "RequestEntityTooLarge",
        "the request body is " + std::to_string(request.body.size()) +
            " bytes, more than the limit of " + std::to_string(options.max_body_bytes)));
  }
  if (util::trim(request.body).empty()) {
    return std::unexpected(bad_request("the request body is empty (want an ImageUpdater)"));
  }
  std::string type = request.header("Content-Type");
  type = util::to_lower(util::trim(std::string_view(type).substr(0, type.find(';'))));
  if (type != "application/json" && type != "application/yaml") {
    return std::unexpected(
        status_response(415, "UnsupportedMediaType",
                        "the body's media type " + util::quote(type) +
                            " is not supported (supported: application/json, application/yaml)"));
  }
  std::string text = request.body;
  if (type == "application/yaml") {
    // yaml-cpp's scanner spends memory on every open flow collection before its events reach
    // the bounded converter (a 1 MiB body of '[' cost ~250 MB); the position-keeping scanner
    // checks depth and node count first, in bounded memory.
    yamlscan::Scanner screen(text, yamlscan::Limits{k_max_depth, 100'000});
    for (;;) {
      auto doc = screen.next();
      if (!doc) {
        return std::unexpected(bad_request("invalid YAML: " + doc.error().message));
      }
      if (!*doc) {
        break;
      }
    }
    auto converted = detail::yaml_to_json(text, {100'000, k_max_depth});
    if (!converted) {
      return std::unexpected(bad_request(converted.error().message));
    }
    text = std::move(*converted);
  }
  // A tree costs memory per value: bounded before it is built (a 1 MiB body of "1," would be
  // half a million nodes), like the nesting below.
  if (util::json_values(text, k_max_values) > k_max_values) {
    return std::unexpected(
        bad_request("invalid JSON: more than " + std::to_string(k_max_values) + " values"));
  }
  // Deeper nesting than the bound is refused before nlohmann's parser and dump recurse.
  if (util::json_nesting(text, k_max_depth) > k_max_depth) {
    return std::unexpected(
        bad_request("invalid JSON: more than " + std::to_string(k_max_depth) + " nested values"));
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return std::unexpected(bad_request(std::string("invalid JSON: ") + e.what()));
  }
}

// A string member of an object, "" when absent, nullopt when present but not a string.
std::optional<std::string> string_member(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::map<std::string, std::string> string_map(const json& metadata, const char* key) {
  std::map<std::string, std::string> out;
  auto it = metadata.find(key);
  if (it != metadata.end() && it->is_object()) {
    for (auto m = it->begin(); m != it->end(); ++m) {
      if (m.value().is_string()) {
        out.emplace(m.key(), m.value().get<std::string>());
      }
    }
  }
  return out;
}

struct Validated {
  store::Object object;
  std::vector<std::string> warnings;
};

// Fills apiVersion, kind, metadata.namespace (and, on PUT, metadata.name) from the request,
// refuses contradictions (400), then validates with the spec model (422, every problem).
Answer<Validated> validate_body(json body, const std::string& namespace_,
                                const std::string* path_name) {
  if (!body.is_object()) {
    return std::unexpected(bad_request("the body must be an object (an ImageUpdater)"));
  }
  auto api_version = string_member(body, "apiVersion");
  if (!api_version || (!api_version->empty() && *api_version != k_api_version)) {
    return std::unexpected(
        bad_request("apiVersion must be \"" + std::string(k_api_version) + "\" on this endpoint"));
  }
  auto kind = string_member(body, "kind");
  if (!kind || (!kind->empty() && *kind != k_kind)) {
    return std::unexpected(
        bad_request("kind must be \"" + std::string(k_kind) + "\" on this endpoint"));
  }
  body["apiVersion"] = k_api_version;
  body["kind"] = k_kind;
  json& metadata = body["metadata"];
  if (metadata.is_null()) {
    metadata = json::object();
  }
  if (!metadata.is_object()) {
    return std::unexpected(bad_request("metadata must be an object"));
  }
  auto body_namespace = string_member(metadata, "namespace");
  if (!body_namespace || (!body_namespace->empty() && *body_namespace != namespace_)) {
    return std::unexpected(bad_request(
        "the namespace of the provided object does not match the namespace sent on the request"));
  }
  metadata["namespace"] = namespace_;
  auto body_name = string_member(metadata, "name");
  if (path_name != nullptr) {
    if (!body_name || (!body_name->empty() && *body_name != *path_name)) {
      return std::unexpected(bad_request("the name of the object does not match the name on the "
                                         "URL (" +
                                         util::quote(*path_name) + ")"));
    }
    metadata["name"] = *path_name;
  }

  // What is stored is what was validated: the JSON text, not the client's bytes.
  std::vector<Cause> causes;
  Validated out;
  if (!body_name) {
    causes.push_back({"metadata.name", "FieldValueInvalid", "must be a string"});
  }
  for (const char* section : {"labels", "annotations"}) {
    const std::string field = std::string("metadata.") + section;
    auto it = metadata.find(section);
    if (it == metadata.end() || it->is_null()) {
      continue;
    }
    if (!it->is_object()) {
      causes.push_back({field, "FieldValueInvalid", "must be a map of strings to strings"});
      continue;
    }
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) {
        causes.push_back(
            {field, "FieldValueInvalid", "key " + util::quote(k) + ": the value must be a string"});
      }
    }
  }
  spec::LoadResult loaded = spec::parse_stream(dump(body), "request body");
  for (const spec::Diagnostic& d : loaded.diagnostics) {
    if (d.severity == spec::Severity::error) {
      causes.push_back({d.field, "FieldValueInvalid", d.message});
    } else {
      out.warnings.push_back(d.field.empty() ? d.message : d.field + ": " + d.message);
    }
  }
  if (loaded.updaters.empty() && causes.empty()) {
    causes.push_back({"", "FieldValueInvalid", "the body is not an ImageUpdater"});
  }
  for (const char* section : {"labels", "annotations"}) {
    std::string field = std::string("metadata.") + section;
    for (const auto& [k, v] : string_map(metadata, section)) {
      if (std::string why = check_label_key(k); !why.empty()) {
        causes.push_back({field, "FieldValueInvalid", why});
      }
      if (std::string why = check_label_value(v); section[0] == 'l' && !why.empty()) {
        causes.push_back({field, "FieldValueInvalid", "key " + util::quote(k) + ": " + why});
      }
    }
  }
  auto resource_version = string_member(metadata, "resourceVersion");
  if (!resource_version) {
    causes.push_back({"metadata.resourceVersion", "FieldValueInvalid", "must be a string"});
  } else if (path_name != nullptr && resource_version->empty()) {
    causes.push_back(
        {"metadata.resourceVersion", "FieldValueRequired", "must be specified for an update"});
  }
  std::string name = body_name.value_or("");
  if (path_name != nullptr) {
    name = *path_name;
  }
  if (!causes.empty()) {
    std::string message =
        std::string(k_kind) + "." + std::string(k_group) + " \"" + name + "\" is invalid: ";
    for (std::size_t i = 0; i < causes.size(); ++i) {
      message += (i ? ", " : "") + (causes[i].field.empty() ? "" : causes[i].field + ": ") +
                 causes[i].message;
    }
    StatusDetails d{name, std::string(k_group), std::string(k_kind), "", std::move(causes)};
    return std::unexpected(status_response(422, "Invalid", message, d));
  }

  store::Object& o = out.object;
  o.key = {namespace_, name};
  o.labels = string_map(metadata, "labels");
  o.annotations = string_map(metadata, "annotations");
  if (path_name != nullptr) {
    o.resource_version = resource_version.value_or("");
  }
  auto spec = body.find("spec");
  o.spec_json = spec == body.end() ? "{}" : dump(*spec);
  o.status_json = "{}";
  return out;
}

void add_warnings(HttpResponse& r, const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) {
    r.headers.emplace_back("Warning", "299 - " + util::quote(w, 500));
  }
}

// ---- objects ----

json parse_stored(const std::string& text) {
  if (text.empty()) {
    return json::object();
  }
  return json::parse(text); // the API wrote it; a failure is a 500 (caught in handle)
}

json to_json(const store::Object& o) {
  json metadata = {{"name", o.key.name},
                   {"namespace", o.key.namespace_},
                   {"uid", o.uid},
                   {"resourceVersion", o.resource_version},
                   {"generation", o.generation},
                   {"creationTimestamp", o.creation_timestamp}};
  if (!o.labels.empty()) {
    metadata["labels"] = o.labels;
  }
  if (!o.annotations.empty()) {
    metadata["annotations"] = o.annotations;
  }
  return json{{"apiVersion", k_api_version},
              {"kind", k_kind},
              {"metadata", std::move(metadata)},
              {"spec", parse_stored(o.spec_json)},
              {"status", parse_stored(o.status_json)}};
}

std::optional<std::size_t> parse_limit(const std::string& text) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return n;
}

} // namespace

ImageUpdaterApi::ImageUpdaterApi(store::Store& store, util::Clock& clock, Options options)
    : m_store(store), m_clock(clock), m_options(std::move(options)) {
  if (!m_options.parse_selector) {
    m_options.parse_selector = [](std::string_view text) { return store::parse_selector(text); };
  }
  if (m_options.max_list_limit == 0) {
    m_options.max_list_limit = 1000;
  }
}

std::string ImageUpdaterApi::route_of(const HttpRequest& request) {
  Route route = match(request.path);
  std::string prefix = request.method + " " + std::string(k_api_prefix);
  switch (route.kind) {
  case RouteKind::openapi:
    return request.method + " " + std::string(k_openapi_path);
  case RouteKind::list_all:
    return prefix + "/imageupdaters";
  case RouteKind::collection:
    return prefix + "/namespaces/{namespace}/imageupdaters";
  case RouteKind::item:
    return prefix + "/namespaces/{namespace}/imageupdaters/{name}";
  case RouteKind::none:
    break;
  }
  return "";
}

util::Result<std::string> yaml_document_to_json(std::string_view text) {
  return detail::yaml_to_json(text, {100'000, k_max_depth});
}

void ImageUpdaterApi::notify(const store::Key& key) const {
  if (m_options.on_change) {
    m_options.on_change(key);
  }
}

namespace {

// What is decided before the body: the route exists, allows the method, and the caller may use
// it (Options::authorize, which may name the principal). nullopt = go on.
std::optional<HttpResponse> admission(const Options& options, const HttpRequest& request,
                                      const Route& route, std::string& principal) {
  if (route.kind == RouteKind::none) {
    return status_response(404, "NotFound", "the server could not find the requested resource");
  }
  if (!method_allowed(route.kind, request.method)) {
    HttpResponse r = status_response(405, "MethodNotAllowed",
                                     "the method " + util::quote(request.method, 20) +
                                         " is not allowed on " + util::quote(request.path));
    r.headers.emplace_back("Allow", allowed(route.kind));
    return r;
  }
  if (route.kind == RouteKind::openapi || !options.authorize) {
    return std::nullopt;
  }
  const bool write = request.method != "GET" && request.method != "HEAD";
  if (auto denied = options.authorize(request, route.namespace_, write, principal)) {
    denied->principal = principal;
    return denied;
  }
  return std::nullopt;
}

} // namespace

std::optional<HttpResponse> ImageUpdaterApi::precheck(const HttpRequest& request) {
  std::string principal;
  return admission(m_options, request, match(request.path), principal);
}

HttpResponse ImageUpdaterApi::handle(const HttpRequest& request) {
  try {
    Route route = match(request.path);
    std::string principal;
    if (auto stop = admission(m_options, request, route, principal)) {
      return std::move(*stop);
    }
    if (route.kind == RouteKind::openapi) {
      HttpResponse r;
      r.body = openapi_document();
      return r;
    }
    HttpResponse r = [&]() -> HttpResponse {
      if (route.kind == RouteKind::list_all) {
        return list(request, "");
      }
      if (std::string why = check_dns1123_label(route.namespace_); !why.empty()) {
        return bad_request("invalid namespace in the path: " + why);
      }
      if (route.kind == RouteKind::collection) {
        return request.method == "POST" ? create(request, route.namespace_)
                                        : list(request, route.namespace_);
      }
      if (std::string why = check_dns1123_subdomain(route.name); !why.empty()) {
        return bad_request("invalid name in the path: " + why);
      }
      if (request.method == "PUT") {
        return replace(request, route.namespace_, route.name);
      }
      if (request.method == "DELETE") {
        return remove(request, route.namespace_, route.name);
      }
      return get(route.namespace_, route.name);
    }();
    r.principal = std::move(principal);
    return r;
  } catch (const std::exception& e) {
    return status_response(500, "InternalError", std::string("internal error: ") + e.what());
  }
}

HttpResponse ImageUpdaterApi::list(const HttpRequest& request, const std::string& namespace_) {
  store::ListOptions options;
  options.limit = m_options.max_list_limit;
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    auto limit = parse_limit(it->second);
    if (!limit) {
      return bad_request("limit " + util::quote(it->second) + " is not a non-negative integer");
    }
    if (*limit != 0 && *limit < options.limit) {
      options.limit = *limit;
    }
  }
  if (auto it = request.query.find("continue"); it != request.query.end()) {
    options.continue_token = it->second;
  }
  if (auto it = request.query.find("labelSelector"); it != request.query.end()) {
    auto selector = m_options.parse_selector(it->second);
    if (!selector) {
      return bad_request("invalid labelSelector " + util::quote(it->second) + ": " +
                         selector.error().message);
    }
    options.selector = std::move(*selector);
  }
  auto page = m_store.list(namespace_, options);
  if (!page) {
    return error_response(page.error());
  }
  json items = json::array();
  for (const store::Object& o : page->items) {
    items.push_back(to_json(o));
  }
  json metadata = {{"resourceVersion", page->resource_version}};
  if (!page->continue_token.empty()) {
    metadata["continue"] = page->continue_token;
  }
  return ok(200, json{{"apiVersion", k_api_version},
                      {"kind", "ImageUpdaterList"},
                      {"metadata", std::move(metadata)},
                      {"items", std::move(items)}});
}

HttpResponse ImageUpdaterApi::create(const HttpRequest& request, const std::string& namespace_) {
  auto body = decode_body(request, m_options);
  if (!body) {
    return std::move(body.error());
  }
  auto valid = validate_body(std::move(*body), namespace_, nullptr);
  if (!valid) {
    return std::move(valid.error());
  }
  std::string name = valid->object.key.name;
  auto created = m_store.create(std::move(valid->object));
  if (!created) {
    return store_error(created.error(), name, /*creating=*/true);
  }
  notify(created->key);
  HttpResponse r = ok(201, to_json(*created));
  add_warnings(r, valid->warnings);
  return r;
}

HttpResponse ImageUpdaterApi::get(const std::string& namespace_, const std::string& name) {
  auto found = m_store.get({namespace_, name});
  if (!found) {
    return store_error(found.error(), name);
  }
  return ok(200, to_json(*found));
}

HttpResponse ImageUpdaterApi::replace(const HttpRequest& request, const std::string& namespace_,
                                      const std::string& name) {
  auto body = decode_body(request, m_options);
  if (!body) {
    return std::move(body.error());
  }
  auto valid = validate_body(std::move(*body), namespace_, &name);
  if (!valid) {
    return std::move(valid.error());
  }
  // The store replaces spec, labels and annotations only: the client's status never reaches it.
  auto replaced = m_store.replace(valid->object);
  if (!replaced) {
    return store_error(replaced.error(), name);
  }
  notify(replaced->key);
  HttpResponse r = ok(200, to_json(*replaced));
  add_warnings(r, valid->warnings);
  return r;
}

HttpResponse ImageUpdaterApi::remove(const HttpRequest& request, const std::string& namespace_,
                                     const std::string& name) {
  std::string precondition;
  if (!util::trim(request.body).empty()) {
    auto body = decode_body(request, m_options);
    if (!body) {
      return std::move(body.error());
    }
    if (!body->is_object()) {
      return bad_request("the body must be a DeleteOptions object");
    }
    auto pre = body->find("preconditions");
    if (pre != body->end() && !pre->is_null()) {
      auto version = pre->is_object() ? string_member(*pre, "resourceVersion") : std::nullopt;
      if (!version) {
        return bad_request("preconditions.resourceVersion must be a string");
      }
      precondition = *version;
    }
  }
  auto found = m_store.get({namespace_, name});
  if (!found) {
    return store_error(found.error(), name);
  }
  if (auto removed = m_store.remove({namespace_, name}, precondition); !removed) {
    return store_error(removed.error(), name);
  }
  notify(found->key);
  StatusDetails d = object_details(name);
  d.uid = found->uid;
  return success_response(d);
}

} // namespace common::api
