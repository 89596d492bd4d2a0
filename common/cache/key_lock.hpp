// Internal to common::cache: an exclusive lock on one key, shared by every process and thread
// on the machine.
//
// flock(2) on a lock file beside the entry. flock locks belong to the open file description, so
// two threads of one process exclude each other as well (each opens the file itself). prune()
// may delete a lock file; acquire() therefore checks, once locked, that the path still names
// the file it locked, and starts over if not.
//
// The lock file also holds the outcome of the last failed fetch of its key (time, kind,
// message): processes that waited while that fetch failed share its failure instead of each
// repeating it against a registry that is down.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/cache/fd.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::cache {

struct FailureRecord {
  std::chrono::system_clock::time_point at;
  util::Error error;
};

class KeyLock {
public:
  // Takes the lock on `path` (relative to `dir_fd`; the file is created 0600 if missing),
  // polling with LOCK_NB and clock.sleep_for for at most `wait`, so it cannot hang. Fails with
  // transient when the wait runs out, internal when the lock file cannot be opened or locked.
  // `display` names the lock in messages.
  static util::Result<KeyLock> acquire(int dir_fd, const std::string& path,
                                       const std::string& display, util::Clock& clock,
                                       std::chrono::nanoseconds wait);

  // One attempt without waiting: nullopt when someone else holds the lock.
  static util::Result<std::optional<KeyLock>> try_acquire(int dir_fd, const std::string& path,
                                                          const std::string& display);

  KeyLock(KeyLock&&) noexcept = default;
  KeyLock& operator=(KeyLock&&) = delete;
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;
  ~KeyLock(); // releases the lock

  // The failure recorded by an earlier holder; nullopt when none (or unreadable).
  std::optional<FailureRecord> read_failure() const;
  // Best effort: a lock file that cannot be written only loses the sharing of failures.
  void record_failure(const FailureRecord& record);
  void clear_failure();

private:
  explicit KeyLock(UniqueFd fd) : m_fd(std::move(fd)) {}
  UniqueFd m_fd;
};

} // namespace common::cache
