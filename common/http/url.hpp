// Absolute http(s) URLs: parsing, reference resolution (for `Location` and `Link` headers),
// origins and query encoding. Pure functions: no I/O, no DNS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util/error.hpp"

namespace common::http {

struct Url {
  std::string scheme;     // "http" or "https"
  std::string host;       // lower case; an IPv6 address without its brackets ("::1")
  std::uint16_t port = 0; // as written, else the scheme's default (80, 443)
  std::string path;       // starts with '/'; percent-encoding kept as written
  std::string query;      // after '?', without it; empty when absent

  bool operator==(const Url&) const = default;
};

// Parses an absolute URL `http[s]://host[:port][/path][?query][#fragment]`. The scheme and host
// are case-insensitive (stored lower case), an empty path becomes "/", the fragment is dropped.
// Fails with invalid_input on another scheme, an empty or malformed host, a port outside
// 1-65535, userinfo (`user:pass@`: credentials travel in headers, never in URLs), spaces or
// control or non-ASCII characters, or a '%' not followed by two hex digits. The message names
// the URL with any userinfo redacted.
util::Result<Url> parse_url(std::string_view text);

// `scheme://host[:port]path[?query]`; the port only when it is not the scheme's default; an
// IPv6 host in brackets. parse_url(to_string(u)) == u.
std::string to_string(const Url& url);

// `scheme://host:port`, always with the port ("https://ghcr.io:443"), for keying per-origin
// settings and connection pools.
std::string origin(const Url& url);

// The Host header value: host (bracketed if IPv6) and ":port" unless it is the default.
std::string authority(const Url& url);

// The request target: path and, when there is one, "?query".
std::string request_target(const Url& url);

// Same scheme, host and port.
bool same_origin(const Url& a, const Url& b);

// Resolves `reference` against `base` as RFC 3986 §5.2 does: an absolute URL (http/https), a
// scheme-relative `//host/path`, an absolute path `/p?q`, a query `?q` or a relative path `p`
// (dot segments removed). Fails with invalid_input when the result does not parse (other
// scheme, bad characters, ...).
util::Result<Url> resolve(const Url& base, std::string_view reference);

// True for "localhost" (any case, optional trailing dot), 127.0.0.0/8, ::1 and ::ffff:127.x.x.x.
// An IPv6 host may be given with or without brackets.
bool is_loopback(std::string_view host);

// Percent-encodes everything except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);

// "k1=v1&k2=v2" with keys and values percent-encoded, in the given order.
std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params);

// `text` with the userinfo of its authority (if any) replaced by "***" and its query (if any)
// by "?...", for messages: a query may carry a credential (a pre-signed blob URL's signature).
std::string redact_url(std::string_view text);

// `scheme://host[:port]path`, plus "?..." when the URL has a query: how the http layer names a
// request in messages (see redact_url).
std::string to_display(const Url& url);

} // namespace common::http
