// Checking an ssh server's host key against known_hosts text (OpenSSH's format), so an ssh
// fetch never trusts a key on first use. Pure: no files, no network.
//
// Supported: plain host patterns with '*' and '?' wildcards and '!' negation, comma-separated;
// "[host]:port" for a port other than 22 (as ssh-keyscan -p writes them: a plain "host" entry
// then does not match, as in OpenSSH); hashed hosts "|1|salt|hmac" (ssh-keygen -H); the
// "@revoked" marker. Lines with "@cert-authority" are ignored (host certificates are not
// supported), as are comments, blank lines and lines that do not parse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::gitsource {

// What the server presented: the key in ssh wire format (what a known_hosts line holds in
// base64) and/or its SHA-256. libssh2 gives the raw key; the hash alone is a fallback.
struct HostKey {
  std::string blob;   // raw key, "" when unknown
  std::string sha256; // 32 bytes, "" when unknown (computed from blob when that is given)
};

enum class HostKeyVerdict {
  trusted,      // a line for this host holds this key
  mismatch,     // lines for this host exist, none with this key (a changed or spoofed key)
  unknown_host, // no line names this host
  revoked,      // an @revoked line holds this key
};

const char* to_string(HostKeyVerdict verdict) noexcept;

// The verdict for `key` of `host` (a name or an IP address, IPv6 without brackets) at `port`.
// Fails with invalid_input when `known_hosts` holds no usable line at all (empty, or nothing
// parses): a configuration error rather than an untrusted host.
util::Result<HostKeyVerdict> check_host_key(std::string_view known_hosts, std::string_view host,
                                            std::uint16_t port, const HostKey& key);

// OpenSSH pattern matching: '*' any run, '?' one character; ASCII case-insensitive.
bool glob_match(std::string_view pattern, std::string_view text);

} // namespace common::gitsource
