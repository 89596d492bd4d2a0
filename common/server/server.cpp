#include "common/server/server.hpp"

#include <cstdio>
#include <exception>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include "common/api/status.hpp"
#include "common/http/tls_server.hpp"
#include "common/util/sigpipe_guard.hpp"
#include "common/util/strings.hpp"

namespace common::server {

namespace {

Poco::Timespan to_timespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

// What every handler shares; owned by the factory, which the HTTPServer keeps until it is gone.
struct Shared {
  std::string files_prefix;
  std::function<std::optional<api::HttpResponse>(std::string_view)> files;
  std::size_t max_body_bytes = 0;
  std::chrono::milliseconds read_timeout{0};
  std::chrono::milliseconds write_timeout{0};
  metrics::Registry* registry = nullptr;
  metrics::Counter* requests = nullptr;
  metrics::Histogram* latency = nullptr;
  log::Logger* logger = nullptr;
};

// Methods outside the known set share one label value, so a client cannot grow the series.
std::string method_label(const std::string& method) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == known) {
      return method;
    }
  }
  return "other";
}

// What one exchange did, for the metrics and the request log.
struct Outcome {
  std::string method;
  std::string path;
  std::string route; // template ("GET /healthz", "POST /kapis/.../imageupdaters"), "other"
  int code = 0;
  std::size_t bytes_in = 0;
  std::size_t bytes_out = 0;
  std::string principal;
  bool quiet = false; // probes and scrapes: logged at debug
};

// Why a request's framing could be read two ways (RFC 9112 6.1-6.3, 5.1), "" when it is sound.
// A proxy in front might have framed such a request differently, so the bytes after what we
// take for its end could be another request (smuggling): these are refused and the connection
// closed. Checked on the parsed head, before any body byte is read.
std::string ambiguous_framing(const Poco::Net::HTTPServerRequest& request) {
  std::size_t lengths = 0;
  std::size_t encodings = 0;
  std::string length;
  std::string encoding;
  for (const auto& [name, value] : request) {
    // "Content-Length : 5": no white space between the name and the colon (5.1).
    if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos) {
      return "white space in or around the header name " + util::quote(name, 60);
    }
    if (util::iequals(name, "Content-Length")) {
      ++lengths;
      length = std::string(util::trim(value));
    } else if (util::iequals(name, "Transfer-Encoding")) {
      ++encodings;
      encoding = std::string(util::trim(value));
    }
  }
  if (lengths > 1) {
    return "more than one Content-Length";
  }
  if (lengths == 1 && (length.empty() || length.size() > 18 ||
                       length.find_first_not_of("0123456789") != std::string::npos)) {
    return "Content-Length " + util::quote(length, 40) + " is not a number of digits";
  }
  if (encodings > 0) {
    if (lengths > 0) {
      return "both Content-Length and Transfer-Encoding";
    }
    if (request.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0) {
      return "Transfer-Encoding in an HTTP/1.0 request";
    }
    if (encodings > 1 || !util::iequals(encoding, "chunked")) {
      return "Transfer-Encoding " + util::quote(encoding, 40) +
             " (only \"chunked\" alone is accepted)";
    }
  }
  return {};
}

void write_response(Poco::Net::HTTPServerResponse& out, const api::HttpResponse& response,
                    Outcome* outcome = nullptr) {
  if (outcome != nullptr) {
    outcome->code = response.status;
    outcome->bytes_out = response.body.size();
  }
  out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
  out.setContentType(response.content_type);
  for (const auto& [name, value] : response.headers) {
    out.add(name, value);
  }
  out.setContentLength(static_cast<std::streamsize>(response.body.size()));
  std::ostream& body = out.send();
  body.write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
  body.flush(); // on the wire now: linger() closes the sending side right after
}

class Handler final : public Poco::Net::HTTPRequestHandler {
public:
  Handler(api::ImageUpdaterApi& api, const Shared& shared) : m_api(api), m_shared(shared) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const auto started = std::chrono::steady_clock::now();
    // A client that hangs up must not kill the process with SIGPIPE on our next write.
    const util::SigpipeGuard sigpipe;
    m_outcome.method = request.getMethod();
    // Every failure below becomes a Status, unless the response has already started.
    try {
      serve(request, response);
    } catch (const Poco::SyntaxException& e) {
      fail(response,
           api::status_response(400, "BadRequest",
                                std::string("malformed request URI: ") + e.displayText()));
    } catch (const Poco::Exception& e) {
      fail(response, api::status_response(500, "InternalError", e.displayText()));
    } catch (const std::exception& e) {
      fail(response, api::status_response(500, "InternalError", e.what()));
    } catch (...) {
      fail(response, api::status_response(500, "InternalError", "unknown exception"));
    }
    record(std::chrono::steady_clock::now() - started, request);
  }

private:
  void fail(Poco::Net::HTTPServerResponse& out, const api::HttpResponse& status) {
    if (out.sent()) {
      return; // too late for a Status: the connection closes with a truncated answer
    }
    try {
      out.setKeepAlive(false);
      write_response(out, status, &m_outcome);
    } catch (...) {
      // Nothing more to do for a client that is gone.
    }
  }

  void record(std::chrono::steady_clock::duration elapsed,
              const Poco::Net::HTTPServerRequest& request) noexcept {
    try {
      const Outcome& o = m_outcome;
      const std::string route = o.route.empty() ? "other" : o.route;
      const std::string method = method_label(o.method);
      const double seconds = std::chrono::duration<double>(elapsed).count();
      if (m_shared.requests != nullptr) {
        m_shared.requests->inc({method, route, std::to_string(o.code)});
        m_shared.latency->observe({method, route}, seconds);
      }
      if (m_shared.logger != nullptr) {
        const log::Level level = o.quiet         ? log::Level::debug
                                 : o.code >= 500 ? log::Level::error
                                                 : log::Level::info;
        if (m_shared.logger->enabled(level)) {
          char ms[32];
          std::snprintf(ms, sizeof ms, "%.3f", seconds * 1000);
          m_shared.logger->log(level, "request",
                               {{"method", o.method.substr(0, 16)},
                                {"path", o.path.substr(0, 512)},
                                {"route", route},
                                {"code", std::to_string(o.code)},
                                {"duration_ms", ms},
                                {"bytes_in", std::to_string(o.bytes_in)},
                                {"bytes_out", std::to_string(o.bytes_out)},
                                {"client", request.clientAddress().toString()},
                                {"user", o.principal}});
        }
      }
    } catch (...) {
      // Metrics and logs never fail a request.
    }
  }

  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    // Per-socket timeouts of this connection (Poco's params only carry one timeout).
    auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
    socket.setReceiveTimeout(to_timespan(m_shared.read_timeout));
    socket.setSendTimeout(to_timespan(m_shared.write_timeout));

    const Poco::URI uri(request.getURI());
    api::HttpRequest req;
    req.method = request.getMethod();
    req.path = uri.getPath(); // percent-decoded
    m_outcome.path = req.path;
    const bool get = req.method == "GET" || req.method == "HEAD";
    const bool probe = get && (req.path == "/healthz" || req.path == "/readyz");
    const bool scrape = get && req.path == "/metrics" && m_shared.registry != nullptr;
    const bool file = get && m_shared.files && !m_shared.files_prefix.empty() &&
                      req.path.starts_with(m_shared.files_prefix);
    m_outcome.route = probe || scrape ? "GET " + req.path
                      : file          ? "GET " + m_shared.files_prefix + "{path}"
                                      : api::ImageUpdaterApi::route_of(req);
    m_outcome.quiet = probe || scrape;

    // The body is read before any answer, whatever the route, so that its bytes are never taken
    // for the next request of a keep-alive connection. Without Content-Length and chunking a
    // request has no body (RFC 9112 6.3), whatever Poco would otherwise wait for.
    const auto too_large = [&](std::istream& unread) {
      response.setKeepAlive(false); // the unread body must not be taken for the next request
      write_response(response,
                     api::status_response(413, "RequestEntityTooLarge",
                                          "request body larger than " +
                                              std::to_string(m_shared.max_body_bytes) + " bytes"),
                     &m_outcome);
      linger(socket, unread);
    };
    if (const std::string why = ambiguous_framing(request); !why.empty()) {
      response.setKeepAlive(false); // where this request ends is not agreed on
      write_response(response, api::status_response(400, "BadRequest", "request framing: " + why),
                     &m_outcome);
      return;
    }
    const bool chunked = request.getChunkedTransferEncoding();
    const bool has_length = request.hasContentLength();
    if (has_length && !chunked) {
      const auto declared = request.getContentLength64();
      if (declared < 0) {
        response.setKeepAlive(false); // where this request ends is unknown
        write_response(response, api::status_response(400, "BadRequest", "invalid Content-Length"),
                       &m_outcome);
        return;
      }
      if (static_cast<std::uint64_t>(declared) > m_shared.max_body_bytes) {
        too_large(request.stream());
        return;
      }
    }
    if (chunked || has_length) {
      if (request.getExpectContinue()) {
        response.sendContinue();
      }
      // Read at most one byte past the limit.
      std::istream& in = request.stream();
      char buffer[16384];
      while (in) {
        in.read(buffer, sizeof buffer);
        req.body.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (req.body.size() > m_shared.max_body_bytes) {
          m_outcome.bytes_in = req.body.size();
          too_large(in);
          return;
        }
      }
    }
    m_outcome.bytes_in = req.body.size();
    if (probe) {
      write_response(response, api::HttpResponse{200, "text/plain", "ok", {}, {}}, &m_outcome);
      return;
    }
    if (file) {
      auto found = m_shared.files(std::string_view(req.path).substr(m_shared.files_prefix.size()));
      write_response(response,
                     found ? std::move(*found)
                           : api::status_response(404, "NotFound", "no such artifact"),
                     &m_outcome);
      return;
    }
    if (scrape) {
      write_response(
          response,
          api::HttpResponse{200, metrics::k_content_type, m_shared.registry->expose(), {}, {}},
          &m_outcome);
      return;
    }
    const auto parameters = uri.getQueryParameters(); // decoded; the last value of a name wins
    for (const auto& [name, value] : parameters) {
      req.query[name] = value;
    }
    for (const auto& [name, value] : request) {
      req.headers.emplace_back(name, value);
    }
    api::HttpResponse answer = m_api.handle(req);
    m_outcome.principal = answer.principal;
    write_response(response, answer, &m_outcome);
  }

  // After a 413 the client may still be sending the body; closing with unread data would make
  // the kernel answer with a reset that can destroy the 413 before the client reads it. So the
  // sending side is closed (the client sees the end of the answer) and what the client still
  // sends is read and dropped, for at most k_linger_bytes or k_linger_time.
  static void linger(Poco::Net::StreamSocket& socket, std::istream& unread) {
    constexpr std::size_t k_linger_bytes = 64u << 20;
    constexpr auto k_linger_time = std::chrono::seconds(2);
    try {
      socket.shutdownSend();
      socket.setReceiveTimeout(Poco::Timespan(0, 500'000));
      const auto deadline = std::chrono::steady_clock::now() + k_linger_time;
      char buffer[16384];
      std::size_t dropped = 0;
      while (unread && dropped < k_linger_bytes && std::chrono::steady_clock::now() < deadline) {
        unread.read(buffer, sizeof buffer);
        dropped += static_cast<std::size_t>(unread.gcount());
      }
    } catch (...) {
      // The client is gone or stopped sending: done either way.
    }
  }

  api::ImageUpdaterApi& m_api;
  const Shared& m_shared;
  Outcome m_outcome;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
  Factory(api::ImageUpdaterApi& api, Shared shared) : m_api(api), m_shared(shared) {}
  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(m_api, m_shared);
  }

private:
  api::ImageUpdaterApi& m_api;
  Shared m_shared; // outlives every handler: the factory is held by the HTTPServer
};

} // namespace

struct Server::Impl {
  // Declared before the HTTPServer so that it is destroyed after it.
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> http;
  // A handle on the listening socket: Poco's TCPServer::stop() leaves it open (connections would
  // queue in the backlog until the server object dies), stop() closes it.
  Poco::Net::ServerSocket socket;
  std::uint16_t port = 0;
  bool tls = false;
  bool stopped = false;
};

Server::Server(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Server::~Server() {
  stop();
}

std::uint16_t Server::port() const {
  return m_impl->port;
}

bool Server::tls() const {
  return m_impl->tls;
}

void Server::stop() {
  if (m_impl->stopped) {
    return;
  }
  m_impl->stopped = true;
  try {
    // stopAll(false): no new connections; each connection finishes the request it is serving,
    // then closes. joinAll() waits for those requests.
    m_impl->http->stopAll(false);
    m_impl->socket.close();
    m_impl->pool->joinAll();
  } catch (...) {
    // Shutting down: nothing left to report to.
  }
}

util::Result<std::unique_ptr<Server>> Server::start(Options options, api::ImageUpdaterApi& api) {
  auto address = parse_listen(options.listen);
  if (!address) {
    return std::unexpected(address.error());
  }
  if (options.max_threads < 1 || options.max_queued < 1) {
    return util::fail(util::ErrorKind::invalid_input, "max_threads and max_queued must be >= 1");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return util::fail(util::ErrorKind::invalid_input,
                      "TLS needs both a certificate file and a key file");
  }
  Shared shared;
  shared.files_prefix = options.files_prefix;
  shared.files = options.files;
  shared.max_body_bytes = options.max_body_bytes;
  shared.read_timeout = options.read_timeout;
  shared.write_timeout = options.write_timeout;
  shared.registry = options.metrics;
  shared.logger = options.logger;
  if (options.metrics != nullptr) {
    shared.requests = &options.metrics->counter(
        "imageupdater_http_requests_total",
        "HTTP requests served, by method, route and status code.", {"method", "route", "code"});
    shared.latency = &options.metrics->histogram(
        "imageupdater_http_request_duration_seconds",
        "Time from reading the request to having written the response, by method and route.",
        {"method", "route"}, metrics::latency_buckets());
  }
  auto impl = std::make_unique<Impl>();
  std::unique_ptr<Poco::Net::ServerSocket> tls_socket;
  if (!options.tls_cert_file.empty()) {
    auto made = http::tls_server_socket(address->host, address->port, options.tls_cert_file,
                                        options.tls_key_file);
    if (!made) {
      return std::unexpected(made.error());
    }
    tls_socket = std::move(*made);
    impl->tls = true;
  }
  try {
    Poco::Net::ServerSocket socket =
        tls_socket
            ? *tls_socket
            : Poco::Net::ServerSocket(Poco::Net::SocketAddress(address->host, address->port));
    impl->port = socket.address().port();
    impl->socket = socket;
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options.max_threads);
    params->setMaxQueued(options.max_queued);
    params->setKeepAlive(options.max_keep_alive_requests > 0);
    params->setMaxKeepAliveRequests(options.max_keep_alive_requests);
    params->setKeepAliveTimeout(to_timespan(options.keep_alive_timeout));
    params->setTimeout(to_timespan(options.read_timeout));
    params->setServerName("imageupdater");
    impl->pool = std::make_unique<Poco::ThreadPool>(1, options.max_threads);
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory = new Factory(api, shared);
    impl->http = std::make_unique<Poco::Net::HTTPServer>(factory, *impl->pool, socket, params);
    impl->http->start();
  } catch (const Poco::Exception& e) {
    return util::fail(util::ErrorKind::transient,
                      "cannot listen on " + options.listen + ": " + e.displayText());
  } catch (const std::exception& e) {
    return util::fail(util::ErrorKind::transient,
                      "cannot listen on " + options.listen + ": " + e.what());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

} // namespace common::server
