#include "common/server/server.hpp"

#include <exception>
#include <istream>
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
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include "common/api/status.hpp"
#include "common/util/sigpipe_guard.hpp"

namespace common::server {

namespace {

Poco::Timespan to_timespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

void write_response(Poco::Net::HTTPServerResponse& out, const api::HttpResponse& response) {
  out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
  out.setContentType(response.content_type);
  for (const auto& [name, value] : response.headers) {
    out.add(name, value);
  }
  out.setContentLength(static_cast<std::streamsize>(response.body.size()));
  std::ostream& body = out.send();
  body.write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
}

struct Limits {
  std::size_t max_body_bytes;
  std::chrono::milliseconds read_timeout;
  std::chrono::milliseconds write_timeout;
};

class Handler final : public Poco::Net::HTTPRequestHandler {
public:
  Handler(api::ImageUpdaterApi& api, const Limits& limits) : m_api(api), m_limits(limits) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    // A client that hangs up must not kill the process with SIGPIPE on our next write.
    const util::SigpipeGuard sigpipe;
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
  }

private:
  void fail(Poco::Net::HTTPServerResponse& out, const api::HttpResponse& status) {
    if (out.sent()) {
      return; // too late for a Status: the connection closes with a truncated answer
    }
    try {
      out.setKeepAlive(false);
      write_response(out, status);
    } catch (...) {
      // Nothing more to do for a client that is gone.
    }
  }

  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    // Per-socket timeouts of this connection (Poco's params only carry one timeout).
    auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
    socket.setReceiveTimeout(to_timespan(m_limits.read_timeout));
    socket.setSendTimeout(to_timespan(m_limits.write_timeout));

    const Poco::URI uri(request.getURI());
    api::HttpRequest req;
    req.method = request.getMethod();
    req.path = uri.getPath(); // percent-decoded
    if ((req.method == "GET" || req.method == "HEAD") &&
        (req.path == "/healthz" || req.path == "/readyz")) {
      write_response(response, api::HttpResponse{200, "text/plain", "ok", {}});
      return;
    }
    const auto too_large = [&] {
      response.setKeepAlive(false); // the unread body must not be taken for the next request
      write_response(response,
                     api::status_response(413, "RequestEntityTooLarge",
                                          "request body larger than " +
                                              std::to_string(m_limits.max_body_bytes) + " bytes"));
    };
    const auto declared = request.getContentLength64();
    if (declared != Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH &&
        static_cast<std::uint64_t>(declared) > m_limits.max_body_bytes) {
      too_large();
      return;
    }
    if (request.getExpectContinue()) {
      response.sendContinue();
    }
    // Chunked (or declared within the limit): read at most one byte past the limit.
    std::istream& in = request.stream();
    char buffer[16384];
    while (in) {
      in.read(buffer, sizeof buffer);
      req.body.append(buffer, static_cast<std::size_t>(in.gcount()));
      if (req.body.size() > m_limits.max_body_bytes) {
        too_large();
        return;
      }
    }
    const auto parameters = uri.getQueryParameters(); // decoded; the last value of a name wins
    for (const auto& [name, value] : parameters) {
      req.query[name] = value;
    }
    for (const auto& [name, value] : request) {
      req.headers.emplace_back(name, value);
    }
    write_response(response, m_api.handle(req));
  }

  api::ImageUpdaterApi& m_api;
  const Limits& m_limits;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
  Factory(api::ImageUpdaterApi& api, Limits limits) : m_api(api), m_limits(limits) {}
  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(m_api, m_limits);
  }

private:
  api::ImageUpdaterApi& m_api;
  Limits m_limits; // outlives every handler: the factory is held by the HTTPServer
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
  bool stopped = false;
};

Server::Server(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Server::~Server() {
  stop();
}

std::uint16_t Server::port() const {
  return m_impl->port;
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
  auto impl = std::make_unique<Impl>();
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(address->host, address->port));
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
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory = new Factory(
        api, Limits{options.max_body_bytes, options.read_timeout, options.write_timeout});
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
