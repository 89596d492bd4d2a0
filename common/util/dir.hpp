// Listing the files of a directory tree for tools that edit them (inject --path): sorted,
// bounded, with explicit rules for symlinks, so nothing is skipped silently and nothing outside
// the tree is touched.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::util {

struct ListedFile {
  std::string relative; // from the root, '/'-separated ("apps/web/deploy.yaml")
  std::string path;     // root + "/" + relative: the path to read and write
  // Why the file is not to be used, "" when it is: "dangling symlink", "symlink to a file
  // outside the directory", "symlink to a directory". The caller reports these.
  std::string skipped;
};

struct ListOptions {
  // Whether a file's name (the last path component) is wanted.
  std::function<bool(std::string_view name)> select;
  // Directories whose name starts with '.' (.git, .github) are not entered.
  bool skip_hidden_dirs = true;
  std::size_t max_files = 100'000; // more is too_large, never a silent cut
  std::size_t max_depth = 64;
};

// Every selected file under `root`, sorted by `relative` (byte order). Symlinked directories
// are not followed (reported as skipped when their name is selected). A symlinked file is used
// when it resolves to a regular file inside `root`, as `path` (the link; reading follows it);
// otherwise it is listed with `skipped` set. Fails with not_found / invalid_input naming the
// root when it is missing or not a directory, too_large past the limits.
Result<std::vector<ListedFile>> list_files(const std::string& root, const ListOptions& options);

} // namespace common::util
