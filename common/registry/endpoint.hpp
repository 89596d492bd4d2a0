// One registry as the client talks to it, from registries.conf or inferred from an image's host.
// Shared by the registries.conf reader (config.hpp) and the client (client.hpp).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace common::registry {

// How a registry's tag list order can stand in for build times (argocd-image-updater
// `tagsortmode`): none = fetch metadata; latest_first / latest_last = list order is build order.
enum class TagSortMode { none, latest_first, latest_last };

struct Endpoint {
  std::string name;    // for logs: "Docker Hub", "ghcr", or the host
  std::string prefix;  // image prefix this endpoint serves: "docker.io", "ghcr.io", "host:5000"
  std::string api_url; // "https://registry-1.docker.io", "http://127.0.0.1:5000"
  std::string
      credentials; // credential source string ("pullsecret:ns/name", "env:VAR", ...), "" = none
  std::optional<std::chrono::seconds> creds_expire; // re-read credentials after this long
  bool insecure = false;   // skip TLS verification / allow plain HTTP to a non-loopback host
  std::string ca_file;     // extra CA bundle for this registry, "" = system bundle only
  std::string default_ns;  // prepended to one-component names ("library" for Docker Hub)
  double rate_limit = 20;  // requests per second; 0 = unlimited (must be explicit)
  bool is_default = false; // used for images without a registry host
  TagSortMode tag_sort_mode = TagSortMode::none;
};

} // namespace common::registry
