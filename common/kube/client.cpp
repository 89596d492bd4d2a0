#include "common/kube/client.hpp"

#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/poco_client.hpp"
#include "common/http/url.hpp"
#include "common/kube/watch_stream.hpp"
#include "common/util/try.hpp"

namespace common::kube {
namespace {

using util::ErrorKind;
using Json = nlohmann::json;
using Query = std::vector<std::pair<std::string, std::string>>;

// A Status without a code (some watch ERROR events) maps by its reason.
std::optional<int> code_of_reason(std::string_view reason) {
  static constexpr std::pair<std::string_view, int> k_reasons[] = {
      {"NotFound", 404},
      {"AlreadyExists", 409},
      {"Conflict", 409},
      {"Gone", 410},
      {"Expired", 410},
      {"Unauthorized", 401},
      {"Forbidden", 403},
      {"Invalid", 422},
      {"BadRequest", 400},
      {"MethodNotAllowed", 405},
      {"NotAcceptable", 406},
      {"UnsupportedMediaType", 415},
      {"RequestEntityTooLarge", 413},
      {"TooManyRequests", 429},
      {"ServerTimeout", 500},
      {"Timeout", 504},
      {"InternalError", 500},
      {"ServiceUnavailable", 503},
  };
  for (const auto& [name, code] : k_reasons) {
    if (name == reason) {
      return code;
    }
  }
  return std::nullopt;
}

ErrorKind kind_of(int code) {
  switch (code) {
  case 404:
    return ErrorKind::not_found;
  case 409:
    return ErrorKind::conflict;
  case 410:
    return ErrorKind::gone;
  case 401:
  case 403:
    return ErrorKind::auth;
  case 413:
    return ErrorKind::too_large;
  case 429:
    return ErrorKind::transient;
  case 405:
  case 406:
  case 415:
    return ErrorKind::unsupported;
  default:
    break;
  }
  if (code >= 500) {
    return ErrorKind::transient;
  }
  if (code >= 400) {
    return ErrorKind::invalid_input; // 400, 422 and the rest of the client errors
  }
  return ErrorKind::internal; // 3xx: redirects are never followed
}

void add_write_options(Query& query, const WriteOptions& options, bool apply) {
  if (!options.field_manager.empty()) {
    query.emplace_back("fieldManager", options.field_manager);
  }
  if (apply && options.force) {
    query.emplace_back("force", "true");
  }
  if (options.dry_run) {
    query.emplace_back("dryRun", "All");
  }
}

std::string_view content_type_of(PatchType type) {
  switch (type) {
  case PatchType::merge:
    return "application/merge-patch+json";
  case PatchType::json:
    return "application/json-patch+json";
  case PatchType::apply:
    return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

util::Result<ListPage> parse_list(const std::string& body, const std::string& path) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::exception&) {
    return util::fail(ErrorKind::internal, "list " + path + ": the answer is not JSON");
  }
  if (!j.is_object()) {
    return util::fail(ErrorKind::internal, "list " + path + ": the answer is not an object");
  }
  ListPage page;
  const std::string api_version = j.value("apiVersion", "");
  std::string kind = j.value("kind", "");
  if (kind.ends_with("List")) {
    kind.resize(kind.size() - 4);
  }
  if (const auto metadata = j.find("metadata"); metadata != j.end() && metadata->is_object()) {
    page.resource_version = metadata->value("resourceVersion", "");
    page.continue_token = metadata->value("continue", "");
  }
  if (const auto items = j.find("items"); items != j.end() && items->is_array()) {
    page.items.reserve(items->size());
    for (auto& item : *items) {
      if (item.is_object()) {
        if (!item.contains("apiVersion") && !api_version.empty()) {
          item["apiVersion"] = api_version;
        }
        if (!item.contains("kind") && !kind.empty()) {
          item["kind"] = kind;
        }
      }
      page.items.push_back(item.dump());
    }
  }
  return page;
}

} // namespace

util::Error status_error(int http_status, std::string_view body, std::string_view method,
                         std::string_view path) {
  int code = http_status;
  std::string message;
  try {
    const Json j = Json::parse(body);
    if (j.is_object() && j.value("kind", "") == "Status") {
      message = j.value("message", "");
      const auto c = j.find("code");
      if (c != j.end() && c->is_number_integer() && c->get<int>() > 0) {
        code = c->get<int>();
      } else if (auto by_reason = code_of_reason(j.value("reason", ""))) {
        code = *by_reason;
      }
    }
  } catch (const Json::exception&) {
    // Not a Status (a proxy's HTML page, plain text): the generic message below.
  }
  if (message.empty()) {
    message =
        "HTTP " + std::to_string(code) + " from " + std::string(method) + " " + std::string(path);
  }
  return util::Error(kind_of(code), std::move(message));
}

struct Client::Shared {
  std::shared_ptr<http::Client> http;
  std::string server;
  std::string default_namespace;
  ClientOptions options;
  RateLimiter limiter;

  Shared(std::shared_ptr<http::Client> http_, const Config& config, util::Clock& clock,
         ClientOptions options_)
      : http(std::move(http_)), server(config.server), default_namespace(config.namespace_),
        options(std::move(options_)), limiter(options.qps, options.burst, clock) {
    while (!server.empty() && server.back() == '/') {
      server.pop_back();
    }
  }
};

util::Result<std::unique_ptr<Client>> Client::create(const Config& config,
                                                     credentials::Environment& env,
                                                     util::Clock& clock, ClientOptions options) {
  auto url = http::parse_url(config.server);
  if (!url) {
    return util::fail(ErrorKind::invalid_input,
                      "Kubernetes server of " + config.source + ": " + url.error().message);
  }
  http::ClientOptions http_options;
  http_options.user_agent = options.user_agent;
  if (url->scheme == "https") {
    http::TlsOptions tls;
    tls.ca_file = config.ca_file;
    tls.ca_pem = config.ca_data;
    tls.insecure_skip_verify = config.insecure;
    tls.client_cert_file = config.client_cert_file;
    tls.client_cert_pem = config.client_cert_data;
    tls.client_key_file = config.client_key_file;
    tls.client_key_pem = config.client_key_data;
    http_options.tls[http::origin(*url)] = std::move(tls);
  }
  auto poco = http::PocoClient::create(std::move(http_options));
  if (!poco) {
    return std::unexpected(util::with_context(std::move(poco.error()), config.source));
  }
  return std::make_unique<Client>(std::shared_ptr<http::Client>(std::move(*poco)), config,
                                  TokenSource::of(config, env, clock), clock, std::move(options));
}

Client::Client(std::shared_ptr<http::Client> http, const Config& config,
               std::shared_ptr<TokenSource> token, util::Clock& clock, ClientOptions options)
    : m_shared(std::make_shared<Shared>(std::move(http), config, clock, std::move(options))),
      m_token(std::move(token)) {}

Client::Client(std::shared_ptr<Shared> shared, std::shared_ptr<TokenSource> token,
               std::string static_token)
    : m_shared(std::move(shared)), m_token(std::move(token)),
      m_static_token(std::move(static_token)) {}

std::unique_ptr<Client> Client::with_token(std::string token) const {
  return std::unique_ptr<Client>(new Client(m_shared, nullptr, std::move(token)));
}

const std::string& Client::server() const {
  return m_shared->server;
}

const std::string& Client::default_namespace() const {
  return m_shared->default_namespace;
}

util::Result<std::string> Client::bearer() {
  if (m_token) {
    return m_token->get();
  }
  return m_static_token;
}

util::Result<http::Response> Client::call(const std::string& method, const std::string& path,
                                          const std::string& query, std::string body,
                                          std::string_view content_type, std::size_t max_body) {
  const std::string token = IU_TRY(bearer());
  m_shared->limiter.wait();
  http::Request request;
  request.method = method;
  request.url = m_shared->server + path + (query.empty() ? "" : "?" + query);
  request.headers.emplace_back("Accept", "application/json");
  if (!content_type.empty()) {
    request.headers.emplace_back("Content-Type", std::string(content_type));
  }
  if (!token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }
  request.body = std::move(body);
  http::Limits limits;
  limits.connect_timeout = m_shared->options.connect_timeout;
  limits.read_timeout = m_shared->options.request_timeout;
  limits.max_body = max_body;
  auto response = m_shared->http->send(request, limits);
  if (!response) {
    return std::unexpected(std::move(response.error()));
  }
  if (response->status < 200 || response->status > 299) {
    return std::unexpected(status_error(response->status, response->body, method, path));
  }
  return response;
}

util::Result<std::string> Client::get(const Resource& resource, std::string_view namespace_,
                                      std::string_view name) {
  auto r = IU_TRY(call("GET", path_of(resource, namespace_, name), "", "", "",
                       m_shared->options.max_object_body));
  return std::move(r.body);
}

util::Result<ListPage> Client::list(const Resource& resource, std::string_view namespace_,
                                    const ListOptions& options) {
  Query query;
  if (!options.label_selector.empty()) {
    query.emplace_back("labelSelector", options.label_selector);
  }
  if (!options.field_selector.empty()) {
    query.emplace_back("fieldSelector", options.field_selector);
  }
  if (options.limit > 0) {
    query.emplace_back("limit", std::to_string(options.limit));
  }
  if (!options.continue_token.empty()) {
    query.emplace_back("continue", options.continue_token);
  }
  if (!options.resource_version.empty()) {
    query.emplace_back("resourceVersion", options.resource_version);
  }
  const std::string path = path_of(resource, namespace_);
  auto r =
      IU_TRY(call("GET", path, http::encode_query(query), "", "", m_shared->options.max_list_body));
  return parse_list(r.body, path);
}

util::Result<std::string> Client::create(const Resource& resource, std::string_view namespace_,
                                         std::string_view object_json,
                                         const WriteOptions& options) {
  Query query;
  add_write_options(query, options, false);
  auto r =
      IU_TRY(call("POST", path_of(resource, namespace_), http::encode_query(query),
                  std::string(object_json), "application/json", m_shared->options.max_object_body));
  return std::move(r.body);
}

util::Result<std::string> Client::update(const Resource& resource, std::string_view namespace_,
                                         std::string_view name, std::string_view object_json,
                                         std::string_view subresource,
                                         const WriteOptions& options) {
  Query query;
  add_write_options(query, options, false);
  auto r = IU_TRY(call("PUT", path_of(resource, namespace_, name, subresource),
                       http::encode_query(query), std::string(object_json), "application/json",
                       m_shared->options.max_object_body));
  return std::move(r.body);
}

util::Result<std::string> Client::patch(const Resource& resource, std::string_view namespace_,
                                        std::string_view name, PatchType type,
                                        std::string_view patch, std::string_view subresource,
                                        const WriteOptions& options) {
  if (type == PatchType::apply && options.field_manager.empty()) {
    return util::fail(ErrorKind::invalid_input, "server-side apply needs a field manager");
  }
  Query query;
  add_write_options(query, options, type == PatchType::apply);
  auto r = IU_TRY(call("PATCH", path_of(resource, namespace_, name, subresource),
                       http::encode_query(query), std::string(patch), content_type_of(type),
                       m_shared->options.max_object_body));
  return std::move(r.body);
}

util::Result<std::string> Client::remove(const Resource& resource, std::string_view namespace_,
                                         std::string_view name, const DeleteOptions& options) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.resource_version;
  }
  if (!options.uid.empty()) {
    body["preconditions"]["uid"] = options.uid;
  }
  if (!options.propagation_policy.empty()) {
    body["propagationPolicy"] = options.propagation_policy;
  }
  auto r = IU_TRY(call("DELETE", path_of(resource, namespace_, name), "", body.dump(),
                       "application/json", m_shared->options.max_object_body));
  return std::move(r.body);
}

util::Result<std::unique_ptr<WatchStream>>
Client::watch(const Resource& resource, std::string_view namespace_, const WatchOptions& options) {
  Query query{{"watch", "1"}};
  if (!options.resource_version.empty()) {
    query.emplace_back("resourceVersion", options.resource_version);
  }
  if (options.allow_bookmarks) {
    query.emplace_back("allowWatchBookmarks", "true");
  }
  const auto timeout = std::max(options.timeout, std::chrono::seconds(1));
  query.emplace_back("timeoutSeconds", std::to_string(timeout.count()));
  if (!options.label_selector.empty()) {
    query.emplace_back("labelSelector", options.label_selector);
  }
  if (!options.field_selector.empty()) {
    query.emplace_back("fieldSelector", options.field_selector);
  }
  const std::string token = IU_TRY(bearer());
  m_shared->limiter.wait();
  const std::string path = path_of(resource, namespace_);
  http::Request request;
  request.url = m_shared->server + path + "?" + http::encode_query(query);
  request.headers.emplace_back("Accept", "application/json");
  if (!token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }
  http::Limits limits;
  limits.connect_timeout = m_shared->options.connect_timeout;
  limits.read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      timeout + m_shared->options.watch_slack);
  auto stream = IU_TRY(m_shared->http->open(request, limits));
  if (stream->status() != 200) {
    std::string body;
    while (body.size() <= m_shared->options.max_object_body) {
      auto chunk = stream->read(std::size_t{64} << 10);
      if (!chunk || chunk->empty()) {
        break;
      }
      body += *chunk;
    }
    stream->cancel();
    return std::unexpected(status_error(stream->status(), body, "GET", path));
  }
  return make_watch_stream(std::move(stream), m_shared->options.max_watch_line);
}

} // namespace common::kube
