// The stages of GeneratorReconciler::reconcile (reconciler.hpp), each a function over values so
// it can be tested on its own and its result recorded in the status by the caller:
//
//   load     the stored object as a spec model (load_updater), its previous status
//   resolve  the images (resolve_images -> Resolved: status images and the argocd outcome)
//   fetch    the source's files (fetch)
//   render   setters checked, files rewritten, packed (render)
//   publish  stored, retained, described as an ExternalArtifact (publish)
//   push     the Flux OCI artifact (oci_target, push)
//   forget   an object's published files once it is deleted
//
// A stage that fails says why as a Failure: the condition reason, the error (kind and message)
// and whether retrying can help. Housekeeping that fails without failing the stage (retention,
// the ExternalArtifact file) is returned as `problems` for the caller to log; nothing is
// dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/artifact/storage.hpp"
#include "common/generator/source.hpp"
#include "common/image/reference.hpp"
#include "common/oci/flux_artifact.hpp"
#include "common/resolve/resolver.hpp"
#include "common/resolve/tag_source.hpp"
#include "common/spec/model.hpp"
#include "common/status/status.hpp"
#include "common/store/store.hpp"
#include "common/util/error.hpp"
#include "common/util/time.hpp"

namespace common::generator {

// Pushing a Flux OCI artifact to "host/repository:tag" (behind an interface for tests).
class OciPusher {
public:
  virtual ~OciPusher() = default;
  virtual util::Result<oci::PushResult> push(const std::string& reference,
                                             std::string_view layer_targz,
                                             const oci::Annotations& annotations) = 0;
};

inline constexpr std::string_view k_oci_annotation = "imageupdater.kubesphere.io/oci-repository";
// The storage kind of the published artifacts ("<kind>/<namespace>/<name>/<sha256>.tar.gz").
inline constexpr std::string_view k_artifact_kind = "externalartifact";

struct GeneratorOptions {
  std::chrono::nanoseconds default_interval = std::chrono::minutes(5);
  std::size_t jobs = 4; // images of one object resolved at once
  // Bound of one reconcile's registry work (every request, retry and wait of its images), so a
  // hostile or dead registry holds a worker for at most this long; 0 = none.
  std::chrono::nanoseconds resolve_timeout = std::chrono::seconds(60);
  // Where the storage is served: status.artifact.url = artifact_base_url + "/" + path.
  std::string artifact_base_url = "http://127.0.0.1:8080";
  // ExternalArtifact objects are written to <external_artifacts_dir>/<ns>/<name>.yaml ("" = not
  // written).
  std::string external_artifacts_dir;
  // OCI artifacts: the annotation k_oci_annotation ("host/repo:tag", tag "latest" when absent)
  // wins; else, when set, "<prefix>/<namespace>/<name>:latest"; else none. An annotation must
  // name a repository under "<prefix>/<namespace>/" or under a prefix `oci_allowed` gives the
  // object's namespace (key "*": every namespace); otherwise the reconcile fails (PushFailed,
  // stalled) and nothing is pushed.
  std::string oci_repository_prefix;
  std::map<std::string, std::vector<std::string>> oci_allowed; // namespace -> repository prefixes
};

// Why a stage did not give its value.
struct Failure {
  std::string reason;   // the Ready condition's reason (ResolveFailed, SourceFailed, ...)
  util::Error error;    // its message is the condition's message
  bool stalled = false; // retrying cannot help until the spec, a secret or the source changes
};
template <class T>
using Staged = std::expected<T, Failure>;

// ---- load ----

// The stored object read back as a spec model: the updater, or why it is not valid (every error
// of the spec model, "; "-separated). Labels and annotations are kept (git-secret, OCI target).
struct Loaded {
  std::optional<spec::ImageUpdater> updater;
  std::string invalid;
};
Loaded load_updater(const store::Object& object);

// Between checks: spec.fluxcd.interval when set, else `default_interval`.
std::chrono::nanoseconds interval_of(const Loaded& loaded,
                                     std::chrono::nanoseconds default_interval);

// ---- resolve ----

struct Resolved {
  std::vector<resolve::ImageResult> results; // spec order
  std::vector<status::ImageResult> images;   // the same, as status shows them
  // Ready Resolved ("N images resolved"), ResolveFailed ("K of N images not resolved; first:
  // ALIAS: ...", retrying while any failure's kind is retryable, else stalled) or InvalidSpec
  // (stalled: the stored spec no longer validates).
  status::Outcome outcome;
  // When not ready: the kind of the error that decided (a retryable one if any, else the
  // first failure's; invalid_input for InvalidSpec).
  util::ErrorKind failure_kind = util::ErrorKind::internal;
};
// Pure: the status of `results`; `invalid` non-empty means there was no spec to resolve.
Resolved resolved(std::vector<resolve::ImageResult> results, const std::string& invalid);
// Resolves the loaded updater's images (none when it is invalid) within options.resolve_timeout
// (real time), options.jobs at once, taking cached registry answers no older than `max_age`
// (the updater's interval; 0 = the registry source's own ttl).
Resolved resolve_images(const Loaded& loaded, resolve::TagSource& tags,
                        const GeneratorOptions& options,
                        std::chrono::nanoseconds max_age = std::chrono::nanoseconds(0));

// ---- fetch ----

// The source's files: SourceFailed, stalled when the spec is what is wrong (invalid_input).
Staged<Fetched> fetch(Sources& sources, const spec::ImageUpdater& updater,
                      const std::string& known_revision);

// ---- render ----

// The tar.gz of the source's files with the resolved images written in: ResolveFailed when an
// image is missing, UnknownSetter (stalled) when a marker names no image of this updater,
// RenderFailed (stalled on bad input) when a file does not render or the tree cannot be packed.
Staged<std::string> render(const spec::ImageUpdater& updater,
                           const std::vector<resolve::ImageResult>& results, util::Tree files,
                           const std::string& namespace_);

// ---- publish ----

struct Published {
  artifact::Stored stored;
  status::Artifact artifact;     // equal to the ExternalArtifact's status.artifact
  std::string external_artifact; // artifact::artifact_json
  // What failed without failing the publish: retention (Storage::gc) and writing the
  // ExternalArtifact file. The artifact is stored and served all the same.
  std::vector<util::Error> problems;
};
// Stores `targz` as the object's current artifact (StorageFailed, retried, on failure), applies
// the retention when it changed, and describes it. Unchanged bytes keep `previous`'s
// lastUpdateTime.
Staged<Published> publish(artifact::Storage& storage, const GeneratorOptions& options,
                          const store::Object& object, const Fetched& fetched,
                          std::string_view targz, const std::optional<status::Artifact>& previous,
                          util::Timestamp now);

// ---- push ----

// Where the object's OCI artifact goes (tag "latest" when none is given), nullopt when none is
// wanted. invalid_input when the annotation does not parse as a reference, names a digest, or
// names a repository the operator did not give the object's namespace (the push uses the
// service's credentials: a tenant must not overwrite another team's artifact with them).
util::Result<std::optional<image::Reference>> oci_target(const store::Object& object,
                                                         const GeneratorOptions& options);

// Pushes `targz` to `target`: PushFailed (stalled on a refused target or bad input).
Staged<status::OciPush> push(OciPusher* pusher, const image::Reference& target,
                             std::string_view targz, const Fetched& fetched);

// What a reconcile's output depends on (generation, source revision, path, strategy, OCI
// target, artifact URL, resolved images): equal digests mean nothing needs rendering again.
std::string inputs_digest(const store::Object& object, const spec::ImageUpdater& updater,
                          const Fetched& fetched, const std::vector<resolve::ImageResult>& results,
                          const std::optional<image::Reference>& target,
                          const GeneratorOptions& options);

// ---- forget ----

// Removes a deleted object's artifacts and its ExternalArtifact file (absent ones are fine).
// Fails with the first error after trying both, so the caller retries the deletion.
util::Result<void> forget(artifact::Storage& storage, const GeneratorOptions& options,
                          const store::Key& key);

} // namespace common::generator
