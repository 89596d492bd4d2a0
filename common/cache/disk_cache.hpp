// A content cache on disk, shared by every process and thread of one user on the machine: the
// Argo CD plugin runs as a new process per render, many at once, and they must not each ask
// the registry the same question.
//
// Layout under the cache directory (the directory: 0700, owned by the effective user):
//
//   v1/                          format version; a new format gets a new directory
//   v1/<aa>/                     256 shards (shard_of: a cheap hash of namespace and key)
//   v1/<aa>/<name>               entry: header, namespace, key, data (entry_file.hpp)
//   v1/<aa>/<name>.lock          per-key lock (flock) and the last failed fetch of the key
//   v1/<aa>/.tmp.<name>.<pid>.<random>   a write in progress (or a stray one, for prune)
//
// <name> is entry_name(namespace, key): the key escaped to [A-Za-z0-9._-] (or, for a long key,
// its SHA-256), so no key can name a path and no two keys share a name; the entry stores the
// key too and a reader checks it (a foreign file is a miss). Entries of earlier versions (named
// by the hex SHA-256 alone) are never read again and are pruned by age. Writes
// go to a temp file (O_EXCL, 0600) that is fsynced and renamed over the entry, so a reader sees
// the old entry or the new one, never part of one.
//
// The cache fails soft: a directory that cannot be created, is insecure or unwritable makes the
// cache unusable (usable() says why) but get_or_fetch() still answers, by calling fetch directly
// and returning a warning for the caller to log. The Clock must be safe to call from the
// threads that use the cache (SystemClock is; FakeClock only from one thread). Coalescing
// relies on flock(2): the directory belongs on a local file system (or a volume that all the
// processes' kernels share), not NFS.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/cache/fd.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::cache {

struct Entry {
  std::string data;
  std::chrono::system_clock::time_point stored_at; // when the data was fetched
  // Set by get_or_fetch() only:
  bool fetched = false; // this call ran fetch (false: the answer came from the cache)
  bool stale = false;   // the fetch failed and this is the older entry; `warning` says so
  std::optional<util::Error> fetch_error; // why, when stale
  // Non-empty when the caller should log something: a stale answer ("fetch failed (...);
  // serving the entry cached 5m ago"), a bypassed or unwritable cache, an entry not stored.
  std::string warning;
};

struct Options {
  // Largest data stored; put() refuses more with too_large (get_or_fetch still returns it).
  std::size_t max_entry_size = std::size_t{32} << 20;
  // How long get_or_fetch() waits for another process fetching the same key before it gives up
  // on coalescing and fetches itself.
  std::chrono::milliseconds lock_wait{30'000};
};

// Decides whether a cached entry may be used as it is. Callers pass younger_than() for tag
// lists, always_fresh() for content addressed by digest.
using Freshness = std::function<bool(const Entry&)>;
// Fetches the data for a key from its source (the registry).
using Fetch = std::function<util::Result<std::string>()>;

// Fresh while 0 <= clock.now() - stored_at < ttl (an entry from the future, after the clock
// went back, is stale). The clock must outlive the predicate.
Freshness younger_than(const util::Clock& clock, std::chrono::nanoseconds ttl);
// Always fresh: for data addressed by its digest, which never changes.
Freshness always_fresh();

struct PruneStats {
  std::size_t entries_removed = 0; // older than max_age, or corrupt
  std::size_t entries_kept = 0;
  std::size_t temp_files_removed = 0;
  std::size_t lock_files_removed = 0;
  std::uint64_t bytes_removed = 0; // of entries and temp files
};

class DiskCache {
public:
  // Opens (creating it 0700, with its parents, if missing) the cache in `directory`. Never
  // fails: when the directory cannot be created or opened, or is owned by another user, or is
  // writable by group or others (cached registry answers may be private, and others could plant
  // answers), the cache is unusable and usable() returns why.
  DiskCache(std::string directory, util::Clock& clock, Options options = {});
  ~DiskCache();
  DiskCache(const DiskCache&) = delete;
  DiskCache& operator=(const DiskCache&) = delete;

  // Success, or why the cache cannot be used (invalid_input for an insecure directory, the
  // message names it and says how to fix it; internal for a directory that cannot be created).
  const util::Result<void>& usable() const { return m_usable; }
  const std::string& directory() const { return m_directory; }

  // The entry of (ns, key), or nullopt on a miss. The entry of another key (a hash collision,
  // a copied file) and a file larger than this cache stores are misses and stay; a corrupt,
  // truncated or unrecognised file (or a symlink) is a miss and is removed. Fails with
  // invalid_input for a
  // bad namespace or key (entry_file.hpp: check_key), with usable()'s error when the cache is
  // unusable, and with internal on an I/O error other than "not there".
  util::Result<std::optional<Entry>> get(std::string_view ns, std::string_view key) const;

  // Stores `data` for (ns, key), stamped with clock.now(), replacing any entry atomically.
  // Fails with invalid_input (bad ns or key), too_large (over Options::max_entry_size),
  // usable()'s error, or internal on an I/O error (the message names the file).
  util::Result<void> put(std::string_view ns, std::string_view key, std::string_view data);

  // A fresh cached entry, or the result of fetch, stored for the next caller. Concurrent calls
  // for the same key, in any process, cause one fetch: the others wait (at most
  // Options::lock_wait) and take its result, including its failure. When fetch fails and an
  // entry exists, that entry is returned with stale = true and a warning; without one, fetch's
  // error is returned. A cache that is unusable or fails on I/O, or a key it cannot hold, never
  // fails the call: fetch is called directly and the result carries a warning. Fails only with
  // fetch's error.
  util::Result<Entry> get_or_fetch(std::string_view ns, std::string_view key,
                                   const Freshness& fresh, const Fetch& fetch);

  // Removes entries stored more than `max_age` ago (by the clock), corrupt entries, temp files
  // left more than 10 minutes ago by writers that died, and lock files nobody holds whose entry
  // is gone. Not called by get, put or get_or_fetch: run it from maintenance. Fails with usable()'s
  // error, or internal when the cache's directories cannot be listed; files that vanish meanwhile
  // are skipped.
  util::Result<PruneStats> prune(std::chrono::nanoseconds max_age);

  // Where the entry of (ns, key) lives (for diagnostics and tests); "" for a bad ns or key.
  std::string entry_path(std::string_view ns, std::string_view key) const;

private:
  // Paths of one key, relative to the cache directory.
  struct Located {
    std::string shard; // v1/<aa>
    std::string entry; // v1/<aa>/<name>
    std::string lock;  // v1/<aa>/<name>.lock
    std::string name;  // entry_name(ns, key)
  };
  util::Result<Located> locate(std::string_view ns, std::string_view key) const;
  util::Result<void> ensure_shard(const Located& where) const;
  util::Result<void> store(const Located& where, std::string_view ns, std::string_view key,
                           std::string_view data,
                           std::chrono::system_clock::time_point stored_at) const;
  // fetch, then store; on failure the stale `candidate` (if any) with a warning.
  util::Result<Entry> fetch_and_store(const Located& where, std::string_view ns,
                                      std::string_view key, const Fetch& fetch,
                                      std::optional<Entry> candidate, std::string warning) const;

  std::string m_directory;
  util::Clock* m_clock;
  Options m_options;
  UniqueFd m_dir; // the checked directory, used for every *at() call: no path races after
  util::Result<void> m_usable;
  mutable std::atomic<std::uint64_t> m_temp_counter{0};
};

} // namespace common::cache
