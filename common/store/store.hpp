// Where ImageUpdater objects live for the REST API: an interface, so the embedded SQLite store
// (sqlite_store.hpp) and, later, a Kubernetes-backed one (CRs through the API server) are
// interchangeable. Objects are stored as the API serves them (a JSON document), with the
// bookkeeping the store owns (uid, resourceVersion, generation, creationTimestamp) kept beside.
//
// Concurrency: every method may be called from many threads; writes to one object are
// serialised and checked against resourceVersion (optimistic concurrency: exactly one of several
// writers holding the same version wins, the others get conflict). Durability: a method that
// returned success has its write on disk (it survives kill -9 and power loss as far as the file
// system keeps fsync's promise).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/util/error.hpp"

namespace common::store {

struct Key {
  std::string namespace_;
  std::string name;
  friend auto operator<=>(const Key&, const Key&) = default;
};

// One stored object. `spec_json` and `status_json` are JSON texts the API layer owns (the
// store does not parse them); labels and annotations are kept apart for selectors.
struct Object {
  Key key;
  std::string uid;              // set by the store on create (RFC 4122 v4)
  std::string resource_version; // set by the store on every write; opaque to clients
  std::int64_t generation = 0;  // 1 on create, +1 when spec_json, labels or annotations change
  std::string creation_timestamp; // RFC 3339 UTC, set on create
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string spec_json;
  std::string status_json; // "{}" until the service writes a status
};

// A label selector as Kubernetes writes it: equality (k=v, k==v, k!=v), set-based (k in (a,b),
// k notin (a), k, !k), comma-separated. parse_selector fails with invalid_input naming the bad
// part.
struct Requirement {
  enum class Op { equals, not_equals, in, not_in, exists, not_exists } op;
  std::string key;
  std::vector<std::string> values;
};
using Selector = std::vector<Requirement>;
util::Result<Selector> parse_selector(std::string_view text);
bool matches(const Selector& selector, const std::map<std::string, std::string>& labels);

struct ListOptions {
  std::size_t limit = 0;      // 0 = all (the API caps it)
  std::string continue_token; // from the previous page; opaque
  Selector selector;
};

struct Page {
  std::vector<Object> items;  // ordered by (namespace, name)
  std::string continue_token; // "" on the last page
  std::string resource_version; // of the list (the store's current version)
};

class Store {
public:
  virtual ~Store() = default;
  // Fails with conflict when the key exists.
  virtual util::Result<Object> create(Object object) = 0;
  // Fails with not_found.
  virtual util::Result<Object> get(const Key& key) = 0;
  // Objects of one namespace ("" = all namespaces). A bad continue token is invalid_input.
  virtual util::Result<Page> list(const std::string& namespace_, const ListOptions& options) = 0;
  // Replaces spec, labels and annotations (not status). `object.resource_version` must equal the
  // stored one, else conflict ("" = no check is NOT allowed: invalid_input). not_found when absent.
  virtual util::Result<Object> replace(const Object& object) = 0;
  // Replaces the status only; the same resourceVersion rule. Does not change generation.
  virtual util::Result<Object> replace_status(const Key& key, const std::string& resource_version,
                                              const std::string& status_json) = 0;
  // not_found when absent; `resource_version` "" = unconditional, else it must match (conflict).
  virtual util::Result<void> remove(const Key& key, const std::string& resource_version) = 0;
};

} // namespace common::store
