// The body of a watch (GET ...?watch=1): newline-delimited JSON events {"type", "object"}, as
// kube-apiserver streams them (chunked). Used by Client::watch; public for its tests.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "common/http/client.hpp"
#include "common/kube/api.hpp"
#include "common/util/error.hpp"

namespace common::kube {

// One event line. ADDED/MODIFIED/DELETED/BOOKMARK become a WatchEvent (object_json re-encoded,
// resource_version from object.metadata.resourceVersion); an ERROR event fails with the kind of
// its Status (status_error: code 410 / reason Expired -> gone) and the Status's message;
// malformed JSON or an unknown type is internal (the message never quotes the line: objects may
// hold secrets).
util::Result<WatchEvent> decode_watch_event(std::string_view line);

// A WatchStream reading events from `body` (a 200 answer). next() fails with too_large when a
// line grows over `max_line` bytes, transient when the stream breaks or ends in the middle of
// an event, and returns nullopt at the clean end of the stream or after cancel() (which cancels
// `body`, unblocking a read in another thread). After a failure or the end, next() returns
// nullopt.
std::unique_ptr<WatchStream> make_watch_stream(std::unique_ptr<http::ResponseStream> body,
                                               std::size_t max_line);

} // namespace common::kube
