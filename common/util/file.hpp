// Reading whole inputs (spec files, tag lists) with a size bound.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "common/util/error.hpp"

namespace common::util {

// 64 MiB: far above any spec or tag list, far below what could exhaust memory.
inline constexpr std::size_t k_default_max_input = std::size_t{64} << 20;

// Reads a whole file. Fails with not_found (missing), invalid_input (a directory, unreadable)
// or too_large (over max_bytes); the message names the path and the system's reason.
Result<std::string> read_file(const std::string& path, std::size_t max_bytes = k_default_max_input);

// Reads a stream to its end (stdin), with the same bound; `what` names it in errors.
Result<std::string> read_stream(std::FILE* stream, const std::string& what,
                                std::size_t max_bytes = k_default_max_input);

} // namespace common::util
