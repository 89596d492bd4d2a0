// Docker client configuration: the `.dockerconfigjson` of a Kubernetes pull secret and
// `~/.docker/config.json`. Pure: the caller reads the file.
//
// Host matching fixes argocd-image-updater's best-known credential gotcha (issues #97, #376,
// #705): it takes the first `auths` key that merely starts with the endpoint URL, so the key
// `https://index.docker.io/v1/` written by `docker login` never matches Docker Hub's API
// `https://registry-1.docker.io`, and map order decides between several keys. Here keys and the
// wanted registry are normalised first and the best match is chosen by fixed rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/credentials/credential.hpp"
#include "common/util/error.hpp"
#include "common/util/strings.hpp"

namespace common::credentials {

// A registry key or URL reduced to what identifies the registry.
struct RegistryKey {
  std::string host;  // lower case, with the port when one is written: "ghcr.io", "h:5000"
  std::string scope; // repository path the key is limited to ("org/team"), "" = whole registry
  friend bool operator==(const RegistryKey&, const RegistryKey&) = default;
};

// Normalises an `auths` key, a registry URL or an image registry host:
// drops "http://" / "https://", a trailing '/', and the API version paths "/v1" and "/v2";
// folds the host to lower case; maps the Docker Hub spellings docker.io, index.docker.io and
// registry-1.docker.io to "docker.io". Any other path is kept as the scope
// ("ghcr.io/acme/" -> {"ghcr.io", "acme"}). Never fails; garbage gives garbage that matches
// nothing real.
RegistryKey normalize_registry(std::string_view key_or_url);

struct AuthEntry {
  std::string key; // the key as written in `auths`
  RegistryKey registry;
  // The credential the entry holds: `identitytoken` (as {"<token>", token}), else `auth`
  // (base64 "user:pass"), else `username` + `password`. nullopt: the entry holds none (an
  // empty `{}` as docker writes next to a credsStore).
  std::optional<Credential> credential;
  // Non-empty when the entry cannot be used, saying why ("'registrytoken' is not supported").
  std::string unusable;
};

struct DockerConfig {
  std::vector<AuthEntry> auths; // sorted by key
  // `credHelpers`: normalised host -> helper name, sorted by host.
  std::vector<std::pair<std::string, std::string>> cred_helpers;
  std::string creds_store; // `credsStore`, "" when none
};

// Parses the JSON. `origin` names the input in messages (a path, "pull secret ns/name").
// Fails (invalid_input) when the text is not JSON (the message gives the byte offset, never the
// text: it may hold secrets), the top level is not an object, or `auths` / `credHelpers` /
// `credsStore` have the wrong type; fails (unsupported) on a legacy `.dockercfg` (registries at
// the top level). An object without `auths` is an empty config. An entry whose `auth` is not base64
// of "user:pass" or whose fields have the wrong type is not an error here: it is kept with
// `unusable` set, so one bad entry does not hide good ones for other registries. Other keys
// (HttpHeaders, psFormat, ...) are ignored.
util::Result<DockerConfig> parse_docker_config(std::string_view json, std::string_view origin);

struct Match {
  std::string key; // the `auths` key used (safe to log)
  Credential credential;
};

// Finds the credential for `registry` (a host, "host:port" or URL; normalised as above) and the
// image's `repository` ("acme/app", may be empty). Candidates, best first:
//   1. a key for the same host:port whose scope contains the repository (longest scope first);
//   2. a key for the same host:port without scope;
//   3. a scoped key of the same host:port when no repository is given.
// Hosts match exactly, port included ("h" and "h:443" are one); a key without a port does not
// match another port of its host (that would send the credential to another service).
// Ties go to the smallest key as written, so the result does not depend on map order.
// Before `auths`, a `credHelpers` entry for the host wins, as in docker; a `credsStore` is used
// when no entry with a credential matches.
// Fails with unsupported when the host is delegated to a credential helper or store (the
// message names the helper and `origin`), with invalid_input when the best entry is unusable
// (the message says why, never the value), and with not_found when nothing matches (the
// message lists the normalised hosts the config has: host names are not secrets).
util::Result<Match> find_credential(const DockerConfig& config, std::string_view registry,
                                    std::string_view repository, std::string_view origin);

using util::decode_base64; // common/util/strings.hpp

} // namespace common::credentials
