#include "common/gitsource/known_hosts.hpp"

#include <array>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <vector>

#include "common/util/sha256.hpp"
#include "common/util/strings.hpp"

namespace common::gitsource {

namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(line.substr(start, i - start));
    }
  }
  return out;
}

// "|1|salt|hash": HMAC-SHA1 of the host name keyed with the salt.
bool hashed_match(std::string_view entry, std::string_view name) {
  std::string_view rest = entry.substr(3);
  auto bar = rest.find('|');
  if (bar == std::string_view::npos) {
    return false;
  }
  const auto salt = util::decode_base64(rest.substr(0, bar));
  const auto hash = util::decode_base64(rest.substr(bar + 1));
  if (!salt || !hash) {
    return false;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  if (HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()),
           reinterpret_cast<const unsigned char*>(name.data()), name.size(), mac.data(),
           &len) == nullptr) {
    return false;
  }
  return hash->size() == len && *hash == std::string_view(reinterpret_cast<char*>(mac.data()), len);
}

// OpenSSH's match_hostname: a negated pattern that matches vetoes the line.
bool hosts_match(std::string_view patterns, std::string_view name) {
  if (patterns.starts_with("|1|")) {
    return hashed_match(patterns, name);
  }
  bool matched = false;
  while (!patterns.empty()) {
    auto comma = patterns.find(',');
    std::string_view p = patterns.substr(0, comma);
    patterns.remove_prefix(comma == std::string_view::npos ? patterns.size() : comma + 1);
    bool negated = !p.empty() && p.front() == '!';
    if (negated) {
      p.remove_prefix(1);
    }
    if (p.empty() || !glob_match(p, name)) {
      continue;
    }
    if (negated) {
      return false;
    }
    matched = true;
  }
  return matched;
}

} // namespace

const char* to_string(HostKeyVerdict verdict) noexcept {
  switch (verdict) {
  case HostKeyVerdict::trusted:
    return "trusted";
  case HostKeyVerdict::mismatch:
    return "mismatch";
  case HostKeyVerdict::unknown_host:
    return "unknown_host";
  case HostKeyVerdict::revoked:
    return "revoked";
  }
  return "?";
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // fnmatch stops at a NUL: a name with one must not match on its prefix.
  if (pattern.find('\0') != std::string_view::npos || text.find('\0') != std::string_view::npos) {
    return false;
  }
  // OpenSSH's patterns know only '*' and '?': '[' (of "[host]:port"), ']' and '\\' are literal,
  // so they are escaped for fnmatch, which would read them as a bracket expression or an escape.
  std::string escaped;
  escaped.reserve(pattern.size() + 4);
  for (char c : pattern) {
    if (c == '[' || c == ']' || c == '\\') {
      escaped += '\\';
    }
    escaped += c;
  }
  // No FNM_PATHNAME or FNM_PERIOD: '*' crosses '.' and '/'. FNM_CASEFOLD is ASCII in the C locale,
  // which the programs never change.
  return ::fnmatch(escaped.c_str(), std::string(text).c_str(), FNM_CASEFOLD) == 0;
}

util::Result<HostKeyVerdict> check_host_key(std::string_view known_hosts, std::string_view host,
                                            std::uint16_t port, const HostKey& key) {
  std::string name = util::to_lower(host);
  if (port != 22) {
    name = "[" + name + "]:" + std::to_string(port);
  }
  std::string key_sha =
      key.sha256.empty() && !key.blob.empty() ? util::sha256_bytes(key.blob) : key.sha256;
  bool usable = false;
  bool known = false;
  bool trusted = false;
  while (!known_hosts.empty()) {
    auto nl = known_hosts.find('\n');
    std::string_view line = util::trim(known_hosts.substr(0, nl));
    known_hosts.remove_prefix(nl == std::string_view::npos ? known_hosts.size() : nl + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto fields = split_fields(line);
    bool revoked_line = false;
    if (!fields.empty() && fields.front().starts_with('@')) {
      if (fields.front() == "@revoked") {
        revoked_line = true;
      } else {
        continue; // @cert-authority and unknown markers
      }
      fields.erase(fields.begin());
    }
    if (fields.size() < 3) {
      continue;
    }
    const auto decoded = util::decode_base64(fields[2]);
    if (!decoded || decoded->empty()) {
      continue;
    }
    const std::string& blob = *decoded;
    usable = true;
    if (!hosts_match(fields[0], name)) {
      continue;
    }
    bool same = !key.blob.empty() ? blob == key.blob
                                  : (!key_sha.empty() && util::sha256_bytes(blob) == key_sha);
    if (revoked_line) {
      if (same) {
        return HostKeyVerdict::revoked;
      }
      continue;
    }
    known = true;
    trusted = trusted || same;
  }
  if (!usable) {
    return util::fail(util::ErrorKind::invalid_input,
                      "known_hosts holds no usable line (\"host keytype base64-key\")");
  }
  if (trusted) {
    return HostKeyVerdict::trusted;
  }
  return known ? HostKeyVerdict::mismatch : HostKeyVerdict::unknown_host;
}

} // namespace common::gitsource
