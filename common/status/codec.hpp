// The JSON form of an ImageUpdaterStatus: what the store keeps in Object::status_json and the
// API serves as `status` (docs/spec.md §9, docs/openapi.json). Pure.
//
//   observedGeneration  integer                    always
//   lastCheckTime       RFC 3339 UTC               when set
//   images              [{alias, image, repository, strategy, constraint,
//                         tag, digest, reason | error, warnings?}]   always (may be empty)
//   conditions          [{type, status, reason, message, observedGeneration,
//                         lastTransitionTime}]     always (may be empty)
//   source {url, revision}, artifact {digest, lastUpdateTime, metadata?, path, revision, size,
//   url}, externalArtifact {...}, oci {repository, tag, digest}, inputsDigest, warnings
//                                                  when set (fluxcd)
#pragma once

#include <string>
#include <string_view>

#include "common/status/status.hpp"
#include "common/util/error.hpp"

namespace common::status {

// Compact JSON, keys sorted; invalid UTF-8 in a string is replaced by U+FFFD. Deterministic:
// equal statuses give equal bytes, and decode(encode(s)) == s for a status whose times are whole
// seconds and whose strings are valid UTF-8.
std::string encode(const ImageUpdaterStatus& status);

// Reads what encode writes ("" and "{}" are the empty status). Strict about types: a key of the
// wrong JSON type, a condition status other than True/False/Unknown, a time that is not RFC 3339,
// a negative size or generation fail with invalid_input naming the field ("images[1].tag: want a
// string"); so does text that is not a JSON object. Unknown keys are ignored.
util::Result<ImageUpdaterStatus> decode(std::string_view text);

} // namespace common::status
