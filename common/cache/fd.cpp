#include "common/cache/fd.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace common::cache {

UniqueFd::~UniqueFd() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.release();
  }
  return *this;
}

util::Result<void> UniqueFd::close(const std::string& what) {
  int fd = release();
  // Linux releases the descriptor even when close fails, so never retry it (EINTR included).
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) {
    return util::fail(util::ErrorKind::internal, what + ": close: " + errno_text(errno));
  }
  return {};
}

std::string errno_text(int err) {
  return std::strerror(err);
}

util::Result<void> write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return util::fail(util::ErrorKind::internal, what + ": write: " + errno_text(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

util::Result<std::string> read_all(int fd, std::size_t max_bytes, const std::string& what) {
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return util::fail(util::ErrorKind::internal, what + ": read: " + errno_text(errno));
    }
    if (n == 0) {
      return out;
    }
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return util::fail(util::ErrorKind::too_large,
                        what + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

} // namespace common::cache
