// Internal to common/artifact: RAII for file descriptors and directory streams, and the POSIX
// loops (EINTR, short reads and writes) the directory reader and the storage share.
#pragma once

#include <cstdint>
#include <dirent.h>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::artifact::detail {

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

private:
  int m_fd = -1;
};

// strerror(err).
std::string errno_text(int err);

// The names in the directory open as `fd` (not "." and ".."), sorted by bytes. `fd` stays
// open and usable. Fails with invalid_input naming `what` and the system's reason.
util::Result<std::vector<std::string>> list_names(int fd, const std::string& what);

// Reads from the current offset to end of file; too_large past `max_bytes`, invalid_input on a
// read error (both naming `what`).
util::Result<std::string> read_all(int fd, std::uint64_t max_bytes, const std::string& what);

// Writes all of `data`; invalid_input naming `what` and the reason on failure.
util::Result<void> write_all(int fd, std::string_view data, const std::string& what);

} // namespace common::artifact::detail
