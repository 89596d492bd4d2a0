// A narrow HTTP client interface: the registry client, the credential helpers and the tests talk
// to this, never to Poco. One implementation over Poco (poco_client.hpp), fakes in unit tests.
#pragma once

#include <chrono>
#include <cstddef>
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

class Client {
public:
  virtual ~Client() = default;
  // Sends one request and returns the response, whatever its status (4xx/5xx are responses,
  // not errors). Redirects are NOT followed: the caller decides, because credentials must not
  // follow a redirect to another host. Fails with transient (connect/read timeout, refused,
  // reset, DNS), too_large (body over the limit), invalid_input (bad URL) or auth (TLS
  // verification failed: the message names the host and says why).
  virtual util::Result<Response> send(const Request& request, const Limits& limits) = 0;
};

} // namespace common::http
