// Image references as written in manifests: split without normalising (so a rewrite keeps the
// user's spelling of the repository) and recombined by the rules of Kustomize's image
// transformer. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/manifest/overrides.hpp"

namespace common::manifest {

// "name[:tag][@digest]" as written. The digest starts at the first '@'; the tag at the last ':'
// after the last '/' (a ':' before a '/' is a registry port). Views into the argument; no
// validation (parse_reference judges validity).
struct WrittenImage {
  std::string_view name;
  std::string_view tag;    // "" when none
  std::string_view digest; // "" when none
};
WrittenImage split_written(std::string_view text) noexcept;

// The tag and digest after an override, by Kustomize's rules (see ImageOverride): both given
// replace both, one given replaces that one and drops the other, none keeps the current pair.
struct TagDigest {
  std::string_view tag;
  std::string_view digest;
};
TagDigest apply_tag_digest(const ImageOverride& override, TagDigest current) noexcept;

// The value argocd-image-updater writes at helm.image-tag: the tag, or "tag@digest" when the
// override pins a digest ("latest@digest" without a tag). nullopt when the override sets
// neither (a rename only leaves the tag field alone).
std::optional<std::string> helm_tag_value(const ImageOverride& override);

} // namespace common::manifest
