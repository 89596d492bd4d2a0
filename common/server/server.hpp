// The service's HTTP transport: an event-driven front end (one thread owns every connection:
// epoll, non-blocking sockets, TLS through the TLS module) that reads whole requests with strict
// HTTP/1.1 framing (http1.hpp) and hands them to a pool of workers running
// api::ImageUpdaterApi::handle(). Besides the API it answers GET /healthz and GET /readyz with
// 200 "ok" (text/plain) from the loop itself, so probes are answered whatever the workers do.
//
// Bounds, so that no client can hold more than its own connection:
//  - a request head (and, with TLS, the handshake before it) must arrive within head_timeout of
//    its first byte (of the connection, for the first request), at most max_head_bytes (431);
//  - a body within read_timeout of the end of its head, at most max_body_bytes (413 answered
//    without reading the body; the connection then closes after a bounded linger);
//  - a response within write_timeout; an idle keep-alive connection lives keep_alive_timeout and
//    serves at most max_keep_alive_requests requests;
//  - at most max_connections connections, max_connections_per_client of them from one address
//    (more are reset at once);
//  - max_threads workers; at most max_queued requests wait for one (more get 503).
// A request that misses its deadline gets 408 and the connection closes. Authorisation (the
// API's precheck) happens before the body is read: a denied request never costs its body.
// Framing two parsers could read differently is a 400 with the connection closed.
//
// Observability: GET /metrics answers the Prometheus exposition of Options::metrics (the server
// registers imageupdater_http_requests_total{method,route,code} and
// imageupdater_http_request_duration_seconds{method,route} there; route is the route template,
// never a path value). Each request is logged to Options::logger (method, path, route, code,
// duration, sizes, client address, the principal; never a header or the query string): API
// requests at info, probes and metrics at debug.
//
// TLS: with tls_cert_file and tls_key_file the socket speaks only TLS (1.2+).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/api/api.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/registry.hpp"
#include "common/util/error.hpp"

namespace common::server {

struct Options {
  std::string listen = "127.0.0.1:8080"; // HOST:PORT; port 0 picks a free port (see port())
  int max_threads = 16;                  // workers running handlers (connections need none)
  int max_queued = 64;                   // requests waiting for a worker
  int max_keep_alive_requests = 100;
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::chrono::milliseconds head_timeout{10000};  // the whole request head (and TLS handshake)
  std::chrono::milliseconds read_timeout{30000};  // the whole request body
  std::chrono::milliseconds write_timeout{30000}; // the whole response
  std::size_t max_body_bytes = 1u << 20;
  std::size_t max_head_bytes = 64u << 10;
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_client = 256;
  std::string tls_cert_file; // PEM chain; with tls_key_file: serve TLS only
  std::string tls_key_file;  // PEM private key
  // GET/HEAD of a path under `files_prefix` ("/externalartifact/") is answered by `files` with
  // the rest of the path (percent-decoded, never starting with '/'), without authentication:
  // what it serves is addressed by digest and checked by the consumer. nullopt = 404.
  std::string files_prefix;
  std::function<std::optional<api::HttpResponse>(std::string_view rest)> files;
  metrics::Registry* metrics = nullptr; // null: /metrics is 404 and nothing is counted
  // Whether GET /metrics is answered here (false: the requests are still counted in `metrics`,
  // which another server, on its own port, exposes).
  bool expose_metrics = true;
  // Whether the API (and the files) are served here; false for a probes-and-metrics server
  // (answers 404 Status to everything else).
  bool serve_api = true;
  log::Logger* logger = nullptr;        // null: no request logs
};

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

// Parses "HOST:PORT" ("127.0.0.1:8080", "[::1]:80", "0.0.0.0:0"). invalid_input names the value
// when the host is empty or the port is not a number in 0..65535.
util::Result<ListenAddress> parse_listen(std::string_view value);

class Server {
public:
  // Binds and starts serving. `api` (and the metrics registry and logger, when given) must
  // outlive the server. Fails with invalid_input on a bad listen address or TLS files that cannot
  // be loaded, transient when the address cannot be bound (in use, not local).
  static util::Result<std::unique_ptr<Server>> start(Options options, api::ImageUpdaterApi& api);

  ~Server(); // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops accepting connections, lets requests in progress finish (keep-alive connections close
  // after their current request) and joins the worker threads. Idempotent.
  void stop();

  // The bound port (the chosen one when Options::listen asked for port 0).
  std::uint16_t port() const;
  bool tls() const;

  struct Impl;

private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace common::server
