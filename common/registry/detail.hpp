// Internal to the registry module: the state behind a Client and the request pipeline shared
// by tags.cpp, manifest.cpp and metadata.cpp. Not for use outside common/registry.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/credentials/credential.hpp"
#include "common/http/client.hpp"
#include "common/http/url.hpp"
#include "common/image/platform.hpp"
#include "common/registry/auth.hpp"
#include "common/registry/client.hpp"
#include "common/registry/endpoint.hpp"
#include "common/registry/ratelimit.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"
#include "common/util/time.hpp"

namespace common::registry {

using http::Url;

namespace detail {

// "scheme://host[:port]" (default port left out), for messages.
std::string origin_text(const Url& url);
// origin_text + path, without the query: presigned blob URLs carry secrets in the query.
std::string shown(const Url& url);



// Printable, bounded excerpt of registry-provided text for an error message.
std::string excerpt(std::string_view text, std::size_t max = 200);

// A tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or a digest.
bool valid_tag(std::string_view tag) noexcept;

// Whether a JSON answer from a registry may be parsed into a tree: nesting at most
// util::k_max_json_nesting and at most 200,000 values (a manifest, a token answer, an image
// config or an error body is far smaller). A hostile registry's 16 MiB of '[' would otherwise
// cost gigabytes before the parser gave up.
bool json_parsable(std::string_view body) noexcept;

// What the client reads from an image config blob.
struct ImageConfig {
  std::optional<util::Timestamp> created;
  image::Platform platform; // os, architecture, variant; empty when the config has none
};

enum class Redirects { none, same_origin, any };

struct Fetch {
  std::string method = "GET";
  Url url;
  std::string repository; // the token scope and the messages; "" = none
  http::Headers headers;  // besides Authorization and User-Agent
  Redirects redirects = Redirects::same_origin;
  std::string body; // sent again after a 401 or a 307/308; dropped by a 303
  // Ask the token service for "pull,push" on the repository instead of "pull": only the push
  // operations (push.cpp) set it, reads keep the least privilege.
  bool push = false;
};

} // namespace detail

struct Client::Impl {
  Impl(Endpoint endpoint_in, http::Client& http_in, util::Clock& clock_in,
       std::optional<credentials::Credential> credential_in, ClientOptions options_in);

  // "registry \"<name>\"" for messages.
  std::string label() const;
  // Fails with the endpoint's configuration error, if any.
  util::Result<void> usable() const;
  // Applies default_ns to one-component names and validates: "nginx" -> "library/nginx".
  util::Result<std::string> repository_path(std::string_view repository) const;
  // The api_url origin and base path + `path` ("/v2/...").
  Url url_for(std::string_view path) const;
  bool own_origin(const Url& url) const { return http::same_origin(url, api); }

  // One request: rate limit, then retries with backoff on transient errors, 5xx and 429
  // (Retry-After honoured up to the cap). 5xx/429 left after the retries are errors.
  util::Result<http::Response> send(http::Request request, const Url& url);
  // A registry request: send() plus auth on 401 (cached, then fresh once) and redirects.
  // Returns 2xx/3xx/4xx responses except 401 and 403 from the registry itself (auth errors).
  util::Result<http::Response> fetch(const detail::Fetch& fetch);
  // The operations on a validated repository path (see repository_path).
  util::Result<Manifest> manifest(const std::string& repository, std::string_view reference);
  util::Result<std::string> head(const std::string& repository, std::string_view tag);
  util::Result<detail::ImageConfig> config(const std::string& repository, std::string_view digest);
  util::Result<bool> blob_exists(const std::string& repository, std::string_view digest);
  util::Result<void> push_blob(const std::string& repository, std::string_view digest,
                               std::string_view bytes);
  util::Result<std::string> push_manifest(const std::string& repository, std::string_view reference,
                                          std::string_view media_type, std::string_view bytes);

  // The error for an unexpected status of `url`; `what` names the thing asked for.
  util::Error status_error(const http::Response& response, const Url& url, std::string_view method,
                           std::string_view what) const;
  // A body that is not the JSON expected: invalid_input naming the registry and URL.
  util::Error bad_body(const Url& url, std::string_view why) const;

  Endpoint endpoint;
  http::Client& http;
  util::Clock& clock;
  std::optional<credentials::Credential> credential; // nullopt when none or empty
  ClientOptions options;
  std::shared_ptr<RateLimiter> limiter;
  std::optional<util::Error> endpoint_error;
  Url api;
  TokenCache tokens;

private:
  // What to send before any challenge: Basic once the registry asked for it, a cached token, or
  // a new token when the registry's Bearer challenge is known (nullopt before the first 401).
  // `push`: the token asked for is "pull,push" (Fetch::push).
  util::Result<std::optional<std::string>> cached_authorization(const std::string& repository,
                                                                bool push);
  void forget_authorization(const std::string& repository, bool push);
  util::Result<std::string> authorize(const http::Response& unauthorized, const Url& url,
                                      const std::string& repository, bool push);
  util::Result<std::string> request_token(const Challenge& challenge, const std::string& repository,
                                          bool push);
  std::string scope_for(const std::string& repository, const Challenge& challenge, bool push) const;
  std::chrono::nanoseconds backoff(int retry);

  std::mutex m_mutex; // guards the members below
  std::mt19937_64 m_rng;
  std::optional<Challenge> m_bearer; // the registry's last Bearer challenge (realm, service)
  bool m_basic = false;              // the registry asked for Basic: send it up front
};

} // namespace common::registry
