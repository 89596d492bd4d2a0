// Resolving ImageUpdater specs: for every image, the tag its policy chooses among the
// registry's tags, that tag's digest, and why. The registry side is a TagSource.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/resolve/tag_source.hpp"
#include "common/spec/model.hpp"
#include "common/util/error.hpp"

namespace common::resolve {

struct ImageResult {
  std::string updater; // "namespace/name"
  std::string alias;
  std::string image;      // the repository as written in the spec ("nginx", "ghcr.io/acme/app")
  std::string repository; // normalised ("docker.io/library/nginx")
  std::string strategy;   // canonical name ("semver", "newest-build", ...)
  std::string constraint; // "" when the strategy takes none
  std::string tag;        // "" on error
  std::string digest;     // "sha256:..." ("" on error)
  // Why this image has no tag: the kind of the policy's, registry's or cache's error (retry,
  // exit code and status follow it: util/outcome.hpp) and its message, as shown to users.
  std::optional<util::Error> error;
  std::string reason; // on success: how the tag was chosen ("highest of 53 tags satisfying ^1.0")
  std::vector<std::string> warnings; // stale cache, skipped metadata, ...
};

struct ResolveOptions {
  bool fetch_digest = true; // the chosen tag's digest (one HEAD; cached like tags)
  // Images resolved at once, and, for newest-build, build times fetched at once per image
  // (so up to jobs * jobs requests in flight; each registry's rate limit still applies).
  // 1 = one after the other.
  std::size_t jobs = 1;
  // When set, every registry request, retry and wait of this call ends by then (each worker
  // thread of the call runs under a util::ThreadDeadline): one updater's registries cannot
  // hold the caller past it. The service sets one per reconcile.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // The oldest cached registry answer the call accepts (Target::max_age; 0 = the source's
  // ttl): the service passes the updater's interval, so a tag pushed is seen within it.
  std::chrono::nanoseconds max_age{0};
};

// Resolves every image of one updater, in the order of spec.images. Never fails as a whole:
// each image carries its own error ("no tag qualifies among 53 tags: ...", a registry error),
// with the kind its source gave (a bad constraint invalid_input, no qualifying tag not_found,
// a registry outage or deadline transient, refused credentials auth).
// The source must be thread-safe when options.jobs > 1.
std::vector<ImageResult> resolve_updater(const spec::ImageUpdater& updater, TagSource& source,
                                         const ResolveOptions& options = {});

// Every image of every updater, in order (updaters as given, images in spec order), resolved
// options.jobs at a time; the results do not depend on jobs.
std::vector<ImageResult> resolve_all(const std::vector<spec::ImageUpdater>& updaters,
                                     TagSource& source, const ResolveOptions& options = {});

} // namespace common::resolve
