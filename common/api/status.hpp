// Errors as the Kubernetes API server writes them: a `Status` object (apiVersion v1, kind
// Status, status Failure, message, reason, code, details) in a response with that code.
// Reasons are Kubernetes' StatusReason names: BadRequest (400), NotFound (404),
// MethodNotAllowed (405), AlreadyExists / Conflict (409), RequestEntityTooLarge (413),
// UnsupportedMediaType (415), Invalid (422), InternalError (500), ServiceUnavailable (503).
#pragma once

#include <string>
#include <vector>

#include "common/api/http.hpp"
#include "common/util/error.hpp"

namespace common::api {

// One problem of an Invalid (422) response: the field path as written in the object
// ("spec.images[0]"), Kubernetes' cause reason ("FieldValueInvalid", "FieldValueRequired") and
// the message.
struct Cause {
  std::string field;
  std::string reason;
  std::string message;
};

// details of a Status; empty members are left out of the JSON.
struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;
  std::string uid;
  std::vector<Cause> causes;
};

// A Failure Status response (content type application/json).
HttpResponse status_response(int code, const std::string& reason, const std::string& message,
                             const StatusDetails& details = {});

// A Success Status (200), as DELETE answers.
HttpResponse success_response(const StatusDetails& details);

// The response for a store error, with the HTTP status and reason util::outcome gives its kind:
// not_found 404 NotFound, conflict 409 Conflict, invalid_input 400 BadRequest, too_large 413
// RequestEntityTooLarge, transient 503 ServiceUnavailable, anything else 500 InternalError. The
// message is the error's. With `callers_credentials` (the store acted with the caller's own
// credentials, as in the Kubernetes mode) an auth error is the caller's: 403 Forbidden.
HttpResponse error_response(const util::Error& error, const StatusDetails& details = {},
                            bool callers_credentials = false);

} // namespace common::api
