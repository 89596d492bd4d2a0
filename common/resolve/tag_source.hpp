// What resolving an image needs from registries, behind a narrow interface: RegistrySource
// (registry_source.hpp) is the real one (registry client, credentials, shared cache); tests
// use fakes.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/image/platform.hpp"
#include "common/image/reference.hpp"
#include "common/util/error.hpp"
#include "common/util/time.hpp"

namespace common::resolve {

// Which image a request is for, and with which credentials (a credential source string in
// argocd-image-updater's grammar, "" = the registry's configured or default credentials).
struct Target {
  image::Reference repository; // normalised, tag and digest empty
  std::string credentials;
  // The oldest cached answer (tag list, digest, build time) this request accepts; 0 = the
  // source's own ttl. An ImageUpdater checked every 10 s must not be answered from a 2-minute
  // cache, while others asking within that age still share one request.
  std::chrono::nanoseconds max_age{0};
};

// A tag list with what the caller must know about its freshness.
struct TagList {
  std::vector<std::string> tags; // in registry order
  std::string warning;           // e.g. "registry unreachable; serving tags cached 5m ago"
};

class TagSource {
public:
  virtual ~TagSource() = default;
  // Every tag of the repository (all pages).
  virtual util::Result<TagList> list_tags(const Target& target) = 0;
  // The image `created` time of a tag; for a multi-platform tag the newest among the children
  // matching `platforms` (empty = any platform).
  virtual util::Result<util::Timestamp> created(const Target& target, const std::string& tag,
                                                const std::vector<image::Platform>& platforms) = 0;
  // The digest of a tag's manifest (the index digest for a multi-platform tag), "sha256:...".
  virtual util::Result<std::string> digest(const Target& target, const std::string& tag) = 0;
};

} // namespace common::resolve
