#include "common/api/api.hpp"

#include <charconv>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/kube.hpp"
#include "common/api/openapi.hpp"
#include "common/api/status.hpp"
#include "common/api/writes.hpp"
#include "common/api/yaml_json.hpp"
#include "common/http/client.hpp"
#include "common/util/outcome.hpp"
#include "common/util/strings.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::api {
namespace {

using nlohmann::json;

constexpr std::size_t k_max_depth = detail::k_max_json_depth;

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

HttpResponse bad_request(const std::string& message) {
  return status_response(400, "BadRequest", message);
}

// The one place where a refused write (or a failed read of an object) becomes an HTTP answer:
// an object that is invalid is 422 Invalid with its causes, a conflict on create 409
// AlreadyExists, any other kind error_response's status with the object named in details. A
// request that could not be read as an object gets no details.
HttpResponse rejection_response(const Rejection& r, bool creating = false,
                                bool callers_credentials = false) {
  if (!r.name) {
    return error_response(r.error, {}, callers_credentials);
  }
  if (r.error.kind == util::ErrorKind::invalid_input && !r.causes.empty()) {
    StatusDetails d{*r.name, std::string(k_group), std::string(k_kind), "", r.causes};
    return status_response(422, "Invalid", r.error.message, d);
  }
  StatusDetails d = object_details(*r.name);
  if (r.error.kind == util::ErrorKind::conflict && creating) {
    return status_response(409, "AlreadyExists", r.error.message, d);
  }
  return error_response(r.error, d, callers_credentials);
}

// ---- routes ----

enum class RouteKind { none, openapi, document, list_all, collection, item };

struct Route {
  RouteKind kind = RouteKind::none;
  std::string namespace_;
  std::string name;
  std::string_view prefix = k_api_prefix; // which of the two the path used
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
    return {RouteKind::openapi, "", "", {}};
  }
  if (detail::is_kube_document(path)) {
    return {RouteKind::document, "", "", {}};
  }
  std::string_view prefix = path.starts_with(k_api_prefix) ? k_api_prefix : k_kube_prefix;
  if (!path.starts_with(prefix) || path.size() == prefix.size() || path[prefix.size()] != '/') {
    return {};
  }
  auto parts = split_path(path.substr(prefix.size() + 1));
  if (parts.size() == 1 && parts[0] == k_resource) {
    return {RouteKind::list_all, "", "", prefix};
  }
  if ((parts.size() == 3 || parts.size() == 4) && parts[0] == "namespaces" && !parts[1].empty() &&
      parts[2] == k_resource) {
    if (parts.size() == 3) {
      return {RouteKind::collection, std::string(parts[1]), "", prefix};
    }
    if (!parts[3].empty()) {
      return {RouteKind::item, std::string(parts[1]), std::string(parts[3]), prefix};
    }
  }
  return {};
}

std::string allowed(RouteKind kind) {
  switch (kind) {
  case RouteKind::collection:
    return "GET, POST";
  case RouteKind::item:
    return "DELETE, GET, PATCH, PUT";
  default:
    return "GET";
  }
}

bool method_allowed(RouteKind kind, const std::string& method) {
  if (method == "GET") {
    return true;
  }
  return (kind == RouteKind::collection && method == "POST") ||
         (kind == RouteKind::item && (method == "PUT" || method == "PATCH" || method == "DELETE"));
}

// ---- bodies ----

// The body as JSON text: size, emptiness and media type checked, YAML converted (screened first).
Answer<std::string> body_text(const HttpRequest& request, const Options& options) {
  if (request.body.size() > options.max_body_bytes) {
    return std::unexpected(status_response(
        413, "RequestEntityTooLarge",
        "the request body is " + std::to_string(request.body.size()) +
            " bytes, more than the limit of " + std::to_string(options.max_body_bytes)));
  }
  if (util::trim(request.body).empty()) {
    return std::unexpected(bad_request("the request body is empty (want an ImageUpdater)"));
  }
  std::string type = http::media_type(request.header("Content-Type"));
  if (type.empty()) {
    // kube-apiserver reads a body without a type as JSON (`kubectl create --raw` sends none);
    // a body that cannot start JSON text is read as YAML, so that a manifest file works too.
    const std::string_view head = util::trim(request.body);
    type = head.starts_with('{') || head.starts_with('[') ? "application/json" : "application/yaml";
  }
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
  return text;
}

// A DeleteOptions body (the object refusals are the Writes service's).
Answer<json> parse_body(const HttpRequest& request, const Options& options) {
  auto text = body_text(request, options);
  if (!text) {
    return std::unexpected(std::move(text.error()));
  }
  if (auto bounded = detail::check_json_bounds(*text); !bounded) {
    return std::unexpected(bad_request(bounded.error().message));
  }
  try {
    return json::parse(*text);
  } catch (const json::exception& e) {
    return std::unexpected(bad_request(std::string("invalid JSON: ") + e.what()));
  }
}

// kubectl's default fieldValidation=Strict: fields the CRD's schema does not declare are a 400,
// as kube-apiserver's strict decoding answers (Warn, Ignore or none: the spec model's warnings).
std::optional<HttpResponse> strict_refusal(const HttpRequest& request, const std::string& text) {
  auto it = request.query.find("fieldValidation");
  if (it == request.query.end() || it->second != "Strict") {
    return std::nullopt;
  }
  auto unknown = detail::unknown_fields(text);
  if (unknown.empty()) {
    return std::nullopt;
  }
  std::string message = "strict decoding error: ";
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    message += (i == 0 ? "" : ", ") + std::string("unknown field ") + util::quote(unknown[i]);
  }
  return bad_request(message);
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
    : m_store(store), m_clock(clock), m_options(std::move(options)),
      m_writes(store, m_options.on_change) {
  if (!m_options.parse_selector) {
    m_options.parse_selector = [](std::string_view text) { return store::parse_selector(text); };
  }
  if (m_options.max_list_limit == 0) {
    m_options.max_list_limit = 1000;
  }
}

std::string ImageUpdaterApi::route_of(const HttpRequest& request) {
  Route route = match(request.path);
  std::string prefix = request.method + " " + std::string(route.prefix);
  switch (route.kind) {
  case RouteKind::openapi:
    return request.method + " " + std::string(k_openapi_path);
  case RouteKind::document:
    // One of a fixed few (namespaces by template: no path value becomes a metrics label).
    return request.method + " " +
           (request.path.starts_with("/api/v1/namespaces/") ? "/api/v1/namespaces/{name}"
                                                            : request.path);
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
  if (route.kind == RouteKind::openapi || route.kind == RouteKind::document || !options.authorize) {
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
    if (route.kind == RouteKind::document) {
      return *detail::kube_document(request.path);
    }
    if (request.query.contains("dryRun")) {
      return bad_request("dryRun is not supported by this API");
    }
    // This request's store: the API's own, or the caller's (Options::store_for).
    std::shared_ptr<store::Store> caller_store;
    std::optional<Writes> caller_writes;
    Backend b{&m_store, &m_writes};
    if (m_options.store_for) {
      auto chosen = m_options.store_for(request);
      if (!chosen) {
        const util::Outcome& o = util::outcome(chosen.error().kind);
        return status_response(o.http_status, std::string(o.http_reason), chosen.error().message);
      }
      caller_store = std::move(*chosen);
      caller_writes.emplace(*caller_store, m_options.on_change);
      b.store = caller_store.get();
      b.writes = &*caller_writes;
      b.callers = true;
    }
    HttpResponse r = [&]() -> HttpResponse {
      if (route.kind == RouteKind::list_all) {
        return list(b, request, "");
      }
      if (std::string why = check_dns1123_label(route.namespace_); !why.empty()) {
        return bad_request("invalid namespace in the path: " + why);
      }
      if (route.kind == RouteKind::collection) {
        return request.method == "POST" ? create(b, request, route.namespace_)
                                        : list(b, request, route.namespace_);
      }
      if (std::string why = check_dns1123_subdomain(route.name); !why.empty()) {
        return bad_request("invalid name in the path: " + why);
      }
      if (request.method == "PUT") {
        return replace(b, request, route.namespace_, route.name);
      }
      if (request.method == "PATCH") {
        return patch(b, request, route.namespace_, route.name);
      }
      if (request.method == "DELETE") {
        return remove(b, request, route.namespace_, route.name);
      }
      return get(b, route.namespace_, route.name);
    }();
    r.principal = std::move(principal);
    return negotiated(request, std::move(r));
  } catch (const std::exception& e) {
    return status_response(500, "InternalError", std::string("internal error: ") + e.what());
  }
}

HttpResponse ImageUpdaterApi::list(Backend& b, const HttpRequest& request,
                                   const std::string& namespace_) {
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
  if (auto it = request.query.find("watch");
      it != request.query.end() && (it->second == "true" || it->second == "1")) {
    HttpResponse r = status_response(405, "MethodNotAllowed",
                                     "watch is not supported by this API: list again instead");
    r.headers.emplace_back("Allow", allowed(RouteKind::collection));
    return r;
  }
  std::string field_selector;
  if (auto it = request.query.find("fieldSelector"); it != request.query.end()) {
    field_selector = it->second;
  }
  auto page = b.store->list(namespace_, options);
  if (!page) {
    return error_response(page.error(), {}, b.callers);
  }
  json items = json::array();
  for (const store::Object& o : page->items) {
    items.push_back(to_json(o));
  }
  json metadata = {{"resourceVersion", page->resource_version}};
  if (!page->continue_token.empty()) {
    metadata["continue"] = page->continue_token;
  }
  HttpResponse r = ok(200, json{{"apiVersion", k_api_version},
                                {"kind", "ImageUpdaterList"},
                                {"metadata", std::move(metadata)},
                                {"items", std::move(items)}});
  if (!field_selector.empty()) {
    // After the page: a page may hold fewer items than the limit, as kube-apiserver's may.
    auto kept = detail::filter_by_fields(r.body, field_selector);
    if (!kept) {
      return bad_request("invalid fieldSelector " + util::quote(field_selector) + ": " +
                         kept.error().message);
    }
    r.body = std::move(*kept);
  }
  return r;
}

HttpResponse ImageUpdaterApi::create(Backend& b, const HttpRequest& request,
                                     const std::string& namespace_) {
  auto body = body_text(request, m_options);
  if (!body) {
    return std::move(body.error());
  }
  if (auto refused = strict_refusal(request, *body)) {
    return std::move(*refused);
  }
  auto created = b.writes->create(namespace_, *body);
  if (!created) {
    return rejection_response(created.error(), /*creating=*/true, b.callers);
  }
  HttpResponse r = ok(201, to_json(created->object));
  add_warnings(r, created->warnings);
  return r;
}

HttpResponse ImageUpdaterApi::get(Backend& b, const std::string& namespace_,
                                  const std::string& name) {
  auto found = b.store->get({namespace_, name});
  if (!found) {
    return rejection_response(store_failure(found.error(), name), false, b.callers);
  }
  return ok(200, to_json(*found));
}

HttpResponse ImageUpdaterApi::replace(Backend& b, const HttpRequest& request,
                                      const std::string& namespace_, const std::string& name) {
  auto body = body_text(request, m_options);
  if (!body) {
    return std::move(body.error());
  }
  if (auto refused = strict_refusal(request, *body)) {
    return std::move(*refused);
  }
  auto replaced = b.writes->replace(namespace_, name, *body);
  if (!replaced) {
    return rejection_response(replaced.error(), false, b.callers);
  }
  HttpResponse r = ok(200, to_json(replaced->object));
  add_warnings(r, replaced->warnings);
  return r;
}

HttpResponse ImageUpdaterApi::remove(Backend& b, const HttpRequest& request,
                                     const std::string& namespace_, const std::string& name) {
  std::string precondition;
  if (!util::trim(request.body).empty()) {
    auto body = parse_body(request, m_options);
    if (!body) {
      return std::move(body.error());
    }
    if (!body->is_object()) {
      return bad_request("the body must be a DeleteOptions object");
    }
    auto pre = body->find("preconditions");
    if (pre != body->end() && !pre->is_null()) {
      const json* version = nullptr;
      if (pre->is_object()) {
        auto it = pre->find("resourceVersion");
        version = it == pre->end() ? nullptr : &*it;
      }
      if (!pre->is_object() ||
          (version != nullptr && !version->is_null() && !version->is_string())) {
        return bad_request("preconditions.resourceVersion must be a string");
      }
      if (version != nullptr && version->is_string()) {
        precondition = version->get<std::string>();
      }
    }
  }
  auto removed = b.writes->remove({namespace_, name}, precondition);
  if (!removed) {
    return rejection_response(removed.error(), false, b.callers);
  }
  StatusDetails d = object_details(name);
  d.uid = removed->uid;
  return success_response(d);
}

HttpResponse ImageUpdaterApi::patch(Backend& b, const HttpRequest& request,
                                    const std::string& namespace_, const std::string& name) {
  const std::string type = http::media_type(request.header("Content-Type"));
  const detail::PatchType patch_type = detail::patch_type(type);
  if (patch_type == detail::PatchType::unsupported) {
    return status_response(415, "UnsupportedMediaType",
                           "the patch type " + util::quote(type) +
                               " is not supported (supported: application/merge-patch+json, "
                               "application/json-patch+json)");
  }
  if (request.body.size() > m_options.max_body_bytes) {
    return status_response(413, "RequestEntityTooLarge",
                           "the request body is " + std::to_string(request.body.size()) +
                               " bytes, more than the limit of " +
                               std::to_string(m_options.max_body_bytes));
  }
  if (util::trim(request.body).empty()) {
    return bad_request("the request body is empty (want a patch)");
  }
  if (auto bounded = detail::check_json_bounds(request.body); !bounded) {
    return bad_request(bounded.error().message);
  }
  if (json::parse(request.body, nullptr, false).is_discarded()) {
    return bad_request("the patch is not valid JSON");
  }
  // A patch is applied to the stored object and written over its resourceVersion; when another
  // write comes between, the patch is applied again to the new version (as kube-apiserver
  // does), unless the patch itself names the resourceVersion it was made for.
  constexpr int k_attempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto found = b.store->get({namespace_, name});
    if (!found) {
      return rejection_response(store_failure(found.error(), name), false, b.callers);
    }
    auto patched = detail::apply_patch(patch_type, dump(to_json(*found)), request.body);
    if (!patched) {
      return status_response(422, "Invalid", patched.error().message, object_details(name));
    }
    if (auto refused = strict_refusal(request, *patched)) {
      return std::move(*refused);
    }
    auto replaced = b.writes->replace(namespace_, name, *patched);
    if (!replaced) {
      const bool own_version =
          json::parse(*patched)["metadata"].value("resourceVersion", "") == found->resource_version;
      if (replaced.error().error.kind == util::ErrorKind::conflict && own_version &&
          attempt < k_attempts) {
        continue;
      }
      return rejection_response(replaced.error(), false, b.callers);
    }
    HttpResponse r = ok(200, to_json(replaced->object));
    add_warnings(r, replaced->warnings);
    return r;
  }
}

HttpResponse ImageUpdaterApi::negotiated(const HttpRequest& request, HttpResponse r) const {
  if (r.status < 200 || r.status >= 300 || r.content_type != "application/json") {
    return r;
  }
  switch (detail::negotiate(request.header("Accept"))) {
  case detail::Output::json:
    break;
  case detail::Output::yaml:
    r.content_type = "application/yaml";
    r.body = detail::json_to_yaml(r.body);
    break;
  case detail::Output::table:
    if (request.method == "GET") {
      r.body = detail::to_table(r.body, m_clock.now());
    }
    break;
  }
  return r;
}

} // namespace common::api
