// Not Poco::URI, although Poco is linked here: these URLs decide where credentials go (the
// registry sends its token only to its own origin, follows a Location or a token realm only after
// comparing origins, and refuses plain http off loopback), so the parser is deliberately strict
// where Poco::URI is lenient: it refuses userinfo, spaces, control and non-ASCII bytes and bad
// percent-escapes instead of accepting or re-encoding them, and it normalises the host (case,
// IPv6 brackets) so that two spellings of one origin compare equal. Keep it; see url.hpp.
#include "common/http/url.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <charconv>
#include <netinet/in.h>

#include "common/util/strings.hpp"

namespace common::http {
namespace {

using util::ErrorKind;

using util::to_lower;

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::uint16_t default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

util::Result<Url> bad(std::string_view text, std::string_view why) {
  return util::fail(ErrorKind::invalid_input,
                    "invalid URL \"" + redact_url(text) + "\": " + std::string(why));
}

// Path and query characters: printable ASCII without space, '#' (the fragment is cut before)
// and '%' only as the start of an escape. Anything else would let a caller smuggle bytes into
// the request line.
bool valid_path_or_query(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c >= 0x7f || c == '#') {
      return false;
    }
    if (c == '%' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) {
      return false;
    }
  }
  return true;
}

bool valid_ipv4(const std::string& s) {
  in_addr addr{};
  return inet_pton(AF_INET, s.c_str(), &addr) == 1;
}

bool valid_ipv6(const std::string& s) {
  in6_addr addr{};
  return inet_pton(AF_INET6, s.c_str(), &addr) == 1;
}

// A host name, or a dotted-quad IPv4 address. A name whose last label looks numeric must be a
// strict dotted quad: resolvers read "127.1" or "0x7f.1" as 127.0.0.1, which would slip past
// is_loopback() and any allow-list comparing host strings.
bool valid_reg_name(const std::string& s) {
  const bool chars_ok = !s.empty() && std::ranges::all_of(s, [](char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
  });
  if (!chars_ok) {
    return false;
  }
  std::string_view name = s;
  if (name.ends_with('.')) {
    name.remove_suffix(1);
  }
  const auto dot = name.rfind('.');
  const auto last = dot == std::string_view::npos ? name : name.substr(dot + 1);
  const bool numeric = !last.empty() && (std::ranges::all_of(last, is_digit) ||
                                         last.starts_with("0x") || last.starts_with("0X"));
  return !numeric || valid_ipv4(s);
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      const auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const auto next = in.find('/', 1);
      const auto segment = in.substr(0, next);
      out.append(segment);
      in.remove_prefix(segment.size());
    }
  }
  return out;
}

// Splits "path?query#fragment" into path and query; the fragment is dropped.
std::pair<std::string_view, std::string_view> split_path_query(std::string_view rest) {
  rest = rest.substr(0, rest.find('#'));
  const auto q = rest.find('?');
  if (q == std::string_view::npos) {
    return {rest, {}};
  }
  return {rest.substr(0, q), rest.substr(q + 1)};
}

bool has_scheme(std::string_view ref) {
  const auto colon = ref.find(':');
  if (colon == std::string_view::npos || colon == 0 || !is_alpha(ref[0])) {
    return false;
  }
  return std::ranges::all_of(ref.substr(0, colon), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
  });
}

} // namespace

util::Result<Url> parse_url(std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) {
      return bad(text, "spaces, control and non-ASCII characters must be percent-encoded");
    }
  }
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    return bad(text, "not an absolute http(s) URL");
  }
  Url url;
  url.scheme = to_lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return bad(text, "scheme must be http or https");
  }
  std::string_view rest = text.substr(sep + 3);
  const auto auth_end = rest.find_first_of("/?#");
  const std::string_view auth = rest.substr(0, auth_end);
  rest = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (auth.find('@') != std::string_view::npos) {
    return bad(text, "credentials in URLs are not accepted; send them in a header");
  }

  std::string_view host;
  std::string_view port;
  if (auth.starts_with('[')) {
    const auto close = auth.find(']');
    if (close == std::string_view::npos) {
      return bad(text, "unterminated IPv6 address");
    }
    host = auth.substr(1, close - 1);
    const auto after = auth.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) {
      return bad(text, "unexpected characters after the IPv6 address");
    }
    port = after.empty() ? after : after.substr(1);
    url.host = to_lower(host);
    if (!valid_ipv6(url.host)) {
      return bad(text, "malformed IPv6 address");
    }
  } else {
    const auto colon = auth.rfind(':');
    host = auth.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view{} : auth.substr(colon + 1);
    url.host = to_lower(host);
    if (!valid_reg_name(url.host)) {
      return bad(text, url.host.empty() ? "empty host" : "malformed host");
    }
  }

  url.port = default_port(url.scheme);
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535 ||
        !std::ranges::all_of(port, is_digit)) {
      return bad(text, "port must be a number from 1 to 65535");
    }
    url.port = static_cast<std::uint16_t>(value);
  }

  const auto [path, query] = split_path_query(rest);
  if (!valid_path_or_query(path) || !valid_path_or_query(query)) {
    return bad(text, "malformed percent-escape in path or query");
  }
  url.path = path.empty() ? "/" : std::string(path);
  url.query = std::string(query);
  return url;
}

std::string authority(const Url& url) {
  std::string out = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != default_port(url.scheme)) {
    out += ':' + std::to_string(url.port);
  }
  return out;
}

std::string to_string(const Url& url) {
  return url.scheme + "://" + authority(url) + request_target(url);
}

std::string origin(const Url& url) {
  const std::string host =
      url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return url.scheme + "://" + host + ':' + std::to_string(url.port);
}

std::string request_target(const Url& url) {
  return url.query.empty() ? url.path : url.path + '?' + url.query;
}

bool same_origin(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

util::Result<Url> resolve(const Url& base, std::string_view reference) {
  if (has_scheme(reference)) {
    return parse_url(reference);
  }
  if (reference.starts_with("//")) {
    return parse_url(base.scheme + ":" + std::string(reference));
  }
  const auto [ref_path, ref_query] = split_path_query(reference);
  const bool has_query = reference.substr(0, reference.find('#')).find('?') != std::string::npos;
  Url out = base;
  if (ref_path.empty()) {
    if (has_query) {
      out.query = std::string(ref_query);
    }
  } else {
    std::string merged;
    if (ref_path.starts_with('/')) {
      merged = std::string(ref_path);
    } else {
      merged = base.path.substr(0, base.path.rfind('/') + 1) + std::string(ref_path);
    }
    out.path = remove_dot_segments(merged);
    if (!out.path.starts_with('/')) {
      out.path.insert(out.path.begin(), '/');
    }
    out.query = std::string(ref_query);
  }
  if (!valid_path_or_query(out.path) || !valid_path_or_query(out.query)) {
    return util::fail(ErrorKind::invalid_input,
                      "invalid URL reference \"" + std::string(reference) + "\" against " +
                          to_string(base) + ": bad characters in path or query");
  }
  return out;
}

bool is_loopback(std::string_view host) {
  if (host.starts_with('[') && host.ends_with(']') && host.size() >= 2) {
    host = host.substr(1, host.size() - 2);
  }
  std::string h = to_lower(host);
  if (h == "localhost" || h == "localhost.") {
    return true;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static constexpr std::array<unsigned char, 16> k_loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                              0, 0, 0, 0, 0, 0, 0, 1};
    const auto* b = v6.s6_addr;
    if (std::equal(k_loopback.begin(), k_loopback.end(), b)) {
      return true;
    }
    // IPv4-mapped ::ffff:127.x.x.x
    const bool mapped = std::all_of(b, b + 10, [](unsigned char x) { return x == 0; }) &&
                        b[10] == 0xff && b[11] == 0xff;
    return mapped && b[12] == 127;
  }
  return false;
}

std::string percent_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    if (is_unreserved(ch)) {
      out += ch;
    } else {
      const auto c = static_cast<unsigned char>(ch);
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0x0f];
    }
  }
  return out;
}

std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) {
      out += '&';
    }
    out += percent_encode(key);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

std::string redact_url(std::string_view text) {
  if (const auto query = text.find('?'); query != std::string_view::npos) {
    const auto fragment = text.find('#', query);
    return redact_url(text.substr(0, query)) + "?..." +
           (fragment == std::string_view::npos ? std::string()
                                               : std::string(text.substr(fragment)));
  }
  const auto sep = text.find("://");
  const auto start = sep == std::string_view::npos ? 0 : sep + 3;
  const auto auth_end = text.find_first_of("/#", start);
  const auto at = text.substr(0, auth_end).rfind('@');
  if (at == std::string_view::npos || at < start) {
    return std::string(text);
  }
  return std::string(text.substr(0, start)) + "***" + std::string(text.substr(at));
}

std::string to_display(const Url& url) {
  return url.scheme + "://" + authority(url) + url.path + (url.query.empty() ? "" : "?...");
}

} // namespace common::http
