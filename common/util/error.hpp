// Errors as values: every operation that can fail on input or I/O returns Result<T>.
// Callers branch on Error::kind (and read Error::where for the place), never on the message
// text. What each kind means to a retry loop, a process exit code, an HTTP answer and a
// Kubernetes condition is one table: common/util/outcome.hpp.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace common::util {

// Stored as its number by the on-disk cache (cache/key_lock.cpp): append new kinds at the end.
enum class ErrorKind {
  invalid_input, // the caller's input is wrong (a spec, a flag, a constraint, a tag)
  not_found,     // the thing asked for does not exist (or no tag qualifies)
  auth,          // credentials missing or refused (HTTP 401/403 of a registry, a git server)
  transient,     // worth retrying: timeouts, deadlines, 5xx, connection resets, 429
  conflict,      // a concurrent change won (optimistic concurrency)
  too_large,     // a size bound was hit
  unsupported,   // valid input that this build does not handle
  internal,      // a bug or an unexpected state
  gone,          // a resumption point expired (a watch resourceVersion, a continue token: HTTP
                 // 410): start over with a fresh list
};

// Every kind, in declaration order (for tables and their tests).
inline constexpr ErrorKind k_error_kinds[] = {
    ErrorKind::invalid_input, ErrorKind::not_found, ErrorKind::auth,        ErrorKind::transient,
    ErrorKind::conflict,      ErrorKind::too_large, ErrorKind::unsupported, ErrorKind::internal,
    ErrorKind::gone,
};

// Short stable name of a kind ("invalid_input", ...), for logs and JSON.
const char* to_string(ErrorKind kind) noexcept;

// Where an error is, as far as the code that found it knows: each part is optional (empty or
// 0 when unknown). Lines and columns are 1-based. `field` is a path in the object as written
// ("spec.images[0]", "filterTags.extract").
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string field;

  bool operator==(const Location&) const = default;
};

// Builders (GCC 12 warns about partial aggregate initialisation of Location).
Location at_line(std::string file, int line, int column = 0);
Location at_field(std::string field);

// "file:line:column: field" with the unknown parts left out ("a.yaml:3", "spec.images",
// "a.yaml:3:7: spec.images[0]"); "" when nothing is known.
std::string to_string(const Location& where);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  // The whole human-readable text, as shown to users (it already names the place where the
  // producer has one: `where` is the same place for code, not a second rendering).
  std::string message;
  std::optional<Location> where;

  Error() = default;
  Error(ErrorKind kind_, std::string message_, std::optional<Location> where_ = std::nullopt)
      : kind(kind_), message(std::move(message_)), where(std::move(where_)) {}
};

template <class T>
using Result = std::expected<T, Error>;

// Builds the unexpected value of a Result: `return util::fail(ErrorKind::invalid_input, "...")`.
inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error(kind, std::move(message)));
}

// An error at `where` whose message is rendered consistently: "<to_string(where)>: <what>"
// ("a.yaml:3:7: spec.images[0]: want a string"), or `what` alone when nothing is known.
Error located(ErrorKind kind, Location where, std::string_view what);
inline std::unexpected<Error> fail_at(ErrorKind kind, Location where, std::string_view what) {
  return std::unexpected<Error>(located(kind, std::move(where), what));
}

// The same error seen from further out: the message becomes "<context>: <message>"; kind and
// location are kept. An empty context changes nothing.
Error with_context(Error error, std::string_view context);

// The same error with the parts of its location it does not know yet taken from `outer`
// (what the inner code knew wins: a scanner's line beats the caller's). The message is
// unchanged.
Error with_location(Error error, const Location& outer);

// The error of something read from `file`: "<file>: <message>", and `file` in the location
// unless it names one already (with_context and with_location in one).
Error in_file(Error error, std::string_view file);

// Result forms of with_context and with_location: an error is rewritten, a value passes through
// untouched.
template <class T>
Result<T> with_context(Result<T> result, std::string_view context) {
  if (!result) {
    result.error() = with_context(std::move(result.error()), context);
  }
  return result;
}
template <class T>
Result<T> with_location(Result<T> result, const Location& outer) {
  if (!result) {
    result.error() = with_location(std::move(result.error()), outer);
  }
  return result;
}

} // namespace common::util
