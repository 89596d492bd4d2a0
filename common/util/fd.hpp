// RAII for POSIX file descriptors, shared by the modules that do their own file I/O (the disk
// cache, the artifact storage).
#pragma once

#include <string>

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

} // namespace common::util
