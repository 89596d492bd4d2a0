// RAII for POSIX file descriptors and the I/O loops (EINTR, short reads and writes) shared by
// the modules that do their own file I/O (the disk cache, the artifact storage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::util {

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : m_fd(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return m_fd; }
  explicit operator bool() const noexcept { return m_fd >= 0; }
  int release() noexcept {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
  }
  // Closes now and reports close(2)'s failure (which can carry a deferred write error) as
  // `kind`, naming `what`.
  Result<void> close(const std::string& what, ErrorKind kind = ErrorKind::internal);

private:
  int m_fd = -1;
};

// strerror(err) as a string.
std::string errno_text(int err);

// Writes all of `data` (EINTR and short writes handled). Fails with `kind` naming `what` and the
// system's reason ("WHAT: cannot write: REASON").
Result<void> write_all(int fd, std::string_view data, const std::string& what,
                       ErrorKind kind = ErrorKind::internal);

// Reads from the current offset to the end of the file. Fails with too_large past `max_bytes`,
// with `kind` on a read error (both naming `what`).
Result<std::string> read_all(int fd, std::uint64_t max_bytes, const std::string& what,
                             ErrorKind kind = ErrorKind::internal);

} // namespace common::util
