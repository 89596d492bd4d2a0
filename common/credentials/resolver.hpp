// Turns a credential source (source.hpp) into a Credential for one registry, the way the CMP
// sidecar and the Flux source generator can: they have no Kubernetes API access, so secrets are
// files mounted from Kubernetes secrets (one directory per secret, one file per key).
//
//   pullsecret:ns/name   <secrets_dir>/ns/name/.dockerconfigjson, else
//                        <secrets_dir>/name/.dockerconfigjson; then the entry for the registry
//                        (dockerconfig.hpp find_credential)
//   secret:ns/name#key   <secrets_dir>/ns/name/key, else <secrets_dir>/name/key; "user:pass"
//   env:VAR              the variable, "user:pass"
//   ext:/path            the program's stdout, "user:pass" (bounded time and output)
//   (no source)          resolve_default(): the user's docker config, as `docker pull` would
//
// A "user:pass" value is split at the first ':'; one trailing newline ("\n" or "\r\n") is
// dropped; both parts must be non-empty and there must be no other line.
// Results are cached per (source, registry, repository) until they expire or the file they were
// read from changes (a rotated secret); errors are not. Concurrent calls for one key share one
// fetch (one helper run); no lock is held while a file is read or a helper runs, so other keys
// are never held up by a slow helper.
// Messages say what was looked for and where (paths, variable names, keys), never a value.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/credentials/credential.hpp"
#include "common/credentials/environment.hpp"
#include "common/credentials/source.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::credentials {

struct ResolverOptions {
  // Where secrets are mounted; "" makes pullsecret: and secret: sources fail (not_found).
  std::string secrets_dir;
  // For sources that omit the namespace (KubeSphere's bare "<name>"): the ImageUpdater's.
  std::string default_namespace;
  // The docker config for resolve_default(); nullopt: $DOCKER_CONFIG/config.json, else
  // $HOME/.docker/config.json (read through Environment::getenv); "" disables the fallback.
  std::optional<std::string> docker_config;
  ScriptLimits script;
  // How long a result is reused when the caller gives no expiry (registries.conf credsexpire).
  // argocd-image-updater keeps registry credentials forever by default, which is how expiring
  // cloud tokens go stale (#1367); a bounded default avoids that.
  std::chrono::seconds default_expire{300};
  std::size_t max_secret_bytes = std::size_t{1} << 20; // Kubernetes' own secret size limit
};

struct Resolved {
  Credential credential; // empty only from resolve_default(): anonymous access
  std::string origin;    // where it came from, safe to log: "env:REG_CREDS",
                         // "/secrets/ns/name/.dockerconfigjson (auths \"ghcr.io\")"
  // The file it was read from ("" for env: and ext:) and its Environment::file_version when it
  // was read (taken before the read, so a rewrite during the read is noticed next time).
  std::string file{};
  std::string file_version{};
  // When the caller should ask again (steady clock): the fetch time plus the expiry the call
  // gave. Resolver::current() says whether it still holds.
  std::chrono::steady_clock::time_point expires{};
};

class Resolver {
public:
  // `env` and `clock` must outlive the resolver.
  Resolver(Environment& env, util::Clock& clock, ResolverOptions options);

  // Resolves `source` (a source string, parsed with options.default_namespace) for `registry`
  // (the image's registry host, "ghcr.io", "host:5000"; a URL works too) and the image's
  // `repository` ("acme/app", may be empty; it selects between repository-scoped pull-secret
  // keys). `expire`: the oldest cached result this call accepts; nullopt =
  // options.default_expire, zero = fetch now and do not cache.
  // Fails with invalid_input (a bad source string; a source for another registry; a value that
  // is not "user:pass"), not_found (no such file or variable; no entry for the registry in a
  // pull secret), unsupported (the pull secret delegates the registry to a credential helper),
  // or what Environment::run_script fails with.
  util::Result<Resolved> resolve(std::string_view source, std::string_view registry,
                                 std::string_view repository = {},
                                 std::optional<std::chrono::seconds> expire = std::nullopt);
  util::Result<Resolved> resolve(const Source& source, std::string_view registry,
                                 std::string_view repository = {},
                                 std::optional<std::chrono::seconds> expire = std::nullopt);

  // For a registry with no configured source: the docker config's entry for it. No config file
  // or no entry gives an empty credential (anonymous), with `origin` saying what was looked at.
  // Fails when the file cannot be read or parsed, an entry is unusable, or the registry is
  // delegated to a credential helper or store (unsupported: callers may go on anonymously).
  util::Result<Resolved> resolve_default(std::string_view registry,
                                         std::string_view repository = {},
                                         std::optional<std::chrono::seconds> expire = std::nullopt);

  // Whether `resolved` (returned by this resolver) still holds: not expired, and the file it
  // was read from, if any, unchanged. Callers that keep what a credential made (a registry
  // session) ask this before each use and resolve again when it is false. Cheap: one stat(2).
  bool current(const Resolved& resolved) const;

  // Forgets cached results: of one source (as passed to resolve; "" = resolve_default's), for
  // every registry, e.g. after the registry refused them (401/403).
  void invalidate(std::string_view source);
  void invalidate_all();

  // The docker config path resolve_default() reads ("" when none applies).
  std::string docker_config_path() const;

private:
  struct Entry {
    Resolved value;
    std::chrono::steady_clock::time_point fetched;
  };
  using Key = std::pair<std::string, std::string>; // canonical source, "registry\nrepository"

  util::Result<Resolved> fetch(const Source& source, std::string_view registry,
                               std::string_view repository);
  util::Result<Resolved> fetch_default(std::string_view registry, std::string_view repository);
  util::Result<Resolved> cached(Key key, std::optional<std::chrono::seconds> expire,
                                const std::function<util::Result<Resolved>()>& fetch_fn);
  // Whether a cached entry's file (if any) is unchanged.
  bool unchanged(const Resolved& value) const;

  Environment& m_env;
  util::Clock& m_clock;
  ResolverOptions m_options;
  std::mutex m_mutex; // guards m_cache and m_flights; fetches run unlocked
  std::map<Key, Entry> m_cache;
  // Fetches under way, by key: later callers for the key wait on the future instead of fetching.
  std::map<Key, std::shared_future<util::Result<Entry>>> m_flights;
};

// Splits "user:pass" as described above. `what` names the value's origin in messages.
// Fails (invalid_input) without quoting the value.
util::Result<Credential> split_user_pass(std::string_view value, std::string_view what);

} // namespace common::credentials
