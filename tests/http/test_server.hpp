// Loopback servers for the http tests: a Poco HTTP(S) server with per-path handlers, and a
// scripted raw TCP server for misbehaviour Poco's server cannot produce (closing a keep-alive
// connection mid-exchange, short bodies, silent TLS peers). Both listen on 127.0.0.1, port 0.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/client.hpp"

namespace common::http::test {

// One request seen by TestServer, and the means to answer it.
class Exchange {
public:
  virtual ~Exchange() = default;
  virtual const std::string& method() const = 0;
  virtual const std::string& target() const = 0;
  virtual const Headers& headers() const = 0;
  // Reads the request body on first call.
  virtual const std::string& body() = 0;
  // Answers with Content-Length = body.size(); for HEAD only the head is sent.
  virtual void respond(int status, const Headers& headers = {}, std::string_view body = {}) = 0;
  // Answers with Transfer-Encoding: chunked, one chunk per element.
  virtual void respond_chunked(int status, const std::vector<std::string>& chunks) = 0;
  // Sleeps `duration` unless the server is being stopped first.
  virtual void pause(std::chrono::milliseconds duration) = 0;
};

struct ServerTls {
  std::string cert_file;
  std::string key_file;
  // When set: a client certificate signed by this CA is required (the handshake fails without).
  std::string client_ca_file = {};
};

class TestServer {
public:
  using Handler = std::function<void(Exchange&)>;
  // Routes by path (target without query); unknown paths get 404.
  explicit TestServer(std::map<std::string, Handler> routes,
                      std::optional<ServerTls> tls = std::nullopt);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const;
  // "http[s]://host:port" + path.
  std::string url(std::string_view path, std::string_view host = "127.0.0.1") const;
  // Distinct client connections that sent at least one request, and requests handled.
  std::size_t connections() const;
  std::size_t requests() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// A raw TCP server running `script` on its own thread. Every blocking call gives up after
// two seconds (returning -1 / empty), so a failing test cannot hang.
class RawServer {
public:
  class Io {
  public:
    virtual ~Io() = default;
    // A connection id, or -1 when none arrives within `wait`.
    virtual int accept(std::chrono::milliseconds wait = std::chrono::milliseconds(2000)) = 0;
    virtual std::string read_head(int connection) = 0; // up to and including CRLFCRLF
    virtual void write(int connection, std::string_view data) = 0;
    virtual void close(int connection) = 0;
  };
  explicit RawServer(std::function<void(Io&)> script);
  ~RawServer(); // joins the script thread
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  std::uint16_t port() const;
  std::string url(std::string_view path, std::string_view scheme = "http") const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Runs `openssl req` to write a self-signed EC certificate (its own CA) and key. Returns false
// (after printing the command's output) when openssl fails.
bool make_certificate(const std::string& cert_file, const std::string& key_file,
                      const std::string& common_name, const std::string& subject_alt_names);

} // namespace common::http::test
