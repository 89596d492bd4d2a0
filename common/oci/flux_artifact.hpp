// Flux OCI artifacts (`flux push artifact`, consumed by an OCIRepository; reference §2.7,
// fluxcd/pkg oci/client/push.go): an OCI image manifest whose config has Flux's media type and
// whose one layer is the tar.gz of the content, with the OCI annotations Flux writes.
//
// Reproducibility: the manifest and the config are a pure function of the layer bytes and the
// annotations (JSON with sorted keys, no white space). `created` defaults to
// "1970-01-01T00:00:00Z", what `flux push artifact --reproducible` writes, so identical content
// gives the identical manifest digest, and an OCIRepository (whose revision is
// "<tag>@sha256:<manifest digest>") sees a new revision only when the content or the source
// revision changed. A caller that wants the push time may pass it, at the price of a new digest
// for every push that happens.
#pragma once

#include <string>
#include <string_view>

#include "common/registry/client.hpp"
#include "common/util/error.hpp"

namespace common::oci {

inline constexpr std::string_view k_flux_config_media_type =
    "application/vnd.cncf.flux.config.v1+json";
inline constexpr std::string_view k_flux_content_media_type =
    "application/vnd.cncf.flux.content.v1.tar+gzip";
inline constexpr std::string_view k_created_annotation = "org.opencontainers.image.created";
inline constexpr std::string_view k_source_annotation = "org.opencontainers.image.source";
inline constexpr std::string_view k_revision_annotation = "org.opencontainers.image.revision";
inline constexpr std::string_view k_reproducible_created = "1970-01-01T00:00:00Z";

struct Annotations {
  std::string
      source; // org.opencontainers.image.source ("https://github.com/org/repo"); "" = left out
  std::string revision; // org.opencontainers.image.revision ("main@sha1:<commit>"); "" = left out
  // org.opencontainers.image.created, RFC 3339; "" = k_reproducible_created.
  std::string created = std::string(k_reproducible_created);
};

// The documents of one artifact, before anything is pushed.
struct FluxArtifact {
  std::string config; // {"architecture":"","config":{},"created":C,"history":[{"created":C}],
                      //  "os":"","rootfs":{"diff_ids":["sha256:<tar digest>"],"type":"layers"}}
  std::string config_digest;
  std::string layer_digest; // sha256 of the tar.gz bytes
  std::string manifest;     // the OCI image manifest
  std::string manifest_digest;
};

// Builds the config and the manifest for `layer_targz`. Fails with invalid_input when the layer
// is not a gzip stream or `created` is not RFC 3339; too_large past 1 GiB of uncompressed tar.
util::Result<FluxArtifact> build_flux_artifact(std::string_view layer_targz,
                                               const Annotations& annotations);

struct PushResult {
  std::string manifest_digest; // of the manifest the tag names after the call
  bool pushed = false;         // false: the tag already had this content
};

// Pushes the artifact as `repository:tag` unless the tag already names a Flux artifact with
// the same content: an OCI manifest with Flux's config media type and exactly one layer of
// Flux's content media type with our layer digest, whose source and revision annotations
// equal ours (`created` is not compared: it says when, not what). Then nothing is written and
// the existing manifest's digest is returned with pushed=false. Otherwise the missing blobs are
// uploaded (config and layer, each after a HEAD) and the manifest is put under the tag.
// Fails with the client's errors (auth when the credentials may not push) and
// build_flux_artifact's.
util::Result<PushResult> push_flux_artifact(registry::Client& client, std::string_view repository,
                                            std::string_view tag, std::string_view layer_targz,
                                            const Annotations& annotations);

} // namespace common::oci
