// Registry credentials as values. A Credential never appears in a log line: format it with
// redacted() when something must be said about it.
#pragma once

#include <string>

namespace common::credentials {

struct Credential {
  std::string username;
  std::string password; // or an identity/registry token when username is "<token>"

  bool empty() const noexcept { return username.empty() && password.empty(); }
  // "user:***" (or "<none>"), safe for logs and error messages.
  std::string redacted() const { return empty() ? "<none>" : username + ":***"; }
};

} // namespace common::credentials
