#include "common/util/fd.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace common::util {

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

Result<void> UniqueFd::close(const std::string& what, ErrorKind kind) {
  const int fd = release();
  // Linux releases the descriptor even when close fails, so never retry it (EINTR included).
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) {
    return fail(kind, what + ": close: " + errno_text(errno));
  }
  return {};
}

std::string errno_text(int err) {
  return std::strerror(err);
}

Result<void> write_all(int fd, std::string_view data, const std::string& what, ErrorKind kind) {
  for (std::size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(kind, what + ": cannot write: " + errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::string> read_all(int fd, std::uint64_t max_bytes, const std::string& what,
                             ErrorKind kind) {
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) {
      return out;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(kind, what + ": cannot read: " + errno_text(errno));
    }
    if (static_cast<std::uint64_t>(n) > max_bytes - out.size()) {
      return fail(ErrorKind::too_large,
                  what + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

} // namespace common::util
