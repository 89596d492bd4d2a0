// Errors as values: every operation that can fail on input or I/O returns Result<T>.
// Callers branch on Error::kind, never on the message text.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace common::util {

enum class ErrorKind {
  invalid_input, // the caller's input is wrong (a spec, a flag, a constraint, a tag)
  not_found,     // the thing asked for does not exist (or no tag qualifies)
  auth,          // credentials missing or refused
  transient,     // worth retrying: timeouts, 5xx, connection resets, 429
  conflict,      // a concurrent change won (optimistic concurrency)
  too_large,     // a size bound was hit
  unsupported,   // valid input that this build does not handle
  internal,      // a bug or an unexpected state
};

// Short stable name of a kind ("invalid_input", ...), for logs and JSON.
const char* to_string(ErrorKind kind) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

// Builds the unexpected value of a Result: `return util::fail(ErrorKind::invalid_input, "...")`.
inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error{kind, std::move(message)});
}

} // namespace common::util
