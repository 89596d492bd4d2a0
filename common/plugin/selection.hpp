// What the Argo CD plugin does between rendering and writing, as pure functions: which
// ImageUpdater specs apply to the application being rendered, and which image overrides their
// resolved images become.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/manifest/overrides.hpp"
#include "common/resolve/resolver.hpp"
#include "common/spec/model.hpp"
#include "common/util/error.hpp"

namespace common::plugin {

struct Selection {
  std::vector<spec::ImageUpdater> updaters; // those that apply, in the order given
  std::vector<std::string> skipped;         // one line per spec left out, saying why
};

// Keeps the specs of kind argocd whose spec.argocd.app.name is `app_name` or that name no app
// (then they apply to whichever application renders the directory). Specs of kind fluxcd and
// specs for another application are skipped with a reason. The app's namespace is not compared:
// Argo CD passes the destination namespace (ARGOCD_APP_NAMESPACE), not the Application's.
// An empty `app_name` (run by hand) keeps every argocd spec.
Selection select_for_app(std::vector<spec::ImageUpdater> all, std::string_view app_name);

struct OverrideOptions {
  bool pin_digests = false; // tag@digest for every strategy (always so for `digest`)
};

// The overrides to inject for resolved images: per repository (normalised), the chosen tag, and
// the digest for the `digest` strategy or when pin_digests. Fails (not_found, or the first
// failed image's kind) when any image failed, listing every failure; fails (conflict) when two
// images of one repository resolved to different references, naming both. Two entries that
// agree become one override. Overrides are labelled "namespace/name alias".
util::Result<manifest::Overrides> overrides_from(const std::vector<resolve::ImageResult>& results,
                                                 const OverrideOptions& options);

// A digest of what was resolved ("sha256:<hex>" over the sorted lines
// "repository=tag@digest"): equal exactly when the same images would be injected. The seam for
// telling Argo CD that the rendered manifests changed although the commit did not (a later
// issue writes it to the Application, which needs the Kubernetes API); generate logs it today.
// Failed results count with their error text.
std::string fingerprint(const std::vector<resolve::ImageResult>& results);

} // namespace common::plugin
