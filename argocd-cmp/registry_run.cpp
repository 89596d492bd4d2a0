#include "argocd-cmp/registry_run.hpp"

#include "common/resolve/wiring.hpp"
#include "common/util/clock.hpp"

namespace argocd_cmp {

std::string default_cache_dir() {
  return common::resolve::default_cache_dir();
}

common::util::Result<std::vector<common::resolve::ImageResult>>
resolve_images(const std::vector<common::spec::ImageUpdater>& updaters, const RegistryRun& run,
               common::log::Logger& log) {
  common::util::SystemClock clock;
  common::resolve::RegistrySettings settings;
  settings.registries_conf = run.registries_conf;
  settings.secrets_dir = run.secrets_dir;
  settings.cache_dir = run.cache_dir;
  settings.use_cache = run.use_cache;
  settings.cache_ttl = run.cache_ttl;
  settings.timeout = run.timeout;
  std::vector<std::string> notes;
  auto wiring = common::resolve::RegistryWiring::open(settings, clock, notes);
  if (!wiring) {
    return std::unexpected(wiring.error());
  }
  for (const auto& note : notes) {
    log.warn(note);
  }
  common::resolve::ResolveOptions resolve_options;
  resolve_options.jobs = run.parallel;
  auto results = common::resolve::resolve_all(updaters, (*wiring)->source(), resolve_options);
  for (const auto& r : results) {
    for (const auto& w : r.warnings) {
      log.warn(w, {{"updater", r.updater}, {"alias", r.alias}});
    }
  }
  return results;
}

} // namespace argocd_cmp
