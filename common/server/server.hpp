// The service's HTTP transport: a Poco::Net::HTTPServer that turns each request into an
// api::HttpRequest, hands it to api::ImageUpdaterApi::handle() and writes the HttpResponse back.
// Besides the API it answers GET /healthz and GET /readyz with 200 "ok" (text/plain).
//
// Bounds: at most Options::max_threads connections are served at once (Poco gives a keep-alive
// connection its thread until it closes, so this is also how many clients are served without
// waiting: 64 by default, since a 16-thread server made the 49th client of 64 wait ~100
// requests of another; bench/api.sh) and Options::max_queued accepted connections wait
// (further connections are refused by Poco); a keep-alive connection
// serves at most max_keep_alive_requests requests and waits keep_alive_timeout for the next one;
// reads and writes on a socket time out after read_timeout / write_timeout. A body whose
// Content-Length exceeds max_body_bytes gets a 413 Status without the body being read (and the
// connection is closed); a chunked body is read up to max_body_bytes + 1 bytes, then the same.
// Any exception while serving a request becomes a 500 InternalError Status.
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
  int max_threads = 64;
  int max_queued = 64;
  int max_keep_alive_requests = 100;
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::size_t max_body_bytes = 1u << 20;
  std::string tls_cert_file; // PEM chain; with tls_key_file: serve TLS only
  std::string tls_key_file;  // PEM private key
  // GET/HEAD of a path under `files_prefix` ("/externalartifact/") is answered by `files` with
  // the rest of the path (percent-decoded, never starting with '/'), without authentication:
  // what it serves is addressed by digest and checked by the consumer. nullopt = 404.
  std::string files_prefix;
  std::function<std::optional<api::HttpResponse>(std::string_view rest)> files;
  metrics::Registry* metrics = nullptr; // null: /metrics is 404 and nothing is counted
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
