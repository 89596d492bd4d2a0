#include "common/gitsource/remote_url.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "common/util/sha256.hpp"
#include "common/util/strings.hpp"

namespace common::gitsource {

namespace {

util::Error bad(std::string_view text, std::string_view why) {
  return util::Error{util::ErrorKind::invalid_input, "invalid git URL " +
                                                         util::quote(redact_url_text(text)) + ": " +
                                                         std::string(why)};
}

std::uint16_t default_port(Scheme scheme) {
  switch (scheme) {
  case Scheme::https:
    return 443;
  case Scheme::http:
    return 80;
  case Scheme::ssh:
    return 22;
  case Scheme::git:
    return 9418;
  }
  return 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A dotted quad whose first octet is 127 ("127.0.0.1"); each part 0-255, no empty part.
bool is_loopback_ipv4(std::string_view s) {
  int parts = 0;
  unsigned first = 0;
  while (true) {
    auto dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit)) {
      return false;
    }
    unsigned value = 0;
    std::from_chars(part.data(), part.data() + part.size(), value);
    if (value > 255) {
      return false;
    }
    if (parts == 0) {
      first = value;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    s.remove_prefix(dot + 1);
  }
  return parts == 4 && first == 127;
}

// Host names: letters, digits, '-', '.', '_'; IPv6 literals come bracketed and are checked
// loosely (hex digits, ':' and '.').
bool valid_host(std::string_view host, bool ipv6) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [ipv6](char c) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
    return ipv6 ? (alnum || c == ':' || c == '.') : (alnum || c == '-' || c == '.' || c == '_');
  });
}

} // namespace

const char* to_string(Scheme scheme) noexcept {
  switch (scheme) {
  case Scheme::https:
    return "https";
  case Scheme::http:
    return "http";
  case Scheme::ssh:
    return "ssh";
  case Scheme::git:
    return "git";
  }
  return "?";
}

std::string redact_url_text(std::string_view text) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    return std::string(text);
  }
  std::string_view rest = text.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  auto at = rest.substr(0, end).rfind('@');
  if (at == std::string_view::npos) {
    return std::string(text);
  }
  return std::string(text.substr(0, sep + 3)) + "***" + std::string(rest.substr(at));
}

util::Result<RemoteUrl> parse_remote_url(std::string_view text) {
  if (text.empty()) {
    return std::unexpected(bad(text, "empty"));
  }
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7f) {
      return std::unexpected(bad(text, "white space, control or non-ASCII character"));
    }
  }
  auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    if (text.find(':') != std::string_view::npos && text.find('@') != std::string_view::npos) {
      return std::unexpected(
          bad(text, "the scp-like form is not supported; write ssh://user@host/path"));
    }
    return std::unexpected(bad(text, "not an absolute URL (https://, ssh://, http://, git://)"));
  }
  RemoteUrl url;
  std::string scheme = util::to_lower(text.substr(0, sep));
  if (scheme == "https") {
    url.scheme = Scheme::https;
  } else if (scheme == "http") {
    url.scheme = Scheme::http;
  } else if (scheme == "ssh" || scheme == "git+ssh" || scheme == "ssh+git") {
    url.scheme = Scheme::ssh;
  } else if (scheme == "git") {
    url.scheme = Scheme::git;
  } else {
    return std::unexpected(
        bad(text, "unsupported scheme \"" + scheme + "\" (https, ssh, and on loopback http, git)"));
  }
  std::string_view rest = text.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return std::unexpected(bad(text, "a query or fragment is not allowed"));
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (path.size() <= 1) {
    return std::unexpected(bad(text, "no repository path"));
  }
  url.path = std::string(path);

  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    if (url.scheme != Scheme::ssh) {
      return std::unexpected(
          bad(text, "credentials in the URL are not allowed (give them as auth)"));
    }
    if (userinfo.empty() || userinfo.find(':') != std::string_view::npos) {
      return std::unexpected(bad(text, "an ssh URL may name a user, never a password"));
    }
    url.user = std::string(userinfo);
  }

  std::string_view host;
  std::string_view port;
  bool ipv6 = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected(bad(text, "unterminated IPv6 address"));
    }
    host = authority.substr(1, close - 1);
    ipv6 = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return std::unexpected(bad(text, "malformed host"));
      }
      port = after.substr(1);
      if (port.empty()) {
        return std::unexpected(bad(text, "empty port"));
      }
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) {
        return std::unexpected(bad(text, "empty port"));
      }
    }
  }
  if (!valid_host(host, ipv6)) {
    return std::unexpected(bad(text, "empty or malformed host"));
  }
  url.host = util::to_lower(host);
  if (!url.host.empty() && url.host.back() == '.' && !ipv6) {
    url.host.pop_back();
    if (url.host.empty()) {
      return std::unexpected(bad(text, "empty or malformed host"));
    }
  }
  url.port = default_port(url.scheme);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::unexpected(bad(text, "port outside 1-65535"));
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  if ((url.scheme == Scheme::http || url.scheme == Scheme::git) && !is_loopback_host(url.host)) {
    return std::unexpected(bad(text, std::string(to_string(url.scheme)) +
                                         ":// is allowed to loopback hosts only (use https or "
                                         "ssh)"));
  }
  return url;
}

std::string canonical_url(const RemoteUrl& url) {
  std::string out = to_string(url.scheme);
  out += "://";
  if (!url.user.empty()) {
    out += url.user;
    out += '@';
  }
  bool ipv6 = url.host.find(':') != std::string::npos;
  out += ipv6 ? "[" + url.host + "]" : url.host;
  if (url.port != default_port(url.scheme)) {
    out += ':';
    out += std::to_string(url.port);
  }
  out += url.path;
  return out;
}

std::string origin(const RemoteUrl& url) {
  bool ipv6 = url.host.find(':') != std::string::npos;
  return std::string(to_string(url.scheme)) + "://" + (ipv6 ? "[" + url.host + "]" : url.host) +
         ":" + std::to_string(url.port);
}

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string h = util::to_lower(host);
  if (h == "localhost" || h == "localhost.") {
    return true;
  }
  if (h == "::1" || h == "0:0:0:0:0:0:0:1") {
    return true;
  }
  if (h.starts_with("::ffff:")) {
    return is_loopback_ipv4(std::string_view(h).substr(7));
  }
  return is_loopback_ipv4(h);
}

std::string mirror_name(const RemoteUrl& url) {
  return util::sha256_hex(canonical_url(url)) + ".git";
}

} // namespace common::gitsource
