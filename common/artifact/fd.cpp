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

} // namespace common::artifact::detail
