#include "tests/http/test_server.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <Poco/Event.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>

namespace common::http::test {
namespace {

class PocoExchange final : public Exchange {
public:
  PocoExchange(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
               Poco::Event& stopping)
      : m_request(request), m_response(response), m_stopping(stopping),
        m_method(request.getMethod()), m_target(request.getURI()) {
    for (const auto& [name, value] : request) {
      m_headers.emplace_back(name, value);
    }
  }

  const std::string& method() const override { return m_method; }
  const std::string& target() const override { return m_target; }
  const Headers& headers() const override { return m_headers; }
  const std::string& body() override {
    if (!m_body_read) {
      Poco::StreamCopier::copyToString(m_request.stream(), m_body);
      m_body_read = true;
    }
    return m_body;
  }

  void respond(int status, const Headers& headers, std::string_view body) override {
    m_response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    for (const auto& [name, value] : headers) {
      m_response.add(name, value);
    }
    m_response.setContentLength64(static_cast<Poco::Int64>(body.size()));
    std::ostream& out = m_response.send();
    if (m_method != "HEAD") {
      out.write(body.data(), static_cast<std::streamsize>(body.size()));
    }
    out.flush();
  }

  void respond_chunked(int status, const std::vector<std::string>& chunks) override {
    m_response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    m_response.setChunkedTransferEncoding(true);
    std::ostream& out = m_response.send();
    for (const auto& chunk : chunks) {
      out << chunk;
      out.flush();
    }
  }

  void pause(std::chrono::milliseconds duration) override {
    m_stopping.tryWait(static_cast<long>(duration.count()));
  }

private:
  Poco::Net::HTTPServerRequest& m_request;
  Poco::Net::HTTPServerResponse& m_response;
  Poco::Event& m_stopping;
  std::string m_method;
  std::string m_target;
  Headers m_headers;
  std::string m_body;
  bool m_body_read = false;
};

struct Shared {
  std::map<std::string, TestServer::Handler> routes;
  Poco::Event stopping{Poco::Event::EVENT_MANUALRESET};
  std::mutex mutex;
  std::set<std::uint16_t> client_ports;
  std::atomic<std::size_t> requests{0};
};

class Handler final : public Poco::Net::HTTPRequestHandler {
public:
  explicit Handler(Shared& shared) : m_shared(shared) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    {
      const std::lock_guard lock(m_shared.mutex);
      m_shared.client_ports.insert(request.clientAddress().port());
    }
    ++m_shared.requests;
    PocoExchange exchange(request, response, m_shared.stopping);
    const std::string path = exchange.target().substr(0, exchange.target().find('?'));
    const auto it = m_shared.routes.find(path);
    if (it == m_shared.routes.end()) {
      exchange.respond(404, {}, "no route " + path);
      return;
    }
    it->second(exchange);
  }

private:
  Shared& m_shared;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
  explicit Factory(Shared& shared) : m_shared(shared) {}
  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(m_shared);
  }

private:
  Shared& m_shared;
};

} // namespace

struct TestServer::Impl {
  Shared shared;
  bool tls = false;
  Poco::ThreadPool pool{2, 16};
  std::unique_ptr<Poco::Net::ServerSocket> socket;
  std::unique_ptr<Poco::Net::HTTPServer> server;
};

TestServer::TestServer(std::map<std::string, Handler> routes, std::optional<ServerTls> tls)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->shared.routes = std::move(routes);
  const Poco::Net::SocketAddress address("127.0.0.1", 0);
  if (tls) {
    Poco::Net::Context::Params params;
    params.certificateFile = tls->cert_file;
    params.privateKeyFile = tls->key_file;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    if (!tls->client_ca_file.empty()) {
      params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
      params.caLocation = tls->client_ca_file;
      params.loadDefaultCAs = false;
    }
    params.cipherList = "DEFAULT";
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    // Poco would check a client certificate's names against the client's address.
    context->enableExtendedCertificateVerification(false);
    m_impl->socket = std::make_unique<Poco::Net::SecureServerSocket>(address, 64, context);
    m_impl->tls = true;
  } else {
    m_impl->socket = std::make_unique<Poco::Net::ServerSocket>(address);
  }
  auto* params = new Poco::Net::HTTPServerParams;
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(5, 0));
  params->setMaxThreads(16);
  // Idle dispatcher threads leave quickly, so that joinAll() at the end never waits long for one
  // started by a last connection.
  params->setThreadIdleTime(Poco::Timespan(0, 100000));
  m_impl->server = std::make_unique<Poco::Net::HTTPServer>(new Factory(m_impl->shared),
                                                           m_impl->pool, *m_impl->socket, params);
  m_impl->server->start();
}

TestServer::~TestServer() {
  m_impl->shared.stopping.set();
  // Poco's acceptor polls with a fixed 250 ms timeout and checks for stop in between; wake it
  // with connections so that every test does not pay that.
  std::atomic<bool> stopped{false};
  std::thread waker([&] {
    const Poco::Net::SocketAddress address("127.0.0.1", port());
    while (!stopped) {
      try {
        Poco::Net::StreamSocket socket;
        socket.connect(address, Poco::Timespan(0, 100000));
      } catch (const Poco::Exception&) { // NOLINT: refused once the server is gone
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  m_impl->server->stopAll(true);
  stopped = true;
  waker.join();
  m_impl->pool.joinAll();
}

std::uint16_t TestServer::port() const {
  return m_impl->socket->address().port();
}

std::string TestServer::url(std::string_view path, std::string_view host) const {
  return std::string(m_impl->tls ? "https://" : "http://") + std::string(host) + ":" +
         std::to_string(port()) + std::string(path);
}

std::size_t TestServer::connections() const {
  const std::lock_guard lock(m_impl->shared.mutex);
  return m_impl->shared.client_ports.size();
}

std::size_t TestServer::requests() const {
  return m_impl->shared.requests;
}

// ---------------------------------------------------------------------------------------------

namespace {

constexpr int k_wait_ms = 2000;

class RawIo final : public RawServer::Io {
public:
  explicit RawIo(int listener) : m_listener(listener) {}
  ~RawIo() override {
    for (const int fd : m_fds) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  RawIo(const RawIo&) = delete;
  RawIo& operator=(const RawIo&) = delete;

  int accept(std::chrono::milliseconds wait) override {
    pollfd p{m_listener, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) {
      return -1;
    }
    const int fd = ::accept(m_listener, nullptr, nullptr);
    if (fd < 0) {
      return -1;
    }
    m_fds.push_back(fd);
    return static_cast<int>(m_fds.size() - 1);
  }

  std::string read_head(int connection) override {
    std::string data;
    const int fd = fd_of(connection);
    while (fd >= 0 && data.find("\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, k_wait_ms) != 1) {
        break;
      }
      char buffer[4096];
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        break;
      }
      data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
  }

  void write(int connection, std::string_view data) override {
    const int fd = fd_of(connection);
    while (fd >= 0 && !data.empty()) {
      const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void close(int connection) override {
    if (connection >= 0 && static_cast<std::size_t>(connection) < m_fds.size() &&
        m_fds[static_cast<std::size_t>(connection)] >= 0) {
      ::close(m_fds[static_cast<std::size_t>(connection)]);
      m_fds[static_cast<std::size_t>(connection)] = -1;
    }
  }

private:
  int fd_of(int connection) const {
    return connection >= 0 && static_cast<std::size_t>(connection) < m_fds.size()
               ? m_fds[static_cast<std::size_t>(connection)]
               : -1;
  }
  int m_listener;
  std::vector<int> m_fds;
};

} // namespace

struct RawServer::Impl {
  int listener = -1;
  std::uint16_t port = 0;
  std::thread thread;
};

RawServer::RawServer(std::function<void(Io&)> script) : m_impl(std::make_unique<Impl>()) {
  m_impl->listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(m_impl->listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m_impl->listener, 16) != 0 ||
      ::getsockname(m_impl->listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("RawServer");
    std::abort();
  }
  m_impl->port = ntohs(addr.sin_port);
  m_impl->thread = std::thread([listener = m_impl->listener, script = std::move(script)] {
    RawIo io(listener);
    script(io);
  });
}

RawServer::~RawServer() {
  m_impl->thread.join();
  ::close(m_impl->listener);
}

std::uint16_t RawServer::port() const {
  return m_impl->port;
}

std::string RawServer::url(std::string_view path, std::string_view scheme) const {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(m_impl->port) + std::string(path);
}

bool make_certificate(const std::string& cert_file, const std::string& key_file,
                      const std::string& common_name, const std::string& subject_alt_names) {
  const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                              "-nodes -days 2 -subj '/CN=" +
                              common_name + "' -addext 'subjectAltName=" + subject_alt_names +
                              "' -keyout '" + key_file + "' -out '" + cert_file + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return false;
  }
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    output += buffer;
  }
  if (::pclose(pipe) != 0) {
    std::cerr << command << "\n" << output;
    return false;
  }
  return true;
}

} // namespace common::http::test
