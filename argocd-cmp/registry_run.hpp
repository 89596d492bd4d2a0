// Resolving images against real registries, as `resolve` and `generate` both do: registries.conf,
// credentials (mounted pull secrets, Docker config), the shared disk cache, one deadline for the
// run, bounded parallelism. The wiring of the system pieces lives here; the logic is in common/.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "common/log/logger.hpp"
#include "common/resolve/resolver.hpp"
#include "common/spec/model.hpp"
#include "common/util/error.hpp"

namespace argocd_cmp {

struct RegistryRun {
  std::string registries_conf; // "" = built-in defaults (Docker Hub)
  std::string secrets_dir;     // "" = none
  std::string cache_dir;       // "" = default_cache_dir()
  bool use_cache = true;
  std::chrono::nanoseconds cache_ttl = std::chrono::minutes(2);
  std::chrono::nanoseconds timeout = std::chrono::seconds(30); // 0 = none
  std::size_t parallel = 4;
};

// $XDG_CACHE_HOME/imageupdater, else ~/.cache/imageupdater, else /tmp/imageupdater-<uid>.
std::string default_cache_dir();

// Every image of every updater, in order (see resolve::resolve_all); each result carries its own
// error. Warnings (stale cache, skipped tags) are logged to `log`, one event each. Fails only on
// bad configuration: an unreadable or invalid registries.conf, bad TLS settings (invalid_input,
// naming the file).
common::util::Result<std::vector<common::resolve::ImageResult>>
resolve_images(const std::vector<common::spec::ImageUpdater>& updaters, const RegistryRun& run,
               common::log::Logger& log);

} // namespace argocd_cmp
