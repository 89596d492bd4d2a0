// The ExternalArtifact object (source.toolkit.fluxcd.io/v1, Flux 2.7, RFC-0012) that tells a
// Flux Kustomization where an ImageUpdater's artifact is: spec.sourceRef names the
// ImageUpdater, status.artifact follows Flux's Artifact contract (reference §2.2-2.3) and
// status.conditions carries Ready=True. Pure functions: the same input gives the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/time.hpp"

namespace common::artifact {

inline constexpr std::string_view k_external_artifact_api_version = "source.toolkit.fluxcd.io/v1";
inline constexpr std::string_view k_external_artifact_kind = "ExternalArtifact";
inline constexpr std::string_view k_updater_api_version = "gitops.kubesphere.io/v1alpha1";
inline constexpr std::string_view k_updater_kind = "ImageUpdater";
// The metadata key kustomize-controller reads as the origin revision.
inline constexpr std::string_view k_revision_annotation = "org.opencontainers.image.revision";

struct ExternalArtifactInput {
  std::string name;       // metadata.name
  std::string namespace_; // metadata.namespace
  std::string updater_name;
  std::string updater_namespace;
  // The ImageUpdater's uid: when set and the namespaces are equal, metadata.ownerReferences
  // names it as controller (Kubernetes garbage-collects the ExternalArtifact with it).
  std::string updater_uid;
  // Where the storage is served, without a trailing '/' ("http://imageupdater.flux-system.svc.
  // cluster.local./artifacts"); status.artifact.url = base_url + "/" + path.
  std::string base_url;
  std::string path;   // Stored::path
  std::string digest; // Stored::digest, "sha256:<hex>"
  std::uint64_t size = 0;
  util::Timestamp last_update_time; // written to the second, UTC
  // The source's revision ("main@sha1:<commit>"): status.artifact.metadata[k_revision_annotation];
  // "" = no metadata.
  std::string source_revision;
};

// "latest@" + digest: the revision format of source-watcher's ExternalArtifacts (RFC-0005). The
// digest is in it, so kustomize-controller (which reacts to revision changes only) sees every
// content change.
std::string artifact_revision(std::string_view digest);

// The object as JSON, keys sorted, indented by two spaces, ending in a newline:
//   apiVersion, kind, metadata {name, namespace, labels {app.kubernetes.io/managed-by:
//   imageupdater}, ownerReferences?}, spec.sourceRef {apiVersion, kind, name, namespace},
//   status {artifact {digest, lastUpdateTime, metadata?, path, revision, size, url},
//   conditions [{lastTransitionTime, message "stored artifact for revision '<revision>'",
//   reason Succeeded, status "True", type Ready}]}.
// Invalid UTF-8 in an input is replaced by U+FFFD.
std::string artifact_json(const ExternalArtifactInput& input);

// The same object as a YAML document (block style, keys sorted; strings quoted unless they are
// plain identifiers), for `kubectl apply -f` and other tooling.
std::string artifact_yaml(const ExternalArtifactInput& input);

} // namespace common::artifact
