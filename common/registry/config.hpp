// registries.conf: argocd-image-updater's registry configuration file, and the choice of an
// Endpoint for an image's registry host. Parsing is pure (the caller reads the file).
//
//   registries:
//   - name: GitHub Container Registry     # required
//     api_url: https://ghcr.io            # required, http(s)://host[:port][/path]
//     prefix: ghcr.io                     # required except for the default registry
//     credentials: ext:/scripts/ghcr.sh   # a credential source (credentials/source.hpp)
//     credsexpire: 5h                     # Go duration
//     tagsortmode: latest-first           # none | latest-first | latest-last
//     insecure: no                        # plain HTTP / no TLS verification
//     ca_file: /etc/ssl/ghcr.pem
//     defaultns: library                  # prepended to one-component names
//     limit: 20                           # requests per second; 0 = unlimited
//     default: false                      # used for images without a registry
//     ping: yes                           # accepted for compatibility, ignored
//
// Deviations from argocd-image-updater, on purpose:
//  * A configured registry without `limit` gets k_default_rate_limit (20 rps), as the anchor's
//    docs promise, not "unlimited" as its code does; `limit: 0` says unlimited explicitly.
//  * Loading a file keeps the built-in Docker Hub endpoint unless an entry replaces it (the
//    anchor drops it, so docker.io images then go to https://docker.io and fail).
//  * `ca_data` (inline PEM) is rejected with a pointer to `ca_file`: the client takes files only,
//    and a silently ignored CA would only fail later, at the TLS handshake.
//  * Duplicate prefixes and duplicate keys are errors (the anchor keeps the last one), a
//    prefix matches only whole path components ("ghcr.io" does not serve "ghcr.io.evil.com"),
//    and `credentials` is checked when the file is read, not when first used.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/registry/endpoint.hpp"
#include "common/util/error.hpp"

namespace common::registry {

// Requests per second for configured registries without `limit` and for inferred ones.
inline constexpr double k_default_rate_limit = 20;
// Docker Hub's built-in endpoint (its anonymous pull limits are the tightest around).
inline constexpr double k_docker_hub_rate_limit = 10;

// The built-in Docker Hub endpoint: name "Docker Hub", prefix "docker.io", api_url
// "https://registry-1.docker.io", default_ns "library", 10 rps, the default registry.
Endpoint docker_hub_endpoint();

// The endpoint for a host nothing is configured for: name and prefix = the host (lower case),
// api_url "https://<host>", 20 rps. A loopback host ("localhost", 127.0.0.0/8, [::1], with or
// without a port) gets "http://<host>" instead: local test registries rarely speak TLS, and
// plain HTTP to loopback never leaves the machine. (The client still enforces its own rule:
// plain HTTP to a non-loopback host needs `insecure`.)
Endpoint inferred_endpoint(std::string_view host);

class RegistriesConfig {
public:
  // No file: only the built-in Docker Hub endpoint (and inferred ones).
  RegistriesConfig();
  // From endpoints built elsewhere, in order. Where two have the same prefix the first wins;
  // where several are default the first is. parse_registries_conf() rejects both.
  explicit RegistriesConfig(std::vector<Endpoint> configured, std::vector<std::string> notes = {});

  // The configured endpoints, in file order (not the built-in or inferred ones).
  const std::vector<Endpoint>& endpoints() const noexcept { return m_endpoints; }

  // The registry for images that name none: the configured default (an entry without
  // `prefix`, or with `default: true`), else the built-in Docker Hub.
  const Endpoint& default_endpoint() const noexcept;

  // The endpoint for an image registry host ("ghcr.io", "host:5000"), or for host plus
  // repository ("gcr.io/my-project/app", so that path prefixes such as "gcr.io/my-project"
  // apply). In order:
  //   1. "" -> default_endpoint();
  //   2. the configured entry with the longest prefix that equals the name or is followed in
  //      it by '/' (host part compared case-insensitively);
  //   3. "docker.io" (also written index.docker.io or registry-1.docker.io; common::image
  //      normalises images without a registry to docker.io) -> a configured entry without
  //      prefix when there is one, else the built-in Docker Hub (an entry with prefix
  //      docker.io is found in step 2: it replaces the built-in one, also as the default
  //      when no other entry is);
  //   4. otherwise inferred_endpoint(host), created once per host and kept.
  // The reference stays valid as long as this config (or a copy of it) lives. Thread-safe.
  const Endpoint& endpoint_for(std::string_view image_registry_host) const;

  // Things worth a log line that are not errors ("file:3:3: registries[0].ping: ignored").
  const std::vector<std::string>& notes() const noexcept { return m_notes; }

private:
  struct Inferred {
    std::mutex mutex;
    std::map<std::string, std::unique_ptr<Endpoint>> by_host;
  };

  std::vector<Endpoint> m_endpoints;
  std::vector<std::string> m_notes;
  Endpoint m_docker_hub;
  std::ptrdiff_t m_default = -1;        // index into m_endpoints; -1: the built-in Docker Hub
  std::ptrdiff_t m_unprefixed = -1;     // the configured entry without prefix; -1: none
  std::shared_ptr<Inferred> m_inferred; // shared by copies: entries depend only on the host
};

// Parses registries.conf. `file` names it in messages. Strict, as the anchor's
// yaml.UnmarshalStrict: unknown keys are errors, and so are duplicate keys, a second document,
// values of the wrong type, a missing `name` or `api_url`, a missing `prefix` with
// `default: false`, two defaults (entries without `prefix` or with `default: true`),
// two entries with one prefix, an `api_url` that is not http(s)://host[:port][/path], a
// `tagsortmode` other than none / latest-first / latest-last (any case), a `credsexpire` that
// is not a non-negative Go duration ("5h", "30m"; a bare number other than 0 needs a unit), a
// negative or non-numeric `limit`, a `credentials` string credentials::parse_source() rejects,
// and `ca_data`. Every failure is invalid_input with "<file>:<line>:<column>: <field>: why",
// e.g. "registries.conf:7:16: registries[1].tagsortmode: unknown tag sort mode \"newest\"
// (want none, latest-first or latest-last)". An empty file is an empty configuration.
// Bools are YAML 1.1 as in the anchor (true/false/yes/no/on/off).
util::Result<RegistriesConfig> parse_registries_conf(std::string_view yaml, std::string_view file);

} // namespace common::registry
