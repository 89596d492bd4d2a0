#include "common/manifest/image_text.hpp"

namespace common::manifest {

WrittenImage split_written(std::string_view text) noexcept {
  WrittenImage out;
  const std::size_t at = text.find('@');
  if (at != std::string_view::npos) {
    out.digest = text.substr(at + 1);
    text = text.substr(0, at);
  }
  const std::size_t colon = text.rfind(':');
  const std::size_t slash = text.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    out.tag = text.substr(colon + 1);
    text = text.substr(0, colon);
  }
  out.name = text;
  return out;
}

TagDigest apply_tag_digest(const ImageOverride& override, TagDigest current) noexcept {
  // Kustomize (api/filters/imagetag): "overriding tag or digest will replace both original
  // tag and digest values".
  if (override.tag && override.digest) {
    return {*override.tag, *override.digest};
  }
  if (override.tag) {
    return {*override.tag, {}};
  }
  if (override.digest) {
    return {{}, *override.digest};
  }
  return current;
}

std::optional<std::string> helm_tag_value(const ImageOverride& override) {
  if (override.digest) {
    // argocd-image-updater's GetTagWithDigest: a digest without a tag is written as
    // "latest@digest" so that charts composing "repo:tag" still get a valid reference.
    return (override.tag ? *override.tag : std::string("latest")) + "@" + *override.digest;
  }
  if (override.tag) {
    return *override.tag;
  }
  return std::nullopt;
}

} // namespace common::manifest
