// Writes of ImageUpdater objects, whoever asks (the REST handlers, the spec-directory watcher):
// validation, the store write and the change notification, in that order, behind one interface
// that knows nothing of HTTP. An object comes in as JSON text (one ImageUpdater: apiVersion,
// kind, metadata, spec; a status is ignored) for a namespace, and is stored as validated (the
// JSON the model accepted, not the caller's bytes).
//
// Validation: apiVersion and kind must be ours or absent, metadata an object whose namespace
// (and, on replace, name) is absent or the one asked for; those refusals are invalid_input
// without causes. Then the spec model, metadata.name, labels and annotations (strings, label
// syntax) and metadata.resourceVersion (a string; required on replace) are checked together:
// every problem is one Cause with its field path, and the error is invalid_input with
// Rejection::causes set. Store failures keep the store's kind (not_found, conflict, transient,
// ...) with Kubernetes' wording in the message.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/status.hpp"
#include "common/store/store.hpp"
#include "common/util/error.hpp"

namespace common::api {

inline constexpr std::string_view k_group = "gitops.kubesphere.io";
inline constexpr std::string_view k_api_version = "gitops.kubesphere.io/v1alpha1";
inline constexpr std::string_view k_kind = "ImageUpdater";
inline constexpr std::string_view k_resource = "imageupdaters";

// Why a write was refused. `error.kind` is what callers branch on.
struct Rejection {
  util::Error error;
  // The object's name when the failure is about a named object (a store failure, an invalid
  // object); nullopt when the input could not be read as an object at all.
  std::optional<std::string> name;
  // Every problem of an invalid object, with its field path ("spec.images[0]"); empty for other
  // failures. Non-empty only with kind invalid_input.
  std::vector<Cause> causes;
};

// A store failure about the object `name`, with Kubernetes' wording for the kinds clients branch
// on: not_found "imageupdaters.gitops.kubesphere.io \"web\" not found", conflict "... already
// exists" when `creating`, else "Operation cannot be fulfilled on ...". Other kinds keep the
// store's message. For reads too, so that every answer about an object words it the same.
Rejection store_failure(const util::Error& error, const std::string& name, bool creating = false);

template <class T>
using WriteResult = std::expected<T, Rejection>;

struct Written {
  store::Object object;              // as stored (uid, resourceVersion, generation set)
  std::vector<std::string> warnings; // the spec model's warnings, "field: message"
};

struct Applied {
  enum class Outcome { created, updated, unchanged } outcome = Outcome::unchanged;
  Written written; // the stored object (for unchanged: as stored before, no warnings lost)
};

// One YAML document as compact JSON text, typed as request bodies are (YAML 1.2 core schema,
// bounded nodes and depth). invalid_input with "line L, column C: ..." otherwise.
util::Result<std::string> yaml_document_to_json(std::string_view text);

class Writes {
public:
  // `store` must outlive this object. `on_change` (may be empty) is called after a create, a
  // replace and a delete that succeeded. Thread-safe as far as the store and on_change are.
  explicit Writes(store::Store& store, std::function<void(const store::Key&)> on_change = {});

  // Creates the object; its name comes from metadata.name. A conflict means the name is taken.
  WriteResult<Written> create(std::string_view namespace_, std::string_view object_json);

  // Replaces spec, labels and annotations of `namespace_/name`; metadata.resourceVersion must
  // be the stored one (conflict otherwise), metadata.name absent or `name`.
  WriteResult<Written> replace(std::string_view namespace_, std::string_view name,
                               std::string_view object_json);

  // Deletes `key` when its resourceVersion is `resource_version` ("" = any). Returns the object
  // as it was. not_found when there is none.
  WriteResult<store::Object> remove(const store::Key& key, std::string_view resource_version);

  // Makes the stored object be `object_json` (its metadata.resourceVersion is ignored): creates
  // it when absent, replaces it over the stored version when spec, labels or annotations differ,
  // and leaves it alone otherwise (no write, no notification). The object is validated first,
  // so an invalid one is reported even when the stored one is the same.
  WriteResult<Applied> apply(std::string_view namespace_, std::string_view object_json);

private:
  void notify(const store::Key& key) const;

  store::Store& m_store;
  std::function<void(const store::Key&)> m_on_change;
};

} // namespace common::api
