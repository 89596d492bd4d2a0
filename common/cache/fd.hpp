// Internal to common::cache: RAII for file descriptors and the few POSIX I/O loops the cache
// needs (EINTR and short reads/writes handled once, here).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::cache {

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  int release() {
    int fd = m_fd;
    m_fd = -1;
    return fd;
  }
  // Closes now and reports close(2)'s failure (which can carry a deferred write error).
  util::Result<void> close(const std::string& what);

private:
  int m_fd = -1;
};

// strerror(err) as a string.
std::string errno_text(int err);

// Writes all of `data`; fails with internal naming `what` and the system's reason.
util::Result<void> write_all(int fd, std::string_view data, const std::string& what);

// Reads from the current offset to end of file. Fails with too_large when there are more than
// `max_bytes`, internal on a read error.
util::Result<std::string> read_all(int fd, std::size_t max_bytes, const std::string& what);

} // namespace common::cache
