// The Kubernetes API as the rest of the project sees it: a narrow interface over the API
// server's REST verbs for one resource at a time. Objects travel as JSON text (the caller owns
// its codec; no JSON library leaks through here). client.hpp implements it over http::Client;
// unit tests use fakes.
//
// Errors: every verb fails with the kind the API server's Status names, so callers branch on
// util::ErrorKind and never on text:
//   404 NotFound -> not_found          409 AlreadyExists / Conflict -> conflict
//   410 Gone / Expired -> gone         401, 403 -> auth
//   400, 422 Invalid / BadRequest -> invalid_input (the Status message is kept whole)
//   413 -> too_large                   429, 5xx, timeouts, refused connections -> transient
// The message is the Status's message ("imageupdaters.gitops.kubesphere.io \"web\" not found"),
// prefixed with nothing, so it can be passed through to a REST caller unchanged.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::kube {

// A resource type: group "" is the core group (/api/v1/...), else /apis/<group>/<version>/...
struct Resource {
  std::string group;   // "gitops.kubesphere.io", "coordination.k8s.io", ""
  std::string version; // "v1alpha1", "v1"
  std::string plural;  // "imageupdaters", "leases", "events"
  bool namespaced = true;
};

// The URL path of a collection (name "") or an object, with an optional subresource
// ("status"); namespace "" on a namespaced resource = all namespaces (collections only).
std::string path_of(const Resource& resource, std::string_view namespace_,
                    std::string_view name = {}, std::string_view subresource = {});

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::size_t limit = 0;        // 0 = no limit (the server's own bound applies)
  std::string continue_token;   // from the previous page
  std::string resource_version; // "" = most recent (a quorum read)
};

struct ListPage {
  std::vector<std::string> items; // each item's JSON, with apiVersion and kind filled in
  std::string resource_version;   // of the list: where a watch starts
  std::string continue_token;     // "" on the last page
};

struct WatchOptions {
  std::string resource_version; // start after this version ("" = now, with no initial list)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  std::chrono::seconds timeout{300}; // the server ends the watch after this (timeoutSeconds)
};

struct WatchEvent {
  enum class Type { added, modified, deleted, bookmark };
  Type type = Type::added;
  std::string object_json;      // the object (for a bookmark: only its metadata)
  std::string resource_version; // the object's metadata.resourceVersion
};

// One open watch. next() blocks until the next event; nullopt when the server ended the watch
// cleanly (its timeout): watch again from the last resource_version seen. An ERROR event or a
// 410 answer is ErrorKind::gone (list again). cancel() may be called from another thread and
// makes a blocked next() return nullopt promptly.
class WatchStream {
public:
  virtual ~WatchStream() = default;
  virtual util::Result<std::optional<WatchEvent>> next() = 0;
  virtual void cancel() = 0;
};

enum class PatchType {
  merge, // application/merge-patch+json (RFC 7386)
  json,  // application/json-patch+json (RFC 6902)
  apply, // application/apply-patch+yaml (server-side apply; needs a field manager)
};

struct WriteOptions {
  std::string field_manager = "imageupdater"; // fieldManager query parameter
  bool force = false;                         // server-side apply: take over conflicting fields
  bool dry_run = false;                       // dryRun=All
};

struct DeleteOptions {
  std::string resource_version;   // preconditions.resourceVersion ("" = none)
  std::string uid;                // preconditions.uid ("" = none)
  std::string propagation_policy; // "Background", "Foreground", "Orphan" or "" (server default)
};

class Api {
public:
  virtual ~Api() = default;
  virtual util::Result<std::string> get(const Resource& resource, std::string_view namespace_,
                                        std::string_view name) = 0;
  virtual util::Result<ListPage> list(const Resource& resource, std::string_view namespace_,
                                      const ListOptions& options) = 0;
  virtual util::Result<std::string> create(const Resource& resource, std::string_view namespace_,
                                           std::string_view object_json,
                                           const WriteOptions& options = {}) = 0;
  // PUT of the whole object (metadata.resourceVersion checked by the server: conflict). With a
  // subresource ("status") only that part is written.
  virtual util::Result<std::string> update(const Resource& resource, std::string_view namespace_,
                                           std::string_view name, std::string_view object_json,
                                           std::string_view subresource = {},
                                           const WriteOptions& options = {}) = 0;
  virtual util::Result<std::string> patch(const Resource& resource, std::string_view namespace_,
                                          std::string_view name, PatchType type,
                                          std::string_view patch, std::string_view subresource = {},
                                          const WriteOptions& options = {}) = 0;
  // Returns the server's answer: the object (when a finalizer keeps it) or a Status.
  virtual util::Result<std::string> remove(const Resource& resource, std::string_view namespace_,
                                           std::string_view name,
                                           const DeleteOptions& options = {}) = 0;
  virtual util::Result<std::unique_ptr<WatchStream>>
  watch(const Resource& resource, std::string_view namespace_, const WatchOptions& options) = 0;
};

// The resources this project uses.
inline Resource imageupdaters() {
  return {"gitops.kubesphere.io", "v1alpha1", "imageupdaters", true};
}
inline Resource leases() {
  return {"coordination.k8s.io", "v1", "leases", true};
}
inline Resource events() {
  return {"", "v1", "events", true};
}

} // namespace common::kube
