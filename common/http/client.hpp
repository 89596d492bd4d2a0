// A narrow HTTP client interface: the registry client, the credential helpers and the tests talk
// to this, never to Poco. One implementation over Poco (poco_client.hpp), fakes in unit tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util/error.hpp"

namespace common::http {

// Header names compare case-insensitively; order is kept as sent/received.
using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

// The values of every header named `name` (case-insensitive), in order (several `Link` or
// `WWW-Authenticate` headers). The views point into `headers`.
std::vector<std::string_view> find_headers(const Headers& headers, std::string_view name);

// The media type of a Content-Type value without its parameters, trimmed and in lower case
// ("Application/JSON; charset=utf-8" -> "application/json").
std::string media_type(std::string_view content_type);

struct Request {
  std::string method = "GET"; // GET, HEAD, POST, PUT, DELETE
  std::string url;            // absolute: http[s]://host[:port]/path?query
  Headers headers;
  std::string body;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body; // empty for HEAD
};

// Per-request limits; the defaults are the secure ones.
struct Limits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{15000}; // between two reads, and for the whole body
  std::size_t max_body = std::size_t{16} << 20;  // 16 MiB; larger bodies fail with too_large
};

// An open response whose body is read as it arrives (a Kubernetes watch: chunked, endless).
// Not thread-safe, except cancel().
class ResponseStream {
public:
  virtual ~ResponseStream() = default;
  virtual int status() const = 0;
  virtual const Headers& headers() const = 0;
  // Blocks until some of the body arrived and returns it (at most `max` bytes, at least one);
  // "" at the end of the body, and once cancel() was called. Fails with transient (the
  // connection failed, malformed chunked framing, or the stream's deadline passed: see
  // Client::open).
  virtual util::Result<std::string> read(std::size_t max) = 0;
  // Ends the stream from any thread: a read() blocked in another thread returns "" promptly
  // (the socket is shut down). Idempotent. Must not race with the destructor.
  virtual void cancel() = 0;
};

class Client {
public:
  virtual ~Client() = default;
  // Sends one request and returns the response, whatever its status (4xx/5xx are responses,
  // not errors). Redirects are NOT followed: the caller decides, because credentials must not
  // follow a redirect to another host. Fails with transient (connect/read timeout, refused,
  // reset, DNS), too_large (body over the limit), invalid_input (bad URL) or auth (TLS
  // verification failed: the message names the host and says why).
  virtual util::Result<Response> send(const Request& request, const Limits& limits) = 0;

  // Sends one request and returns once the response head arrived; the body is read through the
  // stream, whatever its status. limits.connect_timeout bounds the connection as for send();
  // limits.read_timeout bounds the wait for the head AND the whole stream (a deadline: reads
  // fail with transient once it passed); limits.max_body is not applied (the caller bounds what
  // it keeps). The connection is never reused. Fails like send(). The default implementation
  // fails with unsupported (clients that only answer whole bodies, and test fakes).
  virtual util::Result<std::unique_ptr<ResponseStream>> open(const Request& request,
                                                             const Limits& limits);
};

} // namespace common::http
