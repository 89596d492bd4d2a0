#include "common/cache/disk_cache.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "common/cache/entry_file.hpp"
#include "common/cache/key_lock.hpp"
#include "common/util/try.hpp"

namespace common::cache {

namespace {

using std::chrono::system_clock;

constexpr const char* k_version_dir = "v1";
constexpr std::string_view k_temp_prefix = ".tmp.";
constexpr std::string_view k_lock_suffix = ".lock";
// A write takes milliseconds; a temp file this old belongs to a writer that died.
constexpr auto k_stray_temp_age = std::chrono::minutes(10);

util::Error io_error(const std::string& what, int err) {
  return util::Error{util::ErrorKind::internal, what + ": " + errno_text(err)};
}

std::string mode_text(mode_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

// mkdir -p with mode 0700 for every directory it creates.
util::Result<void> make_directories(const std::string& directory) {
  std::string prefix;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = directory.find('/', pos + 1);
    prefix = directory.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return std::unexpected(
          io_error("cache directory " + directory + ": cannot create " + prefix, errno));
    }
  }
  return {};
}

// The cache directory must be ours alone: cached registry answers may be private, and anyone
// who can write there can plant answers.
util::Result<void> check_owner_and_mode(const std::string& directory, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return std::unexpected(io_error("cache directory " + directory + ": stat", errno));
  }
  if (st.st_uid != ::geteuid()) {
    return util::fail(util::ErrorKind::invalid_input,
                      "cache directory " + directory + ": owned by uid " +
                          std::to_string(st.st_uid) + ", not by this user (uid " +
                          std::to_string(::geteuid()) +
                          "); refusing to use it because cached registry answers may be private");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return util::fail(util::ErrorKind::invalid_input,
                      "cache directory " + directory + ": writable by group or others (mode " +
                          mode_text(st.st_mode) +
                          "); refusing to use it because cached registry answers may be private "
                          "(chmod 700 it or choose another directory)");
  }
  return {};
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

using DirHandle = std::unique_ptr<DIR, int (*)(DIR*)>;

// The names in a directory (relative to dir_fd), sorted so that prune works in a stable order.
util::Result<std::vector<std::string>> list_names(int dir_fd, const std::string& path,
                                                  const std::string& display) {
  int fd = ::openat(dir_fd, path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(io_error("cache directory " + display + ": open", errno));
  }
  DirHandle dir(::fdopendir(fd), &::closedir);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return std::unexpected(io_error("cache directory " + display + ": open", err));
  }
  std::vector<std::string> names;
  while (const dirent* d = ::readdir(dir.get())) {
    std::string_view name = d->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

system_clock::time_point mtime_of(const struct stat& st) {
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(since_epoch));
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Unlinks `path` only if it still is the file we looked at: a writer may have renamed a good
// entry over it since.
bool remove_if_same(int dir_fd, const std::string& path, const struct stat& seen) {
  struct stat now {};
  return ::fstatat(dir_fd, path.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && same_file(now, seen) &&
         ::unlinkat(dir_fd, path.c_str(), 0) == 0;
}

// Unlinks a temp file when its owner fails: the entry is not written, and no stray is left.
class TempFileGuard {
public:
  TempFileGuard(int dir_fd, std::string path) : m_dir_fd(dir_fd), m_path(std::move(path)) {}
  ~TempFileGuard() {
    if (!m_committed) {
      ::unlinkat(m_dir_fd, m_path.c_str(), 0);
    }
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void commit() { m_committed = true; }

private:
  int m_dir_fd;
  std::string m_path;
  bool m_committed = false;
};

} // namespace

DiskCache::DiskCache(std::string directory, util::Clock& clock, Options options)
    : m_directory(std::move(directory)), m_clock(&clock), m_options(options) {
  while (m_directory.size() > 1 && m_directory.back() == '/') {
    m_directory.pop_back();
  }
  m_usable = [&]() -> util::Result<void> {
    if (m_directory.empty()) {
      return util::fail(util::ErrorKind::invalid_input, "cache directory: empty path");
    }
    if (auto made = make_directories(m_directory); !made) {
      return made;
    }
    m_dir = UniqueFd(::open(m_directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!m_dir) {
      return std::unexpected(io_error("cache directory " + m_directory + ": open", errno));
    }
    // Checked on the open descriptor, which every later call goes through: replacing the
    // directory after this check changes nothing.
    if (auto checked = check_owner_and_mode(m_directory, m_dir.get()); !checked) {
      m_dir = UniqueFd();
      return checked;
    }
    if (::mkdirat(m_dir.get(), k_version_dir, 0700) != 0 && errno != EEXIST) {
      return std::unexpected(
          io_error("cache directory " + m_directory + ": cannot create " + k_version_dir, errno));
    }
    if (::faccessat(m_dir.get(), k_version_dir, W_OK | X_OK, AT_EACCESS) != 0) {
      return std::unexpected(io_error(
          "cache directory " + m_directory + "/" + k_version_dir + ": not writable", errno));
    }
    return {};
  }();
}

DiskCache::~DiskCache() = default;

util::Result<DiskCache::Located> DiskCache::locate(std::string_view ns,
                                                   std::string_view key) const {
  IU_TRY(check_key(ns, key));
  Located where;
  where.name = entry_name(ns, key);
  where.shard = std::string(k_version_dir) + "/" + shard_of(ns, key);
  where.entry = where.shard + "/" + where.name;
  where.lock = where.entry + std::string(k_lock_suffix);
  return where;
}

std::string DiskCache::entry_path(std::string_view ns, std::string_view key) const {
  auto where = locate(ns, key);
  return where ? m_directory + "/" + where->entry : std::string();
}

util::Result<void> DiskCache::ensure_shard(const Located& where) const {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::mkdirat(m_dir.get(), where.shard.c_str(), 0700) == 0 || errno == EEXIST) {
      return {};
    }
    // v1 itself was removed (by hand): recreate it once.
    if (errno != ENOENT || (::mkdirat(m_dir.get(), k_version_dir, 0700) != 0 && errno != EEXIST)) {
      break;
    }
  }
  return std::unexpected(io_error("cache directory " + m_directory + "/" + where.shard, errno));
}

util::Result<std::optional<Entry>> DiskCache::get(std::string_view ns, std::string_view key) const {
  if (!m_usable) {
    return std::unexpected(m_usable.error());
  }
  auto where = locate(ns, key);
  if (!where) {
    return std::unexpected(where.error());
  }
  const std::string display = m_directory + "/" + where->entry;
  // O_NONBLOCK: a FIFO planted under the entry's name must not block the open.
  UniqueFd fd(::openat(m_dir.get(), where->entry.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::optional<Entry>();
    }
    if (errno == ELOOP) { // a symlink: not ours
      ::unlinkat(m_dir.get(), where->entry.c_str(), 0);
      return std::optional<Entry>();
    }
    return std::unexpected(io_error("cache entry " + display + ": open", errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return std::unexpected(io_error("cache entry " + display + ": stat", errno));
  }
  // Larger than this cache would store: a miss, but not damage (another process may run with
  // a larger bound), so it stays.
  const std::size_t max_file =
      k_max_header_size + k_max_namespace_size + k_max_key_size + m_options.max_entry_size;
  if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > max_file) {
    return std::optional<Entry>();
  }
  auto bytes = read_all(fd.get(), max_file, "cache entry " + display);
  if (!bytes) {
    if (bytes.error().kind == util::ErrorKind::too_large) { // grew since fstat: not an entry
      return std::optional<Entry>();
    }
    return std::unexpected(bytes.error());
  }
  auto decoded = decode_entry(*bytes);
  if (!decoded) {
    remove_if_same(m_dir.get(), where->entry, st);
    return std::optional<Entry>();
  }
  if (decoded->ns != ns || decoded->key != key) {
    // A hash collision (or a file copied here): it belongs to another key, leave it.
    return std::optional<Entry>();
  }
  Entry entry;
  entry.data = std::string(decoded->data);
  entry.stored_at = decoded->stored_at;
  return std::optional<Entry>(std::move(entry));
}

util::Result<void> DiskCache::put(std::string_view ns, std::string_view key,
                                  std::string_view data) {
  if (!m_usable) {
    return std::unexpected(m_usable.error());
  }
  auto where = locate(ns, key);
  if (!where) {
    return std::unexpected(where.error());
  }
  return store(*where, ns, key, data, m_clock->now());
}

util::Result<void> DiskCache::store(const Located& where, std::string_view ns, std::string_view key,
                                    std::string_view data,
                                    system_clock::time_point stored_at) const {
  if (data.size() > m_options.max_entry_size) {
    return util::fail(util::ErrorKind::too_large,
                      "cache entry " + std::string(ns) + " " + std::string(key) + ": " +
                          std::to_string(data.size()) + " bytes, over the limit of " +
                          std::to_string(m_options.max_entry_size));
  }
  if (auto shard = ensure_shard(where); !shard) {
    return shard;
  }
  // Unique among processes (pid), threads (counter) and containers sharing the directory with
  // the same pids (random); O_EXCL settles any remaining clash.
  UniqueFd fd;
  std::string temp;
  for (int attempt = 0; attempt < 8 && !fd; ++attempt) {
    std::uint64_t random = 0;
    [[maybe_unused]] ssize_t got = ::getrandom(&random, sizeof random, GRND_NONBLOCK);
    temp = where.shard + "/" + std::string(k_temp_prefix) + where.name + "." +
           std::to_string(::getpid()) + "." + std::to_string(m_temp_counter.fetch_add(1)) + "." +
           std::to_string(random);
    fd = UniqueFd(::openat(m_dir.get(), temp.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd && errno != EEXIST) {
      return std::unexpected(io_error(
          "cache directory " + m_directory + "/" + where.shard + ": create temp file", errno));
    }
  }
  if (!fd) {
    return util::fail(util::ErrorKind::internal, "cache directory " + m_directory + "/" +
                                                     where.shard +
                                                     ": cannot create a unique temp file");
  }
  TempFileGuard guard(m_dir.get(), temp);
  const std::string display = m_directory + "/" + temp;
  const std::string header = encode_header(ns, key, data, stored_at);
  for (std::string_view part : {std::string_view(header), ns, key, data}) {
    if (auto written = write_all(fd.get(), part, display); !written) {
      return written;
    }
  }
  // Durable before it becomes visible: after a crash the entry is old or new, never empty.
  // The directory is not fsynced: losing the rename in a crash only loses a cache entry.
  if (::fsync(fd.get()) != 0) {
    return std::unexpected(io_error(display + ": fsync", errno));
  }
  if (auto closed = fd.close(display); !closed) {
    return closed;
  }
  if (::renameat(m_dir.get(), temp.c_str(), m_dir.get(), where.entry.c_str()) != 0) {
    return std::unexpected(io_error(display + ": rename to " + where.entry, errno));
  }
  guard.commit();
  return {};
}

util::Result<PruneStats> DiskCache::prune(std::chrono::nanoseconds max_age) {
  if (!m_usable) {
    return std::unexpected(m_usable.error());
  }
  const auto now = m_clock->now();
  PruneStats stats;
  auto shards = list_names(m_dir.get(), k_version_dir, m_directory + "/" + k_version_dir);
  if (!shards) {
    return std::unexpected(shards.error());
  }
  for (const auto& shard_name : *shards) {
    if (shard_name.size() != 2 || !is_hex(shard_name)) {
      continue;
    }
    const std::string shard = std::string(k_version_dir) + "/" + shard_name;
    auto names = list_names(m_dir.get(), shard, m_directory + "/" + shard);
    if (!names) {
      continue; // not a directory, or removed meanwhile
    }
    std::vector<std::string> locks;
    for (const auto& name : *names) {
      const std::string path = shard + "/" + name;
      struct stat st {};
      if (::fstatat(m_dir.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;
      }
      if (name.starts_with(k_temp_prefix)) {
        if (now - mtime_of(st) > k_stray_temp_age && remove_if_same(m_dir.get(), path, st)) {
          ++stats.temp_files_removed;
          stats.bytes_removed += static_cast<std::uint64_t>(st.st_size);
        }
        continue;
      }
      if (name.ends_with(k_lock_suffix)) {
        locks.push_back(name);
        continue;
      }
      if (!is_entry_name(name) || !S_ISREG(st.st_mode)) {
        continue; // not ours: leave it
      }
      // The header says when; the size must match it (a truncated entry is corrupt).
      UniqueFd fd(::openat(m_dir.get(), path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      char buffer[k_max_header_size];
      ssize_t n = fd ? ::pread(fd.get(), buffer, sizeof buffer, 0) : -1;
      if (n < 0) {
        continue;
      }
      auto header = decode_header(std::string_view(buffer, static_cast<std::size_t>(n)));
      bool corrupt = !header || header->file_size() != static_cast<std::size_t>(st.st_size);
      if ((corrupt || now - header->stored_at > max_age) && remove_if_same(m_dir.get(), path, st)) {
        ++stats.entries_removed;
        stats.bytes_removed += static_cast<std::uint64_t>(st.st_size);
      } else {
        ++stats.entries_kept;
      }
    }
    // A lock file outlives its entry only while someone holds it. Unlinked under the lock;
    // KeyLock::acquire notices and moves to a new file.
    for (const auto& name : locks) {
      const std::string path = shard + "/" + name;
      const std::string entry = path.substr(0, path.size() - k_lock_suffix.size());
      struct stat st {};
      if (::fstatat(m_dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        continue;
      }
      auto lock = KeyLock::try_acquire(m_dir.get(), path, m_directory + "/" + path);
      if (lock && *lock && ::unlinkat(m_dir.get(), path.c_str(), 0) == 0) {
        ++stats.lock_files_removed;
      }
    }
  }
  return stats;
}

} // namespace common::cache
