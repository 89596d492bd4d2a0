// The real TagSource (thread-safe): registries.conf endpoints, credentials, the registry client and
// the disk cache shared by every process on the machine. Tag lists, tag digests and build times are
// cached for `ttl` (tags move); a cache key includes where the credentials came from, so
// answers obtained with one pull secret are never served to a render that has another.
//
// Sessions (a registry client with its credential, per endpoint and credential source) live as
// long as their credential holds (credentials::Resolver::current): until the endpoint's
// `credsexpire` (else the resolver's default expiry) has passed, or the secret file it was read
// from changed (a rotated, remounted pull secret). Then the credential is resolved again; an
// unchanged one keeps its client (and so its token cache), a new one gets a new client. A
// credential the registry refuses (401/403) before it expires is resolved again at once, and the
// request tried once more when it changed (an `ext:` token revoked early). No lock
// is held while credentials are resolved (an `ext:` helper may take seconds): callers for one
// source share one helper run, callers for other registries go on.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/cache/disk_cache.hpp"
#include "common/credentials/resolver.hpp"
#include "common/http/client.hpp"
#include "common/registry/client.hpp"
#include "common/registry/config.hpp"
#include "common/resolve/tag_source.hpp"
#include "common/util/clock.hpp"

namespace common::resolve {

struct SourceOptions {
  std::chrono::nanoseconds ttl = std::chrono::minutes(2); // tag lists, tag digests, build times
  registry::ClientOptions client;
};

class RegistrySource final : public TagSource {
public:
  // Everything passed by reference must outlive the source. `cache` may be null (no caching
  // beyond this process).
  RegistrySource(const registry::RegistriesConfig& registries, credentials::Resolver& creds,
                 http::Client& http, util::Clock& clock, cache::DiskCache* cache,
                 SourceOptions options = {});
  ~RegistrySource() override;

  util::Result<TagList> list_tags(const Target& target) override;
  util::Result<util::Timestamp> created(const Target& target, const std::string& tag,
                                        const std::vector<image::Platform>& platforms) override;
  util::Result<std::string> digest(const Target& target, const std::string& tag) override;

  // The registry client this source uses for `target` (its endpoint and current credentials),
  // for operations beyond reading tags (pushing artifacts). Shared: it stays valid as long as the
  // caller holds it, even after the session moved on to a refreshed credential.
  util::Result<std::shared_ptr<registry::Client>> client(const Target& target);

private:
  struct Session {
    std::shared_ptr<registry::Client> client;
    std::string identity;             // endpoint URL + credential origin: part of every cache key
    credentials::Resolved credential; // what the client was made with, and until when it holds
  };
  util::Result<std::shared_ptr<const Session>> session_for(const Target& target);
  // After the registry refused `refused`'s credential: forgets it (here and in the resolver),
  // resolves it again and says whether the new one differs (worth a second try).
  bool renew(const Target& target, const std::shared_ptr<const Session>& refused);
  // cached(ns, <session identity>|key, fetch with the session's client), tried a second time
  // with a renewed credential when the registry refuses the first (auth).
  util::Result<cache::Entry>
  fetch_with_session(const Target& target, std::string_view ns, const std::string& key,
                     const std::function<util::Result<std::string>(registry::Client&)>& fetch);
  // A cached answer for (ns, key), else fetch()'s, stored for the next process.
  util::Result<cache::Entry> cached(std::string_view ns, const std::string& key,
                                    std::chrono::nanoseconds ttl, const cache::Fetch& fetch);

  const registry::RegistriesConfig& m_registries;
  credentials::Resolver& m_creds;
  http::Client& m_http;
  util::Clock& m_clock;
  cache::DiskCache* m_cache;
  SourceOptions m_options;
  std::mutex m_mutex; // guards m_sessions and m_limiters; never held while resolving credentials
  std::map<std::string, std::shared_ptr<const Session>, std::less<>>
      m_sessions; // by endpoint + credential source
  struct MemoSlot {
    std::mutex mutex; // held while the key is fetched
    std::optional<cache::Entry> entry;
  };
  std::mutex m_memo_mutex;
  std::map<std::string, std::shared_ptr<MemoSlot>, std::less<>> m_memo;     // without a disk cache
  std::map<std::string, std::shared_ptr<registry::RateLimiter>> m_limiters; // by endpoint URL
};

} // namespace common::resolve
