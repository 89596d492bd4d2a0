#include "argocd-cmp/registry_run.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <unistd.h>

#include "common/cache/disk_cache.hpp"
#include "common/credentials/environment.hpp"
#include "common/credentials/resolver.hpp"
#include "common/http/poco_client.hpp"
#include "common/http/url.hpp"
#include "common/registry/config.hpp"
#include "common/resolve/registry_source.hpp"
#include "common/util/clock.hpp"
#include "common/util/file.hpp"

namespace argocd_cmp {

namespace {

// TLS settings per registry origin from registries.conf (ca_file, insecure).
common::http::ClientOptions http_options(const common::registry::RegistriesConfig& registries) {
  common::http::ClientOptions o;
  o.user_agent = "imageupdater/0.1.0";
  for (const auto& e : registries.endpoints()) {
    auto url = common::http::parse_url(e.api_url);
    if (!url || url->scheme != "https" || (e.ca_file.empty() && !e.insecure)) {
      continue;
    }
    o.tls[common::http::origin(*url)] = {e.ca_file, e.insecure};
  }
  return o;
}

} // namespace

std::string default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/imageupdater";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return std::string(home) + "/.cache/imageupdater";
  }
  return "/tmp/imageupdater-" + std::to_string(::getuid());
}

common::util::Result<std::vector<common::resolve::ImageResult>>
resolve_images(const std::vector<common::spec::ImageUpdater>& updaters, const RegistryRun& run,
               std::FILE* log) {
  common::util::SystemClock clock;
  // Taken before anything is read or fetched: the deadline covers the whole resolution.
  const auto started = clock.steady_now();

  common::registry::RegistriesConfig registries;
  if (!run.registries_conf.empty()) {
    auto text = common::util::read_file(run.registries_conf);
    if (!text) {
      return common::util::fail(text.error().kind, "registries.conf: " + text.error().message);
    }
    auto parsed = common::registry::parse_registries_conf(*text, run.registries_conf);
    if (!parsed) {
      return std::unexpected(parsed.error());
    }
    registries = std::move(*parsed);
  }
  auto http = common::http::PocoClient::create(http_options(registries));
  if (!http) {
    return std::unexpected(http.error());
  }

  common::credentials::SystemEnvironment environment;
  common::credentials::ResolverOptions cred_options;
  cred_options.secrets_dir = run.secrets_dir;
  common::credentials::Resolver creds(environment, clock, cred_options);

  std::unique_ptr<common::cache::DiskCache> cache;
  if (run.use_cache) {
    common::cache::Options cache_options;
    if (run.timeout.count() > 0) {
      // Waiting for another process's fetch must not outlast the run either.
      cache_options.lock_wait =
          std::min(cache_options.lock_wait,
                   std::chrono::duration_cast<std::chrono::milliseconds>(run.timeout));
    }
    cache = std::make_unique<common::cache::DiskCache>(
        run.cache_dir.empty() ? default_cache_dir() : run.cache_dir, clock, cache_options);
    if (!cache->usable()) {
      std::fprintf(log, "level=warn msg=\"cache disabled\" reason=\"%s\"\n",
                   cache->usable().error().message.c_str());
      cache.reset();
    }
  }
  common::resolve::SourceOptions source_options;
  source_options.ttl = run.cache_ttl;
  if (run.timeout.count() > 0) {
    source_options.client.deadline =
        started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(run.timeout);
  }
  common::resolve::RegistrySource source(registries, creds, **http, clock, cache.get(),
                                         source_options);
  common::resolve::ResolveOptions resolve_options;
  resolve_options.jobs = run.parallel;
  auto results = common::resolve::resolve_all(updaters, source, resolve_options);
  for (const auto& r : results) {
    for (const auto& w : r.warnings) {
      std::fprintf(log, "level=warn updater=%s alias=%s msg=\"%s\"\n", r.updater.c_str(),
                   r.alias.c_str(), w.c_str());
    }
  }
  return results;
}

} // namespace argocd_cmp
