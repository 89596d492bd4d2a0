#include "common/resolve/wiring.hpp"

#include <algorithm>
#include <cstdlib>
#include <unistd.h>

#include "common/cache/disk_cache.hpp"
#include "common/credentials/environment.hpp"
#include "common/credentials/resolver.hpp"
#include "common/http/poco_client.hpp"
#include "common/http/url.hpp"
#include "common/registry/config.hpp"
#include "common/resolve/registry_source.hpp"
#include "common/util/file.hpp"

namespace common::resolve {

namespace {

// TLS settings per registry origin from registries.conf (ca_file, insecure).
http::ClientOptions http_options(const registry::RegistriesConfig& registries) {
  http::ClientOptions o;
  o.user_agent = "imageupdater/0.1.0";
  for (const auto& e : registries.endpoints()) {
    auto url = http::parse_url(e.api_url);
    if (!url || url->scheme != "https" || (e.ca_file.empty() && !e.insecure)) {
      continue;
    }
    o.tls[http::origin(*url)] = {e.ca_file, e.insecure};
  }
  return o;
}

} // namespace

// In the order they must be built (and so destroyed in reverse): the source refers to the rest.
struct RegistryWiring::Parts {
  registry::RegistriesConfig registries;
  std::unique_ptr<http::Client> http;
  credentials::SystemEnvironment environment;
  std::unique_ptr<credentials::Resolver> creds;
  std::unique_ptr<cache::DiskCache> cache;
  std::unique_ptr<RegistrySource> source;
};

std::string default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/imageupdater";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return std::string(home) + "/.cache/imageupdater";
  }
  return "/tmp/imageupdater-" + std::to_string(::getuid());
}

RegistryWiring::RegistryWiring(std::unique_ptr<Parts> parts) : m_parts(std::move(parts)) {}
RegistryWiring::~RegistryWiring() = default;

TagSource& RegistryWiring::source() {
  return *m_parts->source;
}

util::Result<std::shared_ptr<registry::Client>> RegistryWiring::client(const Target& target) {
  return m_parts->source->client(target);
}

util::Result<std::unique_ptr<RegistryWiring>>
RegistryWiring::open(const RegistrySettings& settings, util::Clock& clock,
                     std::vector<std::string>& notes) {
  // Taken before anything is read or fetched: the deadline covers everything.
  const auto started = clock.steady_now();
  auto parts = std::make_unique<Parts>();
  if (!settings.registries_conf.empty()) {
    auto text = util::read_file(settings.registries_conf);
    if (!text) {
      return util::fail(text.error().kind, "registries.conf: " + text.error().message);
    }
    auto parsed = registry::parse_registries_conf(*text, settings.registries_conf);
    if (!parsed) {
      return std::unexpected(parsed.error());
    }
    parts->registries = std::move(*parsed);
  }
  auto client = http::PocoClient::create(http_options(parts->registries));
  if (!client) {
    return std::unexpected(client.error());
  }
  parts->http = std::move(*client);

  credentials::ResolverOptions cred_options;
  cred_options.secrets_dir = settings.secrets_dir;
  parts->creds = std::make_unique<credentials::Resolver>(parts->environment, clock, cred_options);

  if (settings.use_cache) {
    cache::Options cache_options;
    if (settings.timeout.count() > 0) {
      // Waiting for another process's fetch must not outlast the deadline either.
      cache_options.lock_wait =
          std::min(cache_options.lock_wait,
                   std::chrono::duration_cast<std::chrono::milliseconds>(settings.timeout));
    }
    parts->cache = std::make_unique<cache::DiskCache>(
        settings.cache_dir.empty() ? default_cache_dir() : settings.cache_dir, clock,
        cache_options);
    if (auto usable = parts->cache->usable(); !usable) {
      notes.push_back("cache disabled: " + usable.error().message);
      parts->cache.reset();
    }
  }
  SourceOptions source_options;
  source_options.ttl = settings.cache_ttl;
  if (settings.timeout.count() > 0) {
    source_options.client.deadline =
        started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(settings.timeout);
  }
  parts->source = std::make_unique<RegistrySource>(parts->registries, *parts->creds, *parts->http,
                                                   clock, parts->cache.get(), source_options);
  return std::unique_ptr<RegistryWiring>(new RegistryWiring(std::move(parts)));
}

} // namespace common::resolve
