// What the Flux side does between getting the source and packing the artifact, as pure
// functions: the overrides an ImageUpdater of kind fluxcd writes (its `$imagepolicy` setters,
// and, with update.strategy SettersAndImages, the governed workload images as the Argo CD side
// does), and the rewrite of every YAML file of a tree with them.
#pragma once

#include <string>
#include <vector>

#include "common/manifest/changes.hpp"
#include "common/manifest/overrides.hpp"
#include "common/resolve/resolver.hpp"
#include "common/spec/model.hpp"
#include "common/util/error.hpp"
#include "common/util/tree.hpp"

namespace common::flux {

// The setters of `updater` (setter "<namespace>:<alias>", the ImagePolicy name Flux would give
// each image) from its resolved images: name as written in the spec, the chosen tag, and no
// digest (Flux's default digestReflectionPolicy: Never, so "ns:alias" writes name:tag and
// "ns:alias:digest" writes ""). With update.strategy SettersAndImages, also the image overrides
// resolve::overrides_from gives (workloads, Kustomize images:, as for Argo CD). Fails when any
// image failed to resolve, with the first failure's kind (the error lists every failure:
// nothing half-updated is published).
util::Result<manifest::Overrides> overrides_for(const spec::ImageUpdater& updater,
                                                const std::vector<resolve::ImageResult>& results);

struct RenderResult {
  util::Tree files;                           // the input with the YAML files rewritten
  std::vector<manifest::FileChanges> changes; // per changed file, in path order
};

// Rewrites every file ending in .yaml or .yml (case-insensitive); other files pass unchanged.
// A file that does not scan, or holds Helm template syntax where a marker or image is, fails the
// whole render (invalid_input naming the file and line): a partial artifact is never made.
util::Result<RenderResult> render(util::Tree files, const manifest::Overrides& overrides);

// Markers in the YAML files that name a setter of `namespace_` ("<namespace_>:<alias>...")
// that `overrides` does not have: a typo that would leave an image behind silently. One line
// each, "file:line: marker \"ns:alias\" names no image of this ImageUpdater (known: a, b)", in
// file and line order. Markers of other namespaces belong to other ImageUpdaters (ignored).
std::vector<std::string> unknown_setters(const util::Tree& files,
                                         const manifest::Overrides& overrides,
                                         const std::string& namespace_);

} // namespace common::flux
