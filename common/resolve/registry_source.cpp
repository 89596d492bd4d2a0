#include "common/resolve/registry_source.hpp"

namespace common::resolve {

namespace {

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    out += s;
    out += '\n';
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return out;
}

std::string platforms_key(const std::vector<image::Platform>& platforms) {
  std::string out;
  for (const auto& p : platforms) {
    out += p.to_string();
    out += ',';
  }
  return out;
}

} // namespace

RegistrySource::RegistrySource(const registry::RegistriesConfig& registries,
                               credentials::Resolver& creds, http::Client& http, util::Clock& clock,
                               cache::DiskCache* cache, SourceOptions options)
    : m_registries(registries), m_creds(creds), m_http(http), m_clock(clock), m_cache(cache),
      m_options(std::move(options)) {}

RegistrySource::~RegistrySource() = default;

util::Result<std::shared_ptr<const RegistrySource::Session>>
RegistrySource::session_for(const Target& target) {
  const registry::Endpoint& endpoint = m_registries.endpoint_for(target.repository.registry);
  const std::string& source =
      !target.credentials.empty() ? target.credentials : endpoint.credentials;
  const std::string session_key = endpoint.api_url + '\n' + source;
  std::shared_ptr<const Session> known;
  {
    const std::lock_guard lock(m_mutex);
    if (auto it = m_sessions.find(session_key); it != m_sessions.end()) {
      known = it->second;
    }
  }
  // Checked without the lock: a stat of the secret file.
  if (known && m_creds.current(known->credential)) {
    return known;
  }
  // Expired, rotated or new. Resolved without the lock: the resolver runs one helper per
  // source at a time and lets other sources through.
  const std::string& host = target.repository.registry;
  auto resolved =
      source.empty()
          ? m_creds.resolve_default(host, target.repository.repository, endpoint.creds_expire)
          : m_creds.resolve(source, host, target.repository.repository, endpoint.creds_expire);
  if (!resolved) {
    return util::fail(resolved.error().kind,
                      "credentials for " + host + ": " + resolved.error().message);
  }
  std::string identity = endpoint.api_url + "|" + resolved->origin;
  const std::lock_guard lock(m_mutex);
  std::shared_ptr<const Session>& slot = m_sessions[session_key];
  if (slot && slot->identity == identity &&
      slot->credential.credential.username == resolved->credential.username &&
      slot->credential.credential.password == resolved->credential.password) {
    // The same credential again: keep the client and its token cache, with the new expiry.
    slot = std::make_shared<const Session>(Session{slot->client, slot->identity, *resolved});
    return slot;
  }
  registry::ClientOptions options = m_options.client;
  // One rate limit per endpoint, whatever the credentials.
  auto& limiter = m_limiters[endpoint.api_url];
  if (!limiter && endpoint.rate_limit > 0) {
    limiter = std::make_shared<registry::RateLimiter>(endpoint.rate_limit, m_clock);
  }
  options.rate_limiter = limiter;
  std::optional<credentials::Credential> credential;
  if (!resolved->credential.empty()) {
    credential = resolved->credential;
  }
  slot = std::make_shared<const Session>(
      Session{std::make_shared<registry::Client>(endpoint, m_http, m_clock, credential, options),
              std::move(identity), *resolved});
  return slot;
}

util::Result<std::shared_ptr<registry::Client>> RegistrySource::client(const Target& target) {
  auto session = session_for(target);
  if (!session) {
    return std::unexpected(session.error());
  }
  return (*session)->client;
}

util::Result<cache::Entry> RegistrySource::cached(std::string_view ns, const std::string& key,
                                                  std::chrono::nanoseconds ttl,
                                                  const cache::Fetch& fetch) {
  if (m_cache != nullptr) {
    return m_cache->get_or_fetch(ns, key, cache::younger_than(m_clock, ttl), fetch);
  }
  // One slot per key: threads asking for the same key wait for one fetch (like the disk
  // cache's lock), different keys are fetched in parallel. Failures are not kept. Answers expire
  // after the ttl as the disk cache's do: a long-running service without a disk cache must still
  // see new tags.
  std::shared_ptr<MemoSlot> slot;
  {
    const std::lock_guard lock(m_memo_mutex);
    auto& s = m_memo[std::string(ns) + '\n' + key];
    if (!s) {
      s = std::make_shared<MemoSlot>();
    }
    slot = s;
  }
  const std::lock_guard lock(slot->mutex);
  if (slot->entry && m_clock.now() - slot->entry->stored_at < ttl) {
    cache::Entry hit = *slot->entry;
    hit.fetched = false;
    return hit;
  }
  auto data = fetch();
  if (!data) {
    return std::unexpected(data.error());
  }
  cache::Entry entry;
  entry.data = std::move(*data);
  entry.stored_at = m_clock.now();
  entry.fetched = true;
  slot->entry = std::move(entry);
  return *slot->entry;
}

bool RegistrySource::renew(const Target& target, const std::shared_ptr<const Session>& refused) {
  const registry::Endpoint& endpoint = m_registries.endpoint_for(target.repository.registry);
  const std::string& source =
      !target.credentials.empty() ? target.credentials : endpoint.credentials;
  m_creds.invalidate(source);
  {
    const std::lock_guard lock(m_mutex);
    if (auto it = m_sessions.find(endpoint.api_url + '\n' + source);
        it != m_sessions.end() && it->second == refused) {
      m_sessions.erase(it);
    }
  }
  auto fresh = session_for(target);
  return fresh &&
         ((*fresh)->credential.credential.username != refused->credential.credential.username ||
          (*fresh)->credential.credential.password != refused->credential.credential.password);
}

util::Result<cache::Entry> RegistrySource::fetch_with_session(
    const Target& target, std::string_view ns, const std::string& key,
    const std::function<util::Result<std::string>(registry::Client&)>& fetch) {
  for (int attempt = 0;; ++attempt) {
    auto session = session_for(target);
    if (!session) {
      return std::unexpected(session.error());
    }
    const std::shared_ptr<const Session> used = *session;
    // The request's own bound when it is tighter than the source's ttl (Target::max_age).
    const std::chrono::nanoseconds ttl =
        target.max_age.count() > 0 ? std::min(target.max_age, m_options.ttl) : m_options.ttl;
    auto entry = cached(ns, used->identity + "|" + key, ttl,
                        [&]() -> util::Result<std::string> { return fetch(*used->client); });
    // Refused with a credential that has not expired yet (a token revoked or rotated early):
    // read it again, and try once more if it changed (argocd-image-updater does the same).
    if (entry || attempt > 0 || entry.error().kind != util::ErrorKind::auth ||
        used->credential.credential.empty() || !renew(target, used)) {
      return entry;
    }
  }
}

util::Result<TagList> RegistrySource::list_tags(const Target& target) {
  const std::string& repo = target.repository.repository;
  auto entry = fetch_with_session(target, "tags", repo,
                                  [&](registry::Client& client) -> util::Result<std::string> {
                                    auto tags = client.list_tags(repo);
                                    if (!tags) {
                                      return std::unexpected(tags.error());
                                    }
                                    return join_lines(*tags);
                                  });
  if (!entry) {
    return std::unexpected(entry.error());
  }
  return TagList{split_lines(entry->data), entry->warning};
}

util::Result<util::Timestamp>
RegistrySource::created(const Target& target, const std::string& tag,
                        const std::vector<image::Platform>& platforms) {
  const std::string& repo = target.repository.repository;
  auto entry =
      fetch_with_session(target, "created", repo + ":" + tag + "|" + platforms_key(platforms),
                         [&](registry::Client& client) -> util::Result<std::string> {
                           auto info = client.created_for(repo, tag, platforms);
                           if (!info) {
                             return std::unexpected(info.error());
                           }
                           return util::format_rfc3339(info->created);
                         });
  if (!entry) {
    return std::unexpected(entry.error());
  }
  return util::parse_rfc3339(entry->data);
}

util::Result<std::string> RegistrySource::digest(const Target& target, const std::string& tag) {
  const std::string& repo = target.repository.repository;
  auto entry =
      fetch_with_session(target, "digest", repo + ":" + tag,
                         [&](registry::Client& client) { return client.head_digest(repo, tag); });
  if (!entry) {
    return std::unexpected(entry.error());
  }
  return entry->data;
}

} // namespace common::resolve
