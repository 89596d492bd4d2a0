// A transport-independent HTTP exchange: what a server (common/server's front end, a test) hands
// to the API handlers and gets back. No I/O here; the transport decodes the request line, splits
// the query string (already percent-decoded) and writes the response.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common::api {

struct HttpRequest {
  std::string method; // "GET", "POST", ... (upper case, as on the wire)
  std::string path;   // without the query string: "/kapis/gitops.kubesphere.io/v1alpha1/..."
  std::map<std::string, std::string> query; // decoded; one value per name (the last given)
  // Header names in any case: header() compares them case-insensitively.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of the header `name` (ASCII case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers in order ("Allow", "Warning", ...); a name may repeat.
  std::vector<std::pair<std::string, std::string>> headers;
  // Who made the request (the token's name) when authentication is on; for logs, not sent.
  std::string principal;
};

} // namespace common::api
