// kube::Api over HTTP: the REST calls of client-go, for JSON objects, over common::http::Client
// (PocoClient in production, any http::Client in tests).
//
// Requests: <server><path_of(...)>?<query> with the query percent-encoded; JSON bodies;
// Content-Type per PatchType; fieldManager on every write (WriteOptions), force on an apply,
// dryRun=All; DELETE carries a DeleteOptions body (preconditions, propagationPolicy). Lists get
// apiVersion and kind filled into their items (the API server leaves them out of the items of
// built-in kinds: the list's kind without "List").
//
// Errors: a non-2xx answer is status_error(): the Status body's code, reason and message mapped
// as api.hpp's table says; transport failures keep http::Client's kinds (transient, auth for an
// untrusted certificate, too_large over a body bound).
//
// Bounds on every request (ClientOptions): a QPS/burst token bucket shared by every request of
// this client and of the clients with_token() makes (watches included), a connect timeout, a
// request timeout for the whole answer, a body bound (list pages vs single objects), and for a
// watch a deadline of its timeoutSeconds plus slack (the server ends it first; bookmarks keep
// an idle watch alive) and a bound on one event's line.
//
// Credentials: the bearer token (TokenSource: a token file is re-read when it changes) and the
// client certificate are sent only to the configured server: every URL is built from it, and
// redirects are never followed (a 3xx is an internal error). Tokens never appear in messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/client.hpp"
#include "common/kube/api.hpp"
#include "common/kube/config.hpp"
#include "common/kube/rate_limiter.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::credentials {
class Environment;
} // namespace common::credentials

namespace common::kube {

struct ClientOptions {
  // The token bucket. Flux's controllers run with --kube-api-qps=50 --kube-api-burst=300 (the
  // defaults here); client-go's own defaults are 5 and 10. qps <= 0: no limit.
  double qps = 50;
  int burst = 300;
  std::chrono::milliseconds connect_timeout{5000};
  // The whole answer of one request (head and body); client-go sets none by default, kubectl 0.
  std::chrono::milliseconds request_timeout{30000};
  // Body bounds: a single object (etcd refuses objects over 1.5 MiB by default) and a list page
  // (use ListOptions::limit to page through more).
  std::size_t max_object_body = std::size_t{4} << 20;
  std::size_t max_list_body = std::size_t{64} << 20;
  // A watch's deadline is its timeoutSeconds plus this.
  std::chrono::seconds watch_slack{30};
  // One watch event (one line of the stream): an object plus its envelope.
  std::size_t max_watch_line = std::size_t{8} << 20;
  std::string user_agent = "imageupdater";
};

// The error for a non-2xx answer: the kind from the Status body's code (else the HTTP status;
// a Status without a code maps by its reason), the message the Status's message, else
// "HTTP <code> from <METHOD> <path>".
util::Error status_error(int http_status, std::string_view body, std::string_view method,
                         std::string_view path);

class Client final : public Api {
public:
  // A PocoClient trusting the config's CA (file or data) for the server's origin, presenting its
  // client certificate, with its insecure flag; the token from TokenSource::of(config). Fails
  // with invalid_input when the server is not an http(s) URL or the TLS settings are invalid.
  // `env` and `clock` must outlive the client.
  static util::Result<std::unique_ptr<Client>> create(const Config& config,
                                                      credentials::Environment& env,
                                                      util::Clock& clock,
                                                      ClientOptions options = {});

  // Over any http::Client (its TLS settings are its own); `token` may be null (no token).
  Client(std::shared_ptr<http::Client> http, const Config& config,
         std::shared_ptr<TokenSource> token, util::Clock& clock, ClientOptions options = {});

  // A client for the same server, TLS settings (and client certificate, if any), options and
  // rate limiter, that sends `token` as its bearer token ("" = none): for requests made on
  // behalf of a caller, whom the API server then authorises.
  std::unique_ptr<Client> with_token(std::string token) const;

  const std::string& server() const;
  const std::string& default_namespace() const; // Config::namespace_

  util::Result<std::string> get(const Resource& resource, std::string_view namespace_,
                                std::string_view name) override;
  util::Result<ListPage> list(const Resource& resource, std::string_view namespace_,
                              const ListOptions& options) override;
  util::Result<std::string> create(const Resource& resource, std::string_view namespace_,
                                   std::string_view object_json,
                                   const WriteOptions& options = {}) override;
  util::Result<std::string> update(const Resource& resource, std::string_view namespace_,
                                   std::string_view name, std::string_view object_json,
                                   std::string_view subresource = {},
                                   const WriteOptions& options = {}) override;
  util::Result<std::string> patch(const Resource& resource, std::string_view namespace_,
                                  std::string_view name, PatchType type, std::string_view patch,
                                  std::string_view subresource = {},
                                  const WriteOptions& options = {}) override;
  util::Result<std::string> remove(const Resource& resource, std::string_view namespace_,
                                   std::string_view name,
                                   const DeleteOptions& options = {}) override;
  util::Result<std::unique_ptr<WatchStream>> watch(const Resource& resource,
                                                   std::string_view namespace_,
                                                   const WatchOptions& options) override;

private:
  struct Shared;
  Client(std::shared_ptr<Shared> shared, std::shared_ptr<TokenSource> token,
         std::string static_token);
  util::Result<std::string> bearer();
  util::Result<http::Response> call(const std::string& method, const std::string& path,
                                    const std::string& query, std::string body,
                                    std::string_view content_type, std::size_t max_body);

  std::shared_ptr<Shared> m_shared;
  std::shared_ptr<TokenSource> m_token; // null: m_static_token
  std::string m_static_token;
};

} // namespace common::kube
