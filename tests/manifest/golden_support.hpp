// Helpers of the golden and conformance tests: reading trees of files, and the overrides file
// of a golden case.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/manifest/overrides.hpp"
#include "common/util/error.hpp"

namespace common::manifest::testing {

// Whole file, binary. Fails the calling test (ADD_FAILURE) and returns "" when unreadable.
std::string read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// Regular files under `root` (following no dangling symlinks), as sorted relative paths with
// '/' separators.
std::vector<std::string> list_files(const std::filesystem::path& root);

// The overrides of a golden case, one directive a line ('#' starts a comment line):
//   --image REPO=NEWREF                       (parse_image_arg)
//   --setter NS:NAME=IMAGE:TAG[@DIGEST]       (parse_setter_arg)
//   --helm REPO [name=PATH] [tag=PATH] [spec=PATH]   (Helm paths of the --image for REPO)
util::Result<Overrides> parse_overrides_file(const std::string& text);

} // namespace common::manifest::testing
