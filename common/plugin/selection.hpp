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

// Keeps the specs of kind argocd whose spec.argocd.app.name is `app_name` (the Application's bare
// name: render::AppIdentity) or that name no app (then they apply to whichever application
// renders the directory), and whose spec.argocd.app.namespace, when given, is `app_namespace`
// (the Application's own namespace: from "<namespace>_<name>", else Argo CD's control-plane
// namespace). A spec without app.namespace matches the name in any namespace. Specs of kind
// fluxcd and specs for another application are skipped with a reason. An empty `app_name` (run
// by hand) keeps every argocd spec.
Selection select_for_app(std::vector<spec::ImageUpdater> all, std::string_view app_name,
                         std::string_view app_namespace = {});

// The credentials the selected specs name, checked against the tenant: specs come from the
// application's repository, which its team writes, so a spec may name only pull secrets
// (`pullsecret:`, `secret:`, bare names) of the Application's own namespace `app_namespace`, and
// no `env:` or `ext:` source (those read the sidecar's environment or run a program: operator
// configuration, registries.conf). Fails (invalid_input) at the first violation, naming the
// file, line, updater, field and alias, and the namespace named, never anything read from a
// secret (none is read here).
util::Result<void> check_credentials(const std::vector<spec::ImageUpdater>& updaters,
                                     std::string_view app_namespace);

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

// A digest of what was resolved ("sha256:<hex>" over the sorted lines
// "repository=tag@digest"): equal exactly when the same images would be injected. The seam for
// telling Argo CD that the rendered manifests changed although the commit did not (a later
// issue writes it to the Application, which needs the Kubernetes API); generate logs it today.
// Failed results count with their error text.
std::string fingerprint(const std::vector<resolve::ImageResult>& results);

} // namespace common::plugin
