// A local directory as an artifact source: the regular files of a directory tree, read into a
// util::Tree the way Flux archives a source (symlinks and special files left out, VCS metadata
// skipped), bounded, and with everything left out reported rather than dropped silently.
#pragma once

#include <string>
#include <vector>

#include "common/artifact/archive.hpp"
#include "common/util/error.hpp"
#include "common/util/tree.hpp"

namespace common::artifact {

struct DirectoryFiles {
  util::Tree files; // sorted by path (byte order), paths relative to dir/subpath
  // What was left out, one line each, sorted: "apps/link.yaml: symlink, skipped", "...: FIFO,
  // skipped", "a\\b.yaml: name not allowed in an artifact (...), skipped".
  std::vector<std::string> warnings;
};

// The regular files under `dir`/`subpath` (subpath "" or "." = dir itself), with their
// executable bit (any x bit). Entries named ".git" (the directory, or the file of a worktree)
// are skipped without a warning; symlinks (to files or directories, inside or outside the tree)
// and special files are skipped with a warning, as are names an artifact cannot carry (a
// backslash). Nothing is followed: every component below `dir` is opened with O_NOFOLLOW, so a
// tree changed while it is read cannot lead the reader outside it.
// Fails with invalid_input when subpath breaks check_path (after a leading "./" and a trailing
// '/' are removed) or one of its components is a symlink or not a directory, not_found when dir
// or subpath does not exist, too_large past `limits` (files, total bytes, depth), invalid_input
// naming the path on any other I/O error.
util::Result<DirectoryFiles> read_directory(const std::string& dir, const std::string& subpath,
                                            const Limits& limits = {});

} // namespace common::artifact
