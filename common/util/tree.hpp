// A file of a directory tree held in memory: what a source (a git commit, a local directory)
// yields and what an artifact packs. Pure data.
#pragma once

#include <string>
#include <vector>

namespace common::util {

struct TreeFile {
  std::string path;    // relative, '/'-separated, no "." or ".." segments, no leading '/'
  std::string content; // the bytes
  bool executable = false;
  friend bool operator==(const TreeFile&, const TreeFile&) = default;
};

using Tree = std::vector<TreeFile>;

} // namespace common::util
