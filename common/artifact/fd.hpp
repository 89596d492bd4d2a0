// Internal to common/artifact: RAII for file descriptors and directory streams, and the POSIX
// loops (EINTR, short reads and writes) the directory reader and the storage share.
#pragma once

#include <cstdint>
#include <dirent.h>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"
#include "common/util/fd.hpp"

namespace common::artifact::detail {

using util::errno_text;
using util::UniqueFd;

// The names in the directory open as `fd` (not "." and ".."), sorted by bytes. `fd` stays
// open and usable. Fails with invalid_input naming `what` and the system's reason.
util::Result<std::vector<std::string>> list_names(int fd, const std::string& what);

// Reads to the end of the file (too_large past `max_bytes`) and writes all of `data`; a read
// or write error is invalid_input naming `what`.
inline util::Result<std::string> read_all(int fd, std::uint64_t max_bytes,
                                          const std::string& what) {
  return util::read_all(fd, max_bytes, what, util::ErrorKind::invalid_input);
}
inline util::Result<void> write_all(int fd, std::string_view data, const std::string& what) {
  return util::write_all(fd, data, what, util::ErrorKind::invalid_input);
}

} // namespace common::artifact::detail
