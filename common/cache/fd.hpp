// Internal to common::cache: RAII for file descriptors and the few POSIX I/O loops the cache
// needs (EINTR and short reads/writes handled once, here).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util/error.hpp"
#include "common/util/fd.hpp"

namespace common::cache {

using util::errno_text;
using util::UniqueFd;

// Writes all of `data`; fails with internal naming `what` and the system's reason.
util::Result<void> write_all(int fd, std::string_view data, const std::string& what);

// Reads from the current offset to end of file. Fails with too_large when there are more than
// `max_bytes`, internal on a read error.
util::Result<std::string> read_all(int fd, std::size_t max_bytes, const std::string& what);

} // namespace common::cache
