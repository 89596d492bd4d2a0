#include "common/artifact/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace common::artifact::detail {

using util::ErrorKind;

util::Result<std::vector<std::string>> list_names(int fd, const std::string& what) {
  // fdopendir takes ownership of the descriptor it is given: give it a duplicate.
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    return util::fail(ErrorKind::invalid_input, what + ": cannot list: " + errno_text(errno));
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(copy), &::closedir);
  if (!dir) {
    const int err = errno;
    ::close(copy);
    return util::fail(ErrorKind::invalid_input, what + ": cannot list: " + errno_text(err));
  }
  // The duplicate shares the offset with `fd`: start from the beginning whatever was read.
  ::rewinddir(dir.get());
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const struct dirent* e = ::readdir(dir.get());
    if (e == nullptr) {
      if (errno != 0) {
        return util::fail(ErrorKind::invalid_input, what + ": cannot list: " + errno_text(errno));
      }
      break;
    }
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

util::Result<std::string> read_all(int fd, std::uint64_t max_bytes, const std::string& what) {
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
      return util::fail(ErrorKind::invalid_input, what + ": cannot read: " + errno_text(errno));
    }
    if (static_cast<std::uint64_t>(n) > max_bytes - out.size()) {
      return util::fail(ErrorKind::too_large,
                        what + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

util::Result<void> write_all(int fd, std::string_view data, const std::string& what) {
  for (std::size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return util::fail(ErrorKind::invalid_input, what + ": cannot write: " + errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

} // namespace common::artifact::detail
