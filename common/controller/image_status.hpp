// What the service writes into an ImageUpdater's `status` after checking its images, and the
// reconciler that does it. The status (JSON, keys sorted):
//
//   observedGeneration: the generation checked
//   lastCheckTime:      RFC 3339 UTC
//   images: [ {alias, image, repository, strategy, constraint, tag, digest, reason} or
//             {alias, image, repository, strategy, constraint, error} ]   (spec order)
//   conditions: [ {type: Ready, status: "True"|"False", reason: Resolved | ResolveFailed |
//                  InvalidSpec, message, observedGeneration, lastTransitionTime} ]
//
// lastTransitionTime changes only when the condition's status changes (Kubernetes' rule).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/controller/controller.hpp"
#include "common/resolve/resolver.hpp"
#include "common/resolve/tag_source.hpp"
#include "common/spec/model.hpp"
#include "common/store/store.hpp"
#include "common/util/clock.hpp"

namespace common::controller {

// The status for `results` (resolve_updater's, for the object's spec), given the status stored
// before (for lastTransitionTime). `invalid` non-empty: the stored spec no longer parses (a
// newer validator); the status says so instead of listing images. Pure.
std::string image_status(const store::Object& object,
                         const std::vector<resolve::ImageResult>& results,
                         const std::string& invalid, std::chrono::system_clock::time_point now);

// One condition as JSON text: {type, status "True"|"False", reason, message, observedGeneration,
// lastTransitionTime}. lastTransitionTime is `now` unless the condition of that type in
// `status_before` (a status JSON text) had the same status (then its time is kept). Pure.
struct Condition {
  std::string type;
  bool ok = false;
  std::string reason;
  std::string message;
};
std::string condition_json(const std::string& status_before, const Condition& condition,
                           std::int64_t generation, const std::string& now);

// The stored object read back as a spec model: the updater, or why it is not valid (every error
// of the spec model, "; "-separated).
struct Loaded {
  std::optional<spec::ImageUpdater> updater;
  std::string invalid;
};
Loaded load_updater(const store::Object& object);

struct ImageStatusOptions {
  // Between checks when the spec names none (fluxcd.interval does).
  std::chrono::nanoseconds default_interval = std::chrono::minutes(5);
  std::size_t jobs = 4; // images of one object resolved at once
};

class ImageStatusReconciler final : public Reconciler {
public:
  // Everything must outlive the reconciler; `source` must be thread-safe.
  ImageStatusReconciler(store::Store& store, resolve::TagSource& source, util::Clock& clock,
                        ImageStatusOptions options = {});
  util::Result<std::chrono::nanoseconds> reconcile(const store::Key& key) override;

private:
  store::Store& m_store;
  resolve::TagSource& m_source;
  util::Clock& m_clock;
  ImageStatusOptions m_options;
};

} // namespace common::controller
