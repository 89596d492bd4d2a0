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
// Status (common/status, docs/spec.md §9): observedGeneration, lastCheckTime, images; for a
// fluxcd object also source {url, revision}, artifact (Flux's Artifact contract),
// externalArtifact (the whole object), oci {repository, tag, digest} when pushed, inputsDigest,
// warnings. Conditions (kstatus):
//   Ready       True Succeeded (fluxcd) or Resolved (argocd) | False with reason InvalidSpec,
//               ResolveFailed, SourceFailed, UnknownSetter, RenderFailed, StorageFailed,
//               PushFailed (message says what and where)
//   Reconciling True ProgressingWithRetry while a failure is retried
//   Stalled     True (same reason) when retrying cannot help until the spec, secret or source
//               changes (InvalidSpec, UnknownSetter, RenderFailed of bad input, a refused or
//               invalid source, PushFailed of a bad target)
// On failure the last good artifact stays published and in status (Flux keeps applying it).
//
// Retries: transient failures of a fluxcd object (registry or git unreachable, storage errors)
// are returned as errors, so the controller backs off; failures that need a change are written
// to status and checked again at the interval. A conflict (the object changed meanwhile) is
// returned as such. A deleted object's artifacts are removed; when that fails the error is
// returned (the controller logs it and retries the deletion).
//
// The reconcile is its stages (stages.hpp): load -> resolve -> fetch -> render -> publish ->
// push, each giving a value or a Failure that is recorded in the status.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/artifact/storage.hpp"
#include "common/controller/controller.hpp"
#include "common/generator/source.hpp"
#include "common/generator/stages.hpp"
#include "common/log/logger.hpp"
#include "common/resolve/tag_source.hpp"
#include "common/status/status.hpp"
#include "common/store/store.hpp"
#include "common/util/clock.hpp"

namespace common::generator {

class GeneratorReconciler final : public controller::Reconciler {
public:
  // Everything must outlive the reconciler; `pusher` and `logger` may be null (no OCI, no logs).
  GeneratorReconciler(store::Store& store, resolve::TagSource& tags, Sources& sources,
                      artifact::Storage& storage, OciPusher* pusher, util::Clock& clock,
                      log::Logger* logger, GeneratorOptions options = {});
  util::Result<std::chrono::nanoseconds> reconcile(const store::Key& key) override;

private:
  // fetch -> render -> publish -> push for a fluxcd object, each stage's value recorded in
  // `status` as it comes; the artifact's revision, or the first stage's Failure.
  Staged<std::string> generate(const store::Object& object, const spec::ImageUpdater& updater,
                               const Resolved& images, const status::ImageUpdaterStatus& before,
                               util::Timestamp now, status::ImageUpdaterStatus& status);
  // Writes `status` with the conditions of `outcome`; `retry` set: returned as the error (the
  // controller backs off), else the interval.
  util::Result<std::chrono::nanoseconds>
  finish(const store::Object& object, status::ImageUpdaterStatus& status,
         const status::ImageUpdaterStatus& before, const status::Outcome& outcome,
         std::optional<util::Error> retry, util::Timestamp now, std::chrono::nanoseconds interval);
  // The status stored before this reconcile; an unreadable one is logged and read as empty.
  status::ImageUpdaterStatus previous_status(const store::Object& object);
  void warn(std::string_view message, const store::Key& key, const util::Error& error);

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
