// Reading whole inputs (spec files, tag lists, manifests) with a size bound, and replacing
// files atomically.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

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

// Replaces (or creates) `path` with `data` atomically: written to a temporary file beside it,
// synced, then renamed over it, so readers see the old or the new content, never a part. The
// mode of a replaced file is kept (new files: 0644). A symlink at `path` is replaced by a
// regular file (callers that must edit a link's target pass the target). Fails with
// invalid_input naming the path and the system's reason; the temporary file is removed then.
Result<void> write_file_atomic(const std::string& path, std::string_view data);

} // namespace common::util
