#include "common/cache/fd.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace common::cache {

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
