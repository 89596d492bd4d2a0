#include "common/registry/client.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/url.hpp"
#include "common/registry/detail.hpp"
#include "common/util/strings.hpp"

namespace common::registry {
namespace {

using util::ErrorKind;

using util::iequals;

bool is_lower_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// One path component of the distribution grammar: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*.
bool valid_component(std::string_view s) noexcept {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_lower_alnum(c) || c == '-') {
      continue;
    }
    if (c == '.' || c == '_') {
      // A separator between alphanumerics; "__" is the only doubled one.
      const bool doubled_underscore = c == '_' && i + 1 < s.size() && s[i + 1] == '_';
      const std::size_t next = doubled_underscore ? i + 2 : i + 1;
      if (!is_lower_alnum(s[i - 1]) || next >= s.size() || !is_lower_alnum(s[next])) {
        return false;
      }
      i = next - 1;
      continue;
    }
    return false;
  }
  return true;
}

std::string origin_of(std::string_view api_url) {
  auto url = http::parse_url(api_url);
  return url ? detail::origin_text(*url) : std::string(api_url.substr(0, 100));
}

} // namespace

namespace detail {

std::string origin_text(const Url& url) {
  return url.scheme + "://" + http::authority(url);
}

std::string shown(const Url& url) {
  return origin_text(url) + url.path;
}

std::string excerpt(std::string_view text, std::size_t max) {
  std::string out;
  const std::size_t n = text.size() > max ? max : text.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c >= 0x7f) ? ' ' : static_cast<char>(c);
  }
  if (n < text.size()) {
    out += "...";
  }
  return out;
}

} // namespace detail

std::string manifest_accept() {
  return std::string(k_oci_manifest) + ", " + std::string(k_oci_index) + ", " +
         std::string(k_docker_manifest) + ", " + std::string(k_docker_list);
}

bool Manifest::is_index() const noexcept {
  return media_type == k_oci_index || media_type == k_docker_list;
}

util::Result<void> check_endpoint(const Endpoint& endpoint) {
  const std::string who =
      "registry \"" + (endpoint.name.empty() ? endpoint.prefix : endpoint.name) + "\"";
  auto url = http::parse_url(endpoint.api_url);
  if (!url) {
    return util::fail(ErrorKind::invalid_input, who + ": api_url: " + url.error().message);
  }
  if (!url->query.empty()) {
    return util::fail(ErrorKind::invalid_input,
                      who + ": api_url " + detail::shown(*url) + " must not have a query");
  }
  if (url->scheme == "http" && !http::is_loopback(url->host) && !endpoint.insecure) {
    return util::fail(ErrorKind::invalid_input,
                      who + ": api_url " + detail::origin_text(*url) +
                          " uses plain HTTP to a host that is not loopback; use https, or mark "
                          "the registry insecure in registries.conf (`insecure: yes`) if you "
                          "accept that its traffic and credentials travel unencrypted");
  }
  return {};
}

Client::Impl::Impl(Endpoint endpoint_in, http::Client& http_in, util::Clock& clock_in,
                   std::optional<credentials::Credential> credential_in, ClientOptions options_in)
    : endpoint(std::move(endpoint_in)), http(http_in), clock(clock_in),
      options(std::move(options_in)), tokens(clock_in) {
  if (credential_in && !credential_in->empty()) {
    credential = std::move(credential_in);
  }
  limiter = options.rate_limiter ? options.rate_limiter
                                 : std::make_shared<RateLimiter>(endpoint.rate_limit, clock);
  if (options.jitter_seed != 0) {
    m_rng.seed(options.jitter_seed);
  } else {
    std::random_device device;
    m_rng.seed((std::uint64_t{device()} << 32) | device());
  }
  if (auto ok = check_endpoint(endpoint); !ok) {
    endpoint_error = ok.error();
    return;
  }
  api = *http::parse_url(endpoint.api_url);
  while (api.path.size() > 1 && api.path.back() == '/') {
    api.path.pop_back();
  }
}

std::string Client::Impl::label() const {
  return "registry \"" + (endpoint.name.empty() ? origin_of(endpoint.api_url) : endpoint.name) +
         "\"";
}

util::Result<void> Client::Impl::usable() const {
  if (endpoint_error) {
    return std::unexpected(*endpoint_error);
  }
  return {};
}

util::Result<std::string> Client::Impl::repository_path(std::string_view repository) const {
  std::string path(repository);
  if (path.find('/') == std::string::npos && !endpoint.default_ns.empty()) {
    path = endpoint.default_ns + "/" + path;
  }
  bool ok = !path.empty() && path.size() <= 255;
  for (std::size_t pos = 0; ok && pos <= path.size();) {
    std::size_t end = path.find('/', pos);
    if (end == std::string::npos) {
      end = path.size();
    }
    ok = valid_component(std::string_view(path).substr(pos, end - pos));
    pos = end + 1;
  }
  if (!ok) {
    return util::fail(ErrorKind::invalid_input, "invalid repository name \"" +
                                                    detail::excerpt(repository, 260) + "\" for " +
                                                    label());
  }
  return path;
}

Url Client::Impl::url_for(std::string_view path) const {
  Url url = api;
  const std::size_t q = path.find('?');
  url.path = (api.path == "/" ? std::string() : api.path) + std::string(path.substr(0, q));
  url.query = q == std::string_view::npos ? std::string() : std::string(path.substr(q + 1));
  return url;
}

util::Error Client::Impl::bad_body(const Url& url, std::string_view why) const {
  return util::Error{ErrorKind::invalid_input,
                     label() + ": " + detail::shown(url) + ": " + std::string(why)};
}

util::Error Client::Impl::status_error(const http::Response& response, const Url& url,
                                       std::string_view method, std::string_view what) const {
  // distribution's error body: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}.
  std::string detail;
  const nlohmann::json doc = detail::json_parsable(response.body)
                                 ? nlohmann::json::parse(response.body, nullptr, false)
                                 : nlohmann::json(nlohmann::json::value_t::discarded);
  if (doc.is_object()) {
    const auto errors = doc.find("errors");
    if (errors != doc.end() && errors->is_array() && !errors->empty() &&
        errors->front().is_object()) {
      const auto& first = errors->front();
      const auto code = first.find("code");
      const auto message = first.find("message");
      if (code != first.end() && code->is_string()) {
        detail = code->get<std::string>();
      }
      if (message != first.end() && message->is_string()) {
        detail += (detail.empty() ? "" : ": ") + message->get<std::string>();
      }
    }
  }
  const int status = response.status;
  std::string text = label() + ": " + std::string(method) + " " +
                     (own_origin(url) ? http::to_string(url) : detail::shown(url)) + " answered " +
                     std::to_string(status) + " for " + std::string(what);
  if (!detail.empty()) {
    text += " (" + detail::excerpt(detail) + ")";
  }
  ErrorKind kind = ErrorKind::invalid_input;
  if (status == 404) {
    kind = ErrorKind::not_found;
  } else if (status == 401 || status == 403) {
    kind = ErrorKind::auth;
  } else if (status == 429 || status >= 500) {
    kind = ErrorKind::transient;
  } else if (status < 300) {
    kind = ErrorKind::internal;
  }
  return util::Error{kind, std::move(text)};
}

Client::Client(Endpoint endpoint, http::Client& http, util::Clock& clock,
               std::optional<credentials::Credential> credential, ClientOptions options)
    : m_impl(std::make_unique<Impl>(std::move(endpoint), http, clock, std::move(credential),
                                    std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const Endpoint& Client::endpoint() const noexcept {
  return m_impl->endpoint;
}

} // namespace common::registry
