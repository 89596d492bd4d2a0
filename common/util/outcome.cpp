#include "common/util/outcome.hpp"

namespace common::util {

namespace {

// One row per ErrorKind, in declaration order (checked by the switch below).
constexpr Outcome k_invalid_input{Retry::stalled, 2, 400, "BadRequest", "InvalidSpec"};
constexpr Outcome k_not_found{Retry::stalled, 1, 404, "NotFound", "NotFound"};
constexpr Outcome k_auth{Retry::backoff, 1, 500, "InternalError", "AuthFailed"};
constexpr Outcome k_transient{Retry::backoff, 1, 503, "ServiceUnavailable", "Unavailable"};
constexpr Outcome k_conflict{Retry::now, 1, 409, "Conflict", "Conflict"};
constexpr Outcome k_too_large{Retry::stalled, 2, 413, "RequestEntityTooLarge", "TooLarge"};
constexpr Outcome k_unsupported{Retry::stalled, 2, 500, "InternalError", "Unsupported"};
constexpr Outcome k_internal{Retry::backoff, 1, 500, "InternalError", "InternalError"};
constexpr Outcome k_gone{Retry::now, 1, 410, "Expired", "Expired"};

} // namespace

const Outcome& outcome(ErrorKind kind) noexcept {
  // A switch, not an array index: a new kind without a row fails to compile (-Wswitch).
  switch (kind) {
  case ErrorKind::invalid_input:
    return k_invalid_input;
  case ErrorKind::not_found:
    return k_not_found;
  case ErrorKind::auth:
    return k_auth;
  case ErrorKind::transient:
    return k_transient;
  case ErrorKind::conflict:
    return k_conflict;
  case ErrorKind::too_large:
    return k_too_large;
  case ErrorKind::unsupported:
    return k_unsupported;
  case ErrorKind::internal:
    return k_internal;
  case ErrorKind::gone:
    return k_gone;
  }
  return k_internal;
}

const char* to_string(Retry retry) noexcept {
  switch (retry) {
  case Retry::now:
    return "now";
  case Retry::backoff:
    return "backoff";
  case Retry::stalled:
    return "stalled";
  }
  return "backoff";
}

} // namespace common::util
