// Resolved images as the image overrides a rewrite injects: the one step from resolve's results
// to manifest's input, shared by the Argo CD plugin (generate, inject) and the Flux renderer.
// Pure.
#pragma once

#include <vector>

#include "common/manifest/overrides.hpp"
#include "common/resolve/resolver.hpp"
#include "common/util/error.hpp"

namespace common::resolve {

struct OverrideOptions {
  bool pin_digests = false; // tag@digest for every strategy (always so for `digest`)
};

// The overrides to inject for resolved images: per repository (normalised), the chosen tag, and
// the digest for the `digest` strategy or when pin_digests. Fails with the first failed image's
// kind (transient for a registry outage or deadline, invalid_input for a bad constraint,
// not_found when no tag qualifies, ...) when any image failed, listing every failure; fails
// (conflict) when two
// images of one repository resolved to different references, naming both. Two entries that
// agree become one override. Overrides are labelled "namespace/name alias".
util::Result<manifest::Overrides> overrides_from(const std::vector<resolve::ImageResult>& results,
                                                 const OverrideOptions& options);

} // namespace common::resolve
