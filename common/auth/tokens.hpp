// Bearer-token authentication and namespace authorisation for the REST API, from a token file:
//
//   tokens:
//     - name: ci-bot                 # who; shown in logs (the token never is)
//       token: "<at least 16 characters>"   # the bearer token, or instead:
//       sha256: "<64 hex digits>"    # its SHA-256, so the file need not hold the secret
//       namespaces: [team-a, team-b] # "*" = every namespace, and the cross-namespace list
//       access: write                # read | write (write includes read)
//
// Presented tokens are hashed and looked up by hash, so a comparison never runs over the secret
// itself. Every problem in the file is reported with its file:line:column and field; a file
// with any problem is refused as a whole.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::auth {

enum class Access { read, write };

struct Grant {
  std::string name;
  std::vector<std::string> namespaces; // sorted; "*" = all
  Access access = Access::read;
};

struct Decision {
  enum class Outcome { allowed, unauthenticated, forbidden } outcome = Outcome::unauthenticated;
  std::string principal; // the grant's name when the token was recognised
  std::string message;   // why not, for the 401/403 Status (never the token)
};

class TokenAuthenticator {
public:
  // Reads and checks the token file (invalid_input naming file, line and field on a problem;
  // not_found when it cannot be read).
  static util::Result<TokenAuthenticator> load(const std::string& path);
  // The same from text; `origin` names it in messages.
  static util::Result<TokenAuthenticator> parse(std::string_view text, const std::string& origin);

  // `authorization`: the request's Authorization header ("" when absent). `namespace_` "" means
  // every namespace. `write`: the request changes something.
  Decision check(std::string_view authorization, std::string_view namespace_, bool write) const;

  std::size_t size() const { return m_by_hash.size(); }

private:
  std::map<std::string, Grant, std::less<>> m_by_hash; // hex SHA-256 of the token -> grant
};

// The token of an Authorization header's value "Bearer <token>" (scheme case-insensitive,
// surrounding blanks trimmed; it may be empty); nullopt for another scheme or no value.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Whether `host` (of a listen address) is a loopback address: 127.0.0.0/8, ::1, "localhost".
bool is_loopback_host(std::string_view host);

} // namespace common::auth
