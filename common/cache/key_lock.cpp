#include "common/cache/key_lock.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace common::cache {

namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// Polling starts fast (a fetch from a warm registry takes milliseconds) and backs off so that
// many waiters do not spin.
constexpr nanoseconds k_first_poll = milliseconds(1);
constexpr nanoseconds k_max_poll = milliseconds(50);
constexpr std::size_t k_max_record = 4096;

util::Error lock_error(const std::string& display, const char* step, int err) {
  return util::Error{util::ErrorKind::internal,
                     "cache lock " + display + ": " + step + ": " + errno_text(err)};
}

util::Result<UniqueFd> open_lock_file(int dir_fd, const std::string& path,
                                      const std::string& display) {
  int fd = ::openat(dir_fd, path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return std::unexpected(lock_error(display, "open", errno));
  }
  return UniqueFd(fd);
}

// True when `path` still names the file open as `fd` (prune() may have replaced it).
util::Result<bool> still_linked(int dir_fd, const std::string& path, int fd,
                                const std::string& display) {
  struct stat held {};
  struct stat named {};
  if (::fstat(fd, &held) != 0) {
    return std::unexpected(lock_error(display, "fstat", errno));
  }
  if (::fstatat(dir_fd, path.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return false;
    }
    return std::unexpected(lock_error(display, "stat", errno));
  }
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

// One non-blocking attempt on an open lock file: true when locked, false when busy.
util::Result<bool> try_flock(int fd, const std::string& display) {
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      return true;
    }
    if (errno == EWOULDBLOCK) {
      return false;
    }
    if (errno != EINTR) {
      return std::unexpected(lock_error(display, "flock", errno));
    }
  }
}

std::string seconds_text(nanoseconds d) {
  auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + "s";
}

} // namespace

util::Result<KeyLock> KeyLock::acquire(int dir_fd, const std::string& path,
                                       const std::string& display, util::Clock& clock,
                                       nanoseconds wait) {
  const auto start = clock.steady_now();
  nanoseconds poll = k_first_poll;
  for (;;) {
    auto fd = open_lock_file(dir_fd, path, display);
    if (!fd) {
      return std::unexpected(fd.error());
    }
    for (;;) {
      auto locked = try_flock(fd->get(), display);
      if (!locked) {
        return std::unexpected(locked.error());
      }
      if (*locked) {
        break;
      }
      nanoseconds waited = clock.steady_now() - start;
      if (waited >= wait) {
        return util::fail(util::ErrorKind::transient, "cache lock " + display +
                                                          ": still held by another process after " +
                                                          seconds_text(waited));
      }
      clock.sleep_for(std::min(poll, wait - waited));
      poll = std::min(poll * 2, k_max_poll);
    }
    auto linked = still_linked(dir_fd, path, fd->get(), display);
    if (!linked) {
      return std::unexpected(linked.error());
    }
    if (*linked) {
      return KeyLock(std::move(*fd));
    }
    // Locked a file that prune() had already unlinked: the live lock is the new file.
  }
}

util::Result<std::optional<KeyLock>> KeyLock::try_acquire(int dir_fd, const std::string& path,
                                                          const std::string& display) {
  auto fd = open_lock_file(dir_fd, path, display);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  auto locked = try_flock(fd->get(), display);
  if (!locked) {
    return std::unexpected(locked.error());
  }
  if (!*locked) {
    return std::optional<KeyLock>();
  }
  auto linked = still_linked(dir_fd, path, fd->get(), display);
  if (!linked) {
    return std::unexpected(linked.error());
  }
  if (!*linked) {
    return std::optional<KeyLock>();
  }
  return std::optional<KeyLock>(KeyLock(std::move(*fd)));
}

KeyLock::~KeyLock() {
  // Explicitly, rather than by close(): a child forked while we hold the lock shares the open
  // file description and would otherwise keep the key locked.
  if (m_fd) {
    ::flock(m_fd.get(), LOCK_UN);
  }
}

// The record is "<ns since the epoch> <kind number>\n<message>".
std::optional<FailureRecord> KeyLock::read_failure() const {
  char buffer[k_max_record];
  ssize_t n = ::pread(m_fd.get(), buffer, sizeof buffer, 0);
  if (n <= 0) {
    return std::nullopt;
  }
  std::string_view text(buffer, static_cast<std::size_t>(n));
  auto newline = text.find('\n');
  auto space = text.find(' ');
  if (newline == std::string_view::npos || space == std::string_view::npos || space > newline) {
    return std::nullopt;
  }
  std::int64_t at_ns = 0;
  int kind = 0;
  auto r1 = std::from_chars(text.data(), text.data() + space, at_ns);
  auto r2 = std::from_chars(text.data() + space + 1, text.data() + newline, kind);
  if (r1.ec != std::errc{} || r1.ptr != text.data() + space || r2.ec != std::errc{} ||
      r2.ptr != text.data() + newline || kind < 0 ||
      kind > static_cast<int>(util::ErrorKind::gone)) {
    return std::nullopt;
  }
  FailureRecord record;
  record.at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(nanoseconds(at_ns)));
  record.error.kind = static_cast<util::ErrorKind>(kind);
  record.error.message = std::string(text.substr(newline + 1));
  return record;
}

void KeyLock::record_failure(const FailureRecord& record) {
  auto at_ns = std::chrono::duration_cast<nanoseconds>(record.at.time_since_epoch()).count();
  std::string text = std::to_string(at_ns) + ' ' +
                     std::to_string(static_cast<int>(record.error.kind)) + '\n' +
                     record.error.message;
  text.resize(std::min(text.size(), k_max_record));
  if (::ftruncate(m_fd.get(), 0) != 0) {
    return;
  }
  // Readers hold the lock too, so nobody sees a half-written record.
  [[maybe_unused]] ssize_t n = ::pwrite(m_fd.get(), text.data(), text.size(), 0);
}

void KeyLock::clear_failure() {
  [[maybe_unused]] int r = ::ftruncate(m_fd.get(), 0);
}

} // namespace common::cache
