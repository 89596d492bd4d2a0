// get_or_fetch(): the coalescing read-through path, and the freshness predicates.
#include <utility>

#include "common/cache/disk_cache.hpp"
#include "common/cache/key_lock.hpp"

namespace common::cache {

namespace {

// "45s", "5m", "3h", "2d": enough to tell how old an answer is in a log line.
std::string age_text(std::chrono::system_clock::duration age) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(age).count();
  if (s < 0) {
    return "in the future (" + std::to_string(-s) + "s)";
  }
  if (s < 120) {
    return std::to_string(s) + "s";
  }
  if (s < 120 * 60) {
    return std::to_string(s / 60) + "m";
  }
  if (s < 48 * 3600) {
    return std::to_string(s / 3600) + "h";
  }
  return std::to_string(s / 86400) + "d";
}

void add_warning(std::string& warnings, const std::string& warning) {
  if (!warnings.empty()) {
    warnings += "; ";
  }
  warnings += warning;
}

} // namespace

Freshness younger_than(const util::Clock& clock, std::chrono::nanoseconds ttl) {
  return [&clock, ttl](const Entry& e) {
    auto age = clock.now() - e.stored_at;
    return age >= std::chrono::system_clock::duration::zero() && age < ttl;
  };
}

Freshness always_fresh() {
  return [](const Entry&) { return true; };
}

util::Result<Entry> DiskCache::fetch_and_store(const Located& where, std::string_view ns,
                                               std::string_view key, const Fetch& fetch,
                                               std::optional<Entry> candidate,
                                               std::string warning) const {
  auto data = fetch();
  const auto now = m_clock->now();
  if (!data) {
    if (!candidate) {
      return std::unexpected(data.error());
    }
    add_warning(warning, "fetch failed (" + data.error().message + "); serving the entry cached " +
                             age_text(now - candidate->stored_at) + " ago");
    candidate->stale = true;
    candidate->fetch_error = data.error();
    candidate->warning = std::move(warning);
    return std::move(*candidate);
  }
  Entry entry;
  entry.data = std::move(*data);
  entry.stored_at = now;
  entry.fetched = true;
  if (auto stored = store(where, ns, key, entry.data, now); !stored) {
    add_warning(warning, "not cached: " + stored.error().message);
  }
  entry.warning = std::move(warning);
  return entry;
}

util::Result<Entry> DiskCache::get_or_fetch(std::string_view ns, std::string_view key,
                                            const Freshness& fresh, const Fetch& fetch) {
  // Whatever goes wrong with the cache, the caller still gets an answer from the source.
  auto fetch_directly = [&](const std::string& why) -> util::Result<Entry> {
    auto data = fetch();
    if (!data) {
      return std::unexpected(data.error());
    }
    Entry entry;
    entry.data = std::move(*data);
    entry.stored_at = m_clock->now();
    entry.fetched = true;
    entry.warning = why + "; fetched without the cache";
    return entry;
  };
  if (!m_usable) {
    return fetch_directly("cache unusable: " + m_usable.error().message);
  }
  auto where = locate(ns, key);
  if (!where) {
    return fetch_directly("not cacheable: " + where.error().message);
  }
  auto cached = get(ns, key);
  if (!cached) {
    return fetch_directly("cache read failed: " + cached.error().message);
  }
  if (*cached && fresh(**cached)) {
    return std::move(**cached);
  }
  if (auto shard = ensure_shard(*where); !shard) {
    return fetch_directly("cache not writable: " + shard.error().message);
  }

  // From here on one process per key at a time; the others wait for its answer.
  const auto wait_start = m_clock->now();
  auto lock = KeyLock::acquire(m_dir.get(), where->lock, m_directory + "/" + where->lock, *m_clock,
                               m_options.lock_wait);
  if (!lock) {
    // Whoever holds the lock is stuck: fetch without waiting longer (the store is atomic, so
    // racing it is safe).
    return fetch_and_store(*where, ns, key, fetch, std::move(*cached),
                           lock.error().message + "; fetched without waiting for it");
  }
  // Another process may have fetched while we waited: an entry it stored since we started
  // waiting is as fresh as a fetch of ours would be, whatever the predicate says. (It must have
  // changed too: after the clock went back, the old entry can look newer than wait_start.)
  auto again = get(ns, key);
  if (again && *again) {
    const bool replaced = !*cached || (*cached)->stored_at != (*again)->stored_at;
    if (fresh(**again) || (replaced && (*again)->stored_at >= wait_start)) {
      return std::move(**again);
    }
    *cached = std::move(*again);
  }
  // ... or failed while we waited: share its failure instead of repeating it.
  if (auto failure = lock->read_failure(); failure && failure->at >= wait_start) {
    Fetch shared = [&failure]() -> util::Result<std::string> {
      return std::unexpected(failure->error);
    };
    return fetch_and_store(*where, ns, key, shared, std::move(*cached), {});
  }
  auto result = fetch_and_store(*where, ns, key, fetch, std::move(*cached), {});
  if (!result || result->stale) {
    lock->record_failure({m_clock->now(), result ? *result->fetch_error : result.error()});
  } else {
    lock->clear_failure();
  }
  return result;
}

} // namespace common::cache
