// The parts of an object's metadata the controller machinery reads, parsed once from the JSON
// the Api hands out, and the predicate that decides whether a change is worth a reconcile.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::kube {

// An object's identity in a cache: (namespace, name); "" namespace for cluster-scoped ones.
// Ordered by namespace, then name.
struct ObjectKey {
  std::string namespace_;
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
  bool operator==(const ObjectKey&) const = default;
};

struct ObjectMeta {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string deletion_timestamp; // "" while the object is not being deleted
  std::vector<std::string> finalizers;

  ObjectKey key() const { return {namespace_, name}; }
  bool deleting() const { return !deletion_timestamp.empty(); }
  bool operator==(const ObjectMeta&) const = default;
};

// One object as a cache holds it: its JSON as the server sent it and its parsed metadata.
struct CachedObject {
  ObjectMeta meta;
  std::string json;
};

// Parses an object's metadata. Fails with invalid_input when the text is not a JSON object or
// metadata.name is missing; absent optional fields stay empty (labels and annotations whose
// values are not strings are skipped).
util::Result<ObjectMeta> parse_meta(std::string_view object_json);
util::Result<CachedObject> parse_object(std::string object_json);

// Whether an update from `old` to `now` is worth a reconcile: the spec changed (generation),
// labels or annotations changed, or the deletion state (deletionTimestamp, finalizers) changed.
// A status-only write (the controller's own) changes none of them. controller-runtime's
// GenerationChangedPredicate | AnnotationChangedPredicate | LabelChangedPredicate, plus the
// deletion state.
bool worth_reconciling(const ObjectMeta& old, const ObjectMeta& now);

} // namespace common::kube
