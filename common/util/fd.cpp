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

} // namespace common::util
