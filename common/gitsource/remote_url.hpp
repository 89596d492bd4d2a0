// The URL of a Git remote as GitSource accepts it: parsing, the scheme policy, the canonical
// text handed to libgit2 and named in messages, and the mirror's directory name. Pure: no I/O,
// no DNS.
//
// Scheme policy (a service fetching what it will render must not be talked into plain-text or
// local transports by a spec):
//   https://host[:port]/path        any host
//   ssh://[user@]host[:port]/path   any host (the host key is checked against known_hosts)
//   http://host[:port]/path         loopback hosts only (localhost, 127.0.0.0/8, ::1)
//   git://host[:port]/path          loopback hosts only (no authentication, no integrity)
// Refused with invalid_input: other schemes (file://, local paths), the scp-like form
// "git@host:org/repo" (write ssh://git@host/org/repo), credentials in the URL (https://u:p@...;
// they belong in Auth), a user name in an http(s) or git URL, a query or fragment, white space,
// control or non-ASCII characters, an empty path, a port outside 1-65535.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::gitsource {

enum class Scheme { https, http, ssh, git };

const char* to_string(Scheme scheme) noexcept;

struct RemoteUrl {
  Scheme scheme = Scheme::https;
  std::string user;       // ssh only, "" when absent ("git" in ssh://git@github.com/o/r)
  std::string host;       // lower case; an IPv6 address without its brackets ("::1")
  std::uint16_t port = 0; // as written, else the scheme's default (443, 80, 22, 9418)
  std::string path;       // starts with '/', as written ("/org/repo.git")

  bool operator==(const RemoteUrl&) const = default;
};

// Parses and checks `text` against the policy above. The message of an error names the URL
// with any userinfo replaced by "***".
util::Result<RemoteUrl> parse_remote_url(std::string_view text);

// `scheme://[user@]host[:port]path`, the port only when it is not the scheme's default, an IPv6
// host in brackets. parse_remote_url(canonical_url(u)) == u. It never holds a secret, so it is
// what libgit2 is given and what messages name.
std::string canonical_url(const RemoteUrl& url);

// `scheme://host:port`, always with the port: two URLs with the same origin may share
// credentials (a redirect to another origin must not).
std::string origin(const RemoteUrl& url);

// True for "localhost" (any case, optional trailing dot), 127.0.0.0/8, ::1 and
// ::ffff:127.x.x.x.
bool is_loopback_host(std::string_view host);

// The name of the URL's mirror directory under the cache directory: the SHA-256 of
// canonical_url() in hex plus ".git" (69 characters). Distinct URLs get distinct mirrors; the
// name reveals nothing about the URL.
std::string mirror_name(const RemoteUrl& url);

// `text` with the userinfo of a "scheme://userinfo@" prefix replaced by "***", for messages
// about URLs that did not parse.
std::string redact_url_text(std::string_view text);

} // namespace common::gitsource
