// The request flow of a registry call: authorization (cached, then fresh on 401, once) and
// redirects, on top of Impl::send (rate limit and retries, retry.cpp).
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http/url.hpp"
#include "common/registry/auth.hpp"
#include "common/registry/detail.hpp"

namespace common::registry {
namespace {

using util::ErrorKind;

bool is_redirect(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// May credentials or a token travel to this URL? https, or plain http to loopback.
bool protected_transport(const Url& url) noexcept {
  return url.scheme == "https" || http::is_loopback(url.host);
}

} // namespace

std::string Client::Impl::scope_for(const std::string& repository, const Challenge& challenge,
                                    bool push) const {
  // Our own scope, not the challenge's: a registry may ask for push in its challenge, and least
  // privilege is what a reading client should hold. Pushing needs pull too (HEAD of blobs and
  // manifests), hence "pull,push".
  if (repository.empty()) {
    return challenge.param("scope");
  }
  return "repository:" + repository + (push ? ":pull,push" : ":pull");
}

util::Result<std::optional<std::string>>
Client::Impl::cached_authorization(const std::string& repository, bool push) {
  std::optional<Challenge> bearer;
  {
    std::lock_guard lock(m_mutex);
    if (m_basic && credential) {
      return basic_authorization(*credential);
    }
    bearer = m_bearer;
  }
  if (!bearer) {
    return std::nullopt;
  }
  auto token = tokens.find(bearer->param("realm"), bearer->param("service"),
                           scope_for(repository, *bearer, push));
  if (token) {
    return "Bearer " + *token;
  }
  // The registry is known to want a token: get one for this repository up front instead of
  // spending a request (and a rate-limit slot) on the 401 that would ask for it.
  auto fresh = request_token(*bearer, repository, push);
  if (!fresh) {
    return std::unexpected(fresh.error());
  }
  return *fresh;
}

void Client::Impl::forget_authorization(const std::string& repository, bool push) {
  std::optional<Challenge> bearer;
  {
    std::lock_guard lock(m_mutex);
    bearer = m_bearer;
  }
  if (bearer) {
    tokens.erase(bearer->param("realm"), bearer->param("service"),
                 scope_for(repository, *bearer, push));
  }
}

util::Result<std::string> Client::Impl::request_token(const Challenge& challenge,
                                                      const std::string& repository, bool push) {
  const std::string realm = challenge.param("realm");
  const std::string service = challenge.param("service");
  const std::string scope = scope_for(repository, challenge, push);
  auto realm_url = http::parse_url(realm);
  if (!realm_url) {
    return util::fail(
        ErrorKind::invalid_input,
        label() + ": the Bearer challenge's realm is not usable: " + realm_url.error().message);
  }
  if (credential && !protected_transport(*realm_url)) {
    return util::fail(ErrorKind::auth,
                      label() + ": refusing to send credentials to token service " +
                          detail::shown(*realm_url) +
                          " over plain HTTP (only https or a loopback host may receive them)");
  }
  std::string query;
  if (!service.empty()) {
    query += "service=" + http::percent_encode(service);
  }
  if (!scope.empty()) {
    query += std::string(query.empty() ? "" : "&") + "scope=" + http::percent_encode(scope);
  }
  http::Request request;
  Url url = *realm_url;
  if (credential && credential->username == "<token>") {
    // An identity token (docker login with a token): the OAuth2 refresh-token grant.
    request.method = "POST";
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.body = "grant_type=refresh_token&client_id=imageupdater&" + query +
                   "&refresh_token=" + http::percent_encode(credential->password);
  } else {
    if (!query.empty()) {
      url.query += (url.query.empty() ? "" : "&") + query;
    }
    if (credential) {
      request.headers.emplace_back("Authorization", basic_authorization(*credential));
    }
  }
  request.url = http::to_string(url);
  request.headers.emplace_back("Accept", "application/json");
  const std::string method = request.method;
  auto response = send(std::move(request), url);
  if (!response) {
    return std::unexpected(response.error());
  }
  const std::string sent = credential ? "credentials " + credential->redacted() + " were sent"
                                      : "no credentials were sent (none configured)";
  if (response->status == 401 || response->status == 403) {
    return util::fail(ErrorKind::auth, label() + ": token service " + detail::shown(url) +
                                           " refused a token for repository \"" + repository +
                                           "\"" + (push ? " to push" : "") + " (HTTP " +
                                           std::to_string(response->status) + "; " + sent + ")");
  }
  if (response->status != 200) {
    return std::unexpected(
        status_error(*response, url, method, "a token for repository \"" + repository + "\""));
  }
  auto token = parse_token_response(response->body, detail::shown(url));
  if (!token) {
    return util::fail(token.error().kind, label() + ": " + token.error().message);
  }
  tokens.store(realm, service, scope, *token);
  {
    std::lock_guard lock(m_mutex);
    m_bearer = challenge;
  }
  return "Bearer " + token->value;
}

util::Result<std::string> Client::Impl::authorize(const http::Response& unauthorized,
                                                  const Url& url, const std::string& repository,
                                                  bool push) {
  std::vector<Challenge> challenges;
  for (std::string_view value : http::find_headers(unauthorized.headers, "WWW-Authenticate")) {
    auto parsed = parse_challenges(value);
    if (!parsed) {
      return util::fail(ErrorKind::auth,
                        label() + ": " + http::to_string(url) + ": " + parsed.error().message);
    }
    challenges.insert(challenges.end(), parsed->begin(), parsed->end());
  }
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const Challenge& c : challenges) {
    if (c.scheme == "bearer" && bearer == nullptr && !c.param("realm").empty()) {
      bearer = &c;
    } else if (c.scheme == "basic" && basic == nullptr) {
      basic = &c;
    }
  }
  if (bearer != nullptr) {
    return request_token(*bearer, repository, push);
  }
  if (basic != nullptr) {
    if (!credential) {
      return util::fail(ErrorKind::auth,
                        label() + " requires credentials (HTTP Basic) for repository \"" +
                            repository + "\" and none are configured for it");
    }
    std::lock_guard lock(m_mutex);
    m_basic = true;
    return basic_authorization(*credential);
  }
  std::string schemes;
  for (const Challenge& c : challenges) {
    schemes += (schemes.empty() ? "" : ", ") + c.scheme;
  }
  return util::fail(challenges.empty() ? ErrorKind::auth : ErrorKind::unsupported,
                    label() + " answered 401 for " + http::to_string(url) +
                        (challenges.empty() ? " without a WWW-Authenticate challenge"
                                            : " with unsupported challenges: " + schemes));
}

util::Result<http::Response> Client::Impl::fetch(const detail::Fetch& fetch) {
  Url url = fetch.url;
  std::string method = fetch.method;
  std::string body = fetch.body;
  auto known = cached_authorization(fetch.repository, fetch.push);
  if (!known) {
    return std::unexpected(known.error());
  }
  std::optional<std::string> authorization = std::move(*known);
  bool from_cache = authorization.has_value();
  bool fresh = false;
  int redirects = 0;
  const std::string sent = credential ? "credentials " + credential->redacted() + " were sent"
                                      : "no credentials were sent (none configured)";
  while (true) {
    http::Request request{method, http::to_string(url), fetch.headers, body};
    const bool own = own_origin(url);
    // The registry's Authorization goes to its own origin only: blob storage behind a
    // redirect gets its access from the (presigned) URL, never from our token or password.
    if (own && authorization) {
      request.headers.emplace_back("Authorization", *authorization);
    }
    auto response = send(std::move(request), url);
    if (!response) {
      return response;
    }
    const int status = response->status;
    if (own && status == 401) {
      if (fresh) {
        return util::fail(ErrorKind::auth,
                          label() + " refused access to repository \"" + fetch.repository +
                              "\" with fresh authorization (HTTP 401 for " + method + " " +
                              http::to_string(url) + "; " + sent + ")");
      }
      if (from_cache) {
        forget_authorization(fetch.repository, fetch.push);
        from_cache = false;
      }
      auto next = authorize(*response, url, fetch.repository, fetch.push);
      if (!next) {
        return std::unexpected(next.error());
      }
      authorization = std::move(*next);
      fresh = true;
      continue;
    }
    if (own && status == 403) {
      return util::fail(ErrorKind::auth, label() + " denied access to repository \"" +
                                             fetch.repository + "\" (HTTP 403 for " + method + " " +
                                             http::to_string(url) + "; " + sent + ")");
    }
    if (!is_redirect(status) || fetch.redirects == detail::Redirects::none) {
      return response;
    }
    const auto location = http::find_header(response->headers, "Location");
    if (!location) {
      return util::fail(ErrorKind::invalid_input,
                        label() + ": " + method + " " + detail::shown(url) + " answered " +
                            std::to_string(status) + " without a Location header");
    }
    auto target = http::resolve(url, *location);
    if (!target) {
      return util::fail(ErrorKind::invalid_input, label() + ": redirect from " +
                                                      detail::shown(url) + ": " +
                                                      target.error().message);
    }
    if (fetch.redirects == detail::Redirects::same_origin && !own_origin(*target)) {
      return util::fail(ErrorKind::invalid_input,
                        label() + ": refusing to follow a redirect from " + detail::shown(url) +
                            " to another origin (" + detail::origin_text(*target) + ")");
    }
    if (target->scheme == "http" && !own_origin(*target) && !protected_transport(*target) &&
        !endpoint.insecure) {
      return util::fail(ErrorKind::invalid_input,
                        label() + ": refusing to follow a redirect from " + detail::shown(url) +
                            " to plain HTTP (" + detail::origin_text(*target) + ")");
    }
    if (++redirects > options.max_redirects) {
      return util::fail(ErrorKind::too_large,
                        label() + ": more than " + std::to_string(options.max_redirects) +
                            " redirects for " + fetch.method + " " + http::to_string(fetch.url));
    }
    if (status == 303 && method != "HEAD") {
      method = "GET";
      body.clear();
    }
    url = std::move(*target);
  }
}

} // namespace common::registry
