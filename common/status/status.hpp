// The status of an ImageUpdater as the service writes it (docs/spec.md §9), one type for every
// reader and writer: the generator builds it, the store keeps it as the JSON text of codec.hpp,
// the API shows it. Pure: no I/O, no clock (times are passed in).
//
// Conditions follow kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) as Flux uses it:
//   Ready        True when the last reconcile succeeded, False (with the failure's reason) when not
//   Reconciling  True while the service keeps retrying a failure on its own; absent otherwise
//   Stalled      True when retrying cannot help until the spec, a secret or the source changes;
//                absent otherwise
// Reconciling and Stalled have "abnormal-true" polarity, so they are present only when True.
// Every condition carries the object's generation it was computed for (observedGeneration) and
// the time its status last changed (lastTransitionTime, kept while the status stays the same).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/time.hpp"

namespace common::status {

inline constexpr std::string_view k_ready = "Ready";
inline constexpr std::string_view k_reconciling = "Reconciling";
inline constexpr std::string_view k_stalled = "Stalled";
// Reconciling's reason while a failure is retried (Flux's meta.ProgressingWithRetryReason).
inline constexpr std::string_view k_progressing_with_retry = "ProgressingWithRetry";

enum class ConditionStatus { true_, false_, unknown };
// "True" | "False" | "Unknown".
std::string_view to_string(ConditionStatus status) noexcept;

struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::unknown;
  std::string reason;  // CamelCase, stable: what tooling branches on
  std::string message; // for people
  std::int64_t observed_generation = 0;
  util::Timestamp last_transition_time{};
  friend bool operator==(const Condition&, const Condition&) = default;
};

// One spec.images entry checked: tag, digest and reason when resolved, error when not.
struct ImageResult {
  std::string alias;
  std::string image;      // as written
  std::string repository; // normalised
  std::string strategy;
  std::string constraint;
  std::optional<std::string> error; // set: tag, digest and reason are empty and not written
  std::string tag;
  std::string digest;
  std::string reason;
  std::vector<std::string> warnings;
  friend bool operator==(const ImageResult&, const ImageResult&) = default;
};

// What a fluxcd reconcile read.
struct Source {
  std::string url;      // without credentials
  std::string revision; // "main@sha1:<commit>", "sha256:<tree digest>"
  friend bool operator==(const Source&, const Source&) = default;
};

// Flux's Artifact (source.toolkit.fluxcd.io/v1): the published tar.gz.
struct Artifact {
  std::string path;     // relative to the storage root
  std::string url;      // where it is served
  std::string revision; // "latest@sha256:<hex>"
  std::string digest;   // "sha256:<hex>"
  std::uint64_t size = 0;
  util::Timestamp last_update_time{};
  std::map<std::string, std::string> metadata; // "org.opencontainers.image.revision" -> source
  friend bool operator==(const Artifact&, const Artifact&) = default;
};

// Where the Flux OCI artifact was pushed.
struct OciPush {
  std::string repository; // "host/path"
  std::string tag;
  std::string digest; // the manifest's
  friend bool operator==(const OciPush&, const OciPush&) = default;
};

struct ImageUpdaterStatus {
  std::int64_t observed_generation = 0;
  std::optional<util::Timestamp> last_check_time;
  std::vector<ImageResult> images; // spec order
  std::vector<Condition> conditions;
  // fluxcd only: the last good reconcile's results (kept when a later one fails).
  std::optional<Source> source;
  std::optional<Artifact> artifact;
  // The whole ExternalArtifact object as JSON text (artifact::artifact_json), "" = none. Kept as
  // text: it is another API's object, written and read whole.
  std::string external_artifact;
  std::optional<OciPush> oci;
  std::string inputs_digest;         // "" = none
  // The reconcile.fluxcd.io/requestedAt annotation's value this status answers (Flux's
  // convention: `flux reconcile` waits for it); "" = none asked.
  std::string last_handled_reconcile_at;
  std::vector<std::string> warnings; // source entries skipped
  friend bool operator==(const ImageUpdaterStatus&, const ImageUpdaterStatus&) = default;
};

// The condition of `type`, nullptr when there is none.
const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type);

// How one reconcile ended, as kstatus reads it.
enum class Progress {
  ready,    // Ready True
  retrying, // Ready False + Reconciling True (reason k_progressing_with_retry)
  stalled,  // Ready False + Stalled True (the same reason)
};
struct Outcome {
  Progress progress = Progress::ready;
  std::string reason;  // Ready's reason ("Succeeded", "Resolved", "SourceFailed", ...)
  std::string message; // Ready's message (Reconciling and Stalled carry the same)
};

// The conditions for `outcome` at `generation`: Ready first, then Reconciling or Stalled when
// True. A condition whose status equals that of the same type in `before` keeps its
// lastTransitionTime; every other one gets `now` (floored to the second, as Kubernetes writes
// it).
std::vector<Condition> conditions_for(const Outcome& outcome, std::int64_t generation,
                                      util::Timestamp now, const std::vector<Condition>& before);

} // namespace common::status
