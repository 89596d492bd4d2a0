// The reconciler of the service's control loop (controller::Reconciler): for every stored
// ImageUpdater it resolves the images and writes the status; for one of kind fluxcd it also
// generates and publishes the manifests Flux applies:
//
//   source (Sources: git or a directory) -> setters (and images) from the resolved images
//   (flux::overrides_for) -> every YAML file rewritten (flux::render) -> a deterministic tar.gz
//   (artifact::pack) -> stored and served (artifact::Storage, "externalartifact/<ns>/<name>/
//   <sha256>.tar.gz") with its ExternalArtifact object written for tooling -> optionally pushed
//   as a Flux OCI artifact (only when the content changed) -> status.
//
// Warm path: the inputs (generation, source revision, resolved tags and digests, the OCI target)
// are hashed into status.inputsDigest; when they equal the last successful reconcile's and the
// stored artifact is still current, nothing is rendered, packed, stored or pushed (only
// lastCheckTime moves), and a git source whose ref still names the last revision is not even
// read (its refs are listed, that is all).
//
// Status of a fluxcd object, beside what controller::image_status writes (observedGeneration,
// lastCheckTime, images): source {url, revision}, artifact {path, url, revision, digest, size,
// lastUpdateTime, metadata} (Flux's Artifact contract), externalArtifact (the whole object),
// oci {repository, tag, digest} when pushed, inputsDigest, warnings, and conditions:
//   Ready   True Succeeded | False with reason InvalidSpec, ResolveFailed, SourceFailed,
//           UnknownSetter, RenderFailed, StorageFailed, PushFailed (message says what and where)
//   Stalled True (same reason) when retrying cannot help until the spec, secret or source
//           changes (InvalidSpec, UnknownSetter, and any failure whose error kind
//           util::retryable says is not worth retrying: util/outcome.hpp)
// On failure the last good artifact stays published and in status (Flux keeps applying it).
//
// Retries: failures util::retryable retries (registry or git unreachable, refused credentials,
// storage errors) are returned as errors, so the controller backs off; failures that need a change
// are written to status and checked again at the interval. A conflict (the object changed
// meanwhile) is returned as such.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/artifact/storage.hpp"
#include "common/controller/controller.hpp"
#include "common/generator/source.hpp"
#include "common/log/logger.hpp"
#include "common/oci/flux_artifact.hpp"
#include "common/resolve/tag_source.hpp"
#include "common/store/store.hpp"
#include "common/util/clock.hpp"

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

class GeneratorReconciler final : public controller::Reconciler {
public:
  // Everything must outlive the reconciler; `pusher` and `logger` may be null (no OCI, no logs).
  GeneratorReconciler(store::Store& store, resolve::TagSource& tags, Sources& sources,
                      artifact::Storage& storage, OciPusher* pusher, util::Clock& clock,
                      log::Logger* logger, GeneratorOptions options = {});
  util::Result<std::chrono::nanoseconds> reconcile(const store::Key& key) override;

private:
  store::Store& m_store;
  resolve::TagSource& m_tags;
  Sources& m_sources;
  artifact::Storage& m_storage;
  OciPusher* m_pusher;
  util::Clock& m_clock;
  log::Logger* m_logger;
  GeneratorOptions m_options;
};

} // namespace common::generator
