// The real registries, wired: registries.conf, credentials (mounted pull secrets, Docker config,
// the environment), the HTTP client with each registry's TLS settings, the shared disk cache and
// the TagSource over them. Both executables resolve through this: `resolve`/`generate` for one
// run, the service for its whole life (sessions, tokens and rate limits are then reused).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/registry/client.hpp"
#include "common/resolve/tag_source.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::resolve {

struct RegistrySettings {
  std::string registries_conf; // "" = built-in defaults (Docker Hub)
  std::string secrets_dir;     // "" = none
  std::string cache_dir;       // "" = default_cache_dir()
  bool use_cache = true;
  std::chrono::nanoseconds cache_ttl = std::chrono::minutes(2);
  // One deadline for everything fetched through this wiring, from open(); 0 = none (requests
  // keep their own timeouts).
  std::chrono::nanoseconds timeout{0};
};

// $XDG_CACHE_HOME/imageupdater, else ~/.cache/imageupdater, else /tmp/imageupdater-<uid>.
std::string default_cache_dir();

class RegistryWiring {
public:
  // Fails on bad configuration only: an unreadable or invalid registries.conf, bad TLS settings
  // (invalid_input, naming the file). A cache directory that cannot be used is not fatal: the
  // wiring runs without it and says so in `notes`. `clock` must outlive the wiring.
  static util::Result<std::unique_ptr<RegistryWiring>>
  open(const RegistrySettings& settings, util::Clock& clock, std::vector<std::string>& notes);
  ~RegistryWiring();
  RegistryWiring(const RegistryWiring&) = delete;
  RegistryWiring& operator=(const RegistryWiring&) = delete;

  TagSource& source(); // thread-safe
  // The registry client for `target` (see RegistrySource::client).
  util::Result<std::shared_ptr<registry::Client>> client(const Target& target);

  struct Parts;

private:
  explicit RegistryWiring(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> m_parts;
};

} // namespace common::resolve
