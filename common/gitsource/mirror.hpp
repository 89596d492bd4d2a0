// Internal to common::gitsource: the bare mirror of one URL on disk (its lock, opening or
// creating it) and reading a directory of a commit's tree out of it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/gitsource/git.hpp"
#include "common/util/error.hpp"
#include "common/util/tree.hpp"

namespace common::gitsource::detail {

// An exclusive flock(2) on a lock file (created 0600), polled until `deadline`: excludes other
// processes sharing the cache directory (threads of one process are ordered by GitSource's
// per-URL mutex first). transient when the deadline passes, internal when the file cannot be
// opened.
class MirrorLock {
public:
  static util::Result<MirrorLock> acquire(const std::string& path,
                                          std::chrono::steady_clock::time_point deadline,
                                          const std::string& display);
  MirrorLock(MirrorLock&& other) noexcept;
  MirrorLock& operator=(MirrorLock&&) = delete;
  MirrorLock(const MirrorLock&) = delete;
  MirrorLock& operator=(const MirrorLock&) = delete;
  ~MirrorLock(); // unlocks (by closing)

private:
  explicit MirrorLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

// More pack files than this and the mirror is recreated by the next fetch: every incremental
// fetch adds one pack and libgit2 cannot repack, while lookups slow down with the pack count.
inline constexpr std::size_t k_max_packs = 64;

// The bare repository at `dir`, created when missing (initialised beside it, then renamed into
// place, so a crash never leaves half a repository under the final name). One that does not
// open, or holds more than k_max_packs packs, is removed and created again; the first case adds
// a line to `warnings`. internal when the directory cannot be created or removed.
util::Result<GitPtr<git_repository>> open_mirror(const std::string& dir,
                                                 std::vector<std::string>& warnings);

// True when the object database of `repo` holds the object `hex` (40 hex digits).
bool has_object(git_repository* repo, const std::string& hex);

// The commit `hex` names, peeling annotated tags: its 40-hex id, or not_found naming `what`.
util::Result<std::string> peel_to_commit(git_repository* repo, const std::string& hex,
                                         const std::string& what);

// True when `ancestor` is `tip` or reachable from it.
util::Result<bool> is_ancestor(git_repository* repo, const std::string& ancestor,
                               const std::string& tip);

struct TreeLimits {
  std::size_t max_bytes = 0;
  std::size_t max_files = 0;
};

// Collects warnings, at most k_max_warnings lines, then one line counting the rest.
class Warnings {
public:
  static constexpr std::size_t k_max_warnings = 100;
  explicit Warnings(std::vector<std::string>& out) : m_out(out) {}
  void add(std::string line);
  void finish();

private:
  std::vector<std::string>& m_out;
  std::size_t m_dropped = 0;
};

// The regular files under `path` ("" = root) of commit `commit_hex`, sorted by path, relative
// to `path`. Symlinks, submodules and entries whose name is unsafe on disk (".", "..", ".git"
// in any case, names with '/') are skipped with a warning. not_found when `path` is missing or
// not a directory; too_large past the limits (every entry but directories counts as a file).
util::Result<util::Tree> read_tree(git_repository* repo, const std::string& commit_hex,
                                   const std::string& path, const TreeLimits& limits,
                                   const std::string& display, Warnings& warnings);

} // namespace common::gitsource::detail
