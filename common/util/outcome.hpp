// What an error kind means to each kind of caller, in one table: whether a control loop retries
// (and how), the exit code of a command-line verb, the HTTP status and Kubernetes StatusReason of
// an API answer, and the reason of a Kubernetes condition. Code that turns an Error into one of
// these reads the table instead of switching on kinds of its own.
//
//   kind           retry     exit  HTTP                           condition reason
//   invalid_input  stalled   2     400 BadRequest                 InvalidSpec
//   not_found      stalled   1     404 NotFound                   NotFound
//   auth           backoff   1     500 InternalError              AuthFailed
//   transient      backoff   1     503 ServiceUnavailable         Unavailable
//   conflict       now       1     409 Conflict                   Conflict
//   too_large      stalled   2     413 RequestEntityTooLarge      TooLarge
//   unsupported    stalled   2     500 InternalError              Unsupported
//   internal       backoff   1     500 InternalError              InternalError
//   gone           now       1     410 Expired                    Expired
//
// Why: "stalled" is kstatus' Stalled (retrying cannot help until the spec, a secret or the source
// changes; the object is checked again at its interval, not hammered with backoff); a conflict
// means the object changed under us, so the next attempt starts at once. auth backs off:
// credentials change where the controller does not see it (a rotated mounted secret, an
// expiring token, a credential helper), so a retry may succeed with nothing else changed. Exit 2 is
// "bad arguments or input" and 1 "the verb ran and failed / the answer is no" (README); not_found
// is 1 because its usual meaning for a verb is "no tag qualifies" (a verb that means "a file named
// by the settings is missing" says so where it decides). The HTTP column is for errors the API
// relays from its backends (store, validation): the API's own authentication answers 401/403
// itself, so an auth error here is the service's, as is unsupported (a store schema newer than
// the build). gone is retried at once because the remedy is known: list again from scratch.
#pragma once

#include <string_view>

#include "common/util/error.hpp"

namespace common::util {

enum class Retry {
  now,     // try again at once (the state changed under us)
  backoff, // try again after an increasing delay
  stalled, // do not retry: record the failure; check again only at the normal interval
};

struct Outcome {
  Retry retry = Retry::backoff;
  int exit_code = 1;
  int http_status = 500;
  std::string_view http_reason;      // Kubernetes StatusReason ("BadRequest")
  std::string_view condition_reason; // CamelCase reason of a Ready/Stalled condition
};

// The row of `kind` (see the table above).
const Outcome& outcome(ErrorKind kind) noexcept;

// Whether a control loop should try again by itself (retry now or after a backoff).
inline bool retryable(ErrorKind kind) noexcept {
  return outcome(kind).retry != Retry::stalled;
}

const char* to_string(Retry retry) noexcept;

} // namespace common::util
