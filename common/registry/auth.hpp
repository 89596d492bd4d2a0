// Registry authentication pieces (Docker token auth, distribution docs/spec/auth/token.md, and
// HTTP Basic), parsed and cached here; the request flow lives in the client. Credentials never
// appear in a message produced here.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/credentials/credential.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::registry {

// One challenge of a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."`.
struct Challenge {
  std::string scheme;                        // lower case: "basic", "bearer", ...
  std::map<std::string, std::string> params; // names lower case, values unquoted and unescaped

  // The parameter's value, "" when absent.
  std::string param(std::string_view name) const;
};

// Parses a WWW-Authenticate value into its challenges, in order (RFC 9110 section 11.6.1:
// several challenges may share one header, separated by commas; values are tokens or quoted
// strings with backslash escapes; a token68 is kept as the parameter named ""). Fails
// (invalid_input) on an unterminated quoted string or a parameter without a challenge.
util::Result<std::vector<Challenge>> parse_challenges(std::string_view header);

struct Token {
  std::string value;
  std::chrono::seconds expires_in{60};
};

// Parses a token service answer: `token` or `access_token` (token wins when both are present,
// as in docker), `expires_in` (default 60 s when absent or not a positive number; shorter
// values are honoured). Fails (invalid_input) on anything not JSON or without a non-empty token;
// the message names `source` (the token URL) and never the body.
util::Result<Token> parse_token_response(std::string_view body, std::string_view source);

// "Basic " + base64(username ":" password).
std::string basic_authorization(const credentials::Credential& credential);

// Bearer tokens keyed by (realm, service, scope), valid until expiry minus a margin (10 s, or
// half the lifetime for short ones). Thread-safe.
class TokenCache {
public:
  explicit TokenCache(util::Clock& clock) : m_clock(clock) {}

  std::optional<std::string> find(const std::string& realm, const std::string& service,
                                  const std::string& scope) const;
  void store(const std::string& realm, const std::string& service, const std::string& scope,
             const Token& token);
  void erase(const std::string& realm, const std::string& service, const std::string& scope);

private:
  using Key = std::tuple<std::string, std::string, std::string>;
  struct Entry {
    std::string token;
    std::chrono::steady_clock::time_point valid_until;
  };
  util::Clock& m_clock;
  mutable std::mutex m_mutex;
  std::map<Key, Entry> m_entries;
};

} // namespace common::registry
