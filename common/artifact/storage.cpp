#include "common/artifact/storage.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "common/artifact/archive.hpp"
#include "common/artifact/fd.hpp"
#include "common/image/digest.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::artifact {
namespace {

using detail::errno_text;
using detail::UniqueFd;
using util::ErrorKind;

constexpr std::string_view k_suffix = ".tar.gz";
constexpr std::string_view k_temp_suffix = ".tmp";
constexpr mode_t k_stored_file_mode = 0644;
constexpr mode_t k_stored_dir_mode = 0755;

bool is_lower_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_kind(std::string_view s) noexcept {
  return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), is_lower_alnum);
}

// "<64 lower-case hex digits>.tar.gz"
bool is_artifact_name(std::string_view s) noexcept {
  if (s.size() != 64 + k_suffix.size() || !s.ends_with(k_suffix)) {
    return false;
  }
  return std::all_of(s.begin(), s.begin() + 64,
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ".<artifact name>.tmp": what put writes before the rename.
bool is_temp_name(std::string_view s) noexcept {
  return s.starts_with('.') && s.ends_with(k_temp_suffix) &&
         is_artifact_name(s.substr(1, s.size() - 1 - k_temp_suffix.size()));
}

util::Result<void> check_object(std::string_view kind, std::string_view namespace_,
                                std::string_view name) {
  if (!is_kind(kind)) {
    return util::fail(ErrorKind::invalid_input,
                      "artifact kind " + util::quote(kind) + " is not lower-case alphanumeric");
  }
  if (!is_dns_label(namespace_)) {
    return util::fail(ErrorKind::invalid_input,
                      "artifact namespace " + util::quote(namespace_) + " is not a DNS label");
  }
  if (!is_dns_subdomain(name)) {
    return util::fail(ErrorKind::invalid_input,
                      "artifact name " + util::quote(name) + " is not a DNS subdomain");
  }
  return {};
}

std::int64_t to_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct timespec to_timespec(std::int64_t ns) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1'000'000'000;
    --ts.tv_sec;
  }
  return ts;
}

// Sets a file's atime and mtime (the "became current" time) and syncs it.
util::Result<void> stamp(int fd, std::int64_t ns, const std::string& what) {
  const struct timespec times[2] = {to_timespec(ns), to_timespec(ns)};
  if (::futimens(fd, times) != 0) {
    return util::fail(ErrorKind::invalid_input,
                      what + ": cannot set the time: " + errno_text(errno));
  }
  return {};
}

// One stored file of an object.
struct FileInfo {
  std::string name;
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;
};

struct ObjectFiles {
  std::vector<FileInfo> artifacts; // newest first: [0] is the current one
  std::vector<std::string> temporaries;
};

util::Result<ObjectFiles> list_object(int dir_fd, const std::string& where) {
  auto names = detail::list_names(dir_fd, where);
  if (!names) {
    return std::unexpected(names.error());
  }
  ObjectFiles out;
  for (const std::string& name : *names) {
    const bool temp = is_temp_name(name);
    if (!temp && !is_artifact_name(name)) {
      continue; // not ours: left alone
    }
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        continue;
      }
      return util::fail(ErrorKind::invalid_input, where + "/" + name + ": " + errno_text(errno));
    }
    if (!S_ISREG(st.st_mode)) {
      continue;
    }
    if (temp) {
      out.temporaries.push_back(name);
    } else {
      const std::int64_t mtime =
          std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
      out.artifacts.push_back(FileInfo{name, mtime, static_cast<std::uint64_t>(st.st_size)});
    }
  }
  std::sort(out.artifacts.begin(), out.artifacts.end(), [](const FileInfo& a, const FileInfo& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns > b.mtime_ns : a.name > b.name;
  });
  return out;
}

// Opens `component` of the directory `fd` as a directory without following a symlink;
// creates it first when `create`.
util::Result<UniqueFd> open_subdir(int fd, const std::string& component, const std::string& path,
                                   bool create) {
  if (create && ::mkdirat(fd, component.c_str(), k_stored_dir_mode) != 0 && errno != EEXIST) {
    return util::fail(ErrorKind::invalid_input, path + ": cannot create: " + errno_text(errno));
  }
  UniqueFd sub(::openat(fd, component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) {
    const int err = errno;
    if (err == ENOENT) {
      return util::fail(ErrorKind::not_found, path + ": no such directory");
    }
    if (err == ELOOP || err == ENOTDIR) {
      return util::fail(ErrorKind::invalid_input, path + ": refused: a symlink or not a directory");
    }
    return util::fail(ErrorKind::invalid_input, path + ": cannot open: " + errno_text(err));
  }
  return sub;
}

struct Dirs {
  UniqueFd root, kind, ns, object;
};

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) {
      out += '/';
    }
    out += p;
  }
  return out;
}

} // namespace

bool is_dns_label(std::string_view s) noexcept {
  if (s.empty() || s.size() > 63 || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

bool is_dns_subdomain(std::string_view s) noexcept {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  for (std::size_t pos = 0; pos <= s.size();) {
    const std::size_t end = std::min(s.find('.', pos), s.size());
    if (!is_dns_label(s.substr(pos, end - pos))) {
      return false;
    }
    pos = end + 1;
  }
  return true;
}

// ---- ArtifactFile -------------------------------------------------------------------------------

ArtifactFile::~ArtifactFile() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

ArtifactFile::ArtifactFile(ArtifactFile&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_size(other.m_size) {}

ArtifactFile& ArtifactFile::operator=(ArtifactFile&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = std::exchange(other.m_fd, -1);
    m_size = other.m_size;
  }
  return *this;
}

util::Result<std::string> ArtifactFile::read_all() {
  return detail::read_all(m_fd, m_size, "artifact file");
}

// ---- Storage ----------------------------------------------------------------------------------

namespace {

util::Result<UniqueFd> open_root(const std::string& root, bool create) {
  if (create) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) {
      return util::fail(ErrorKind::invalid_input,
                        root + ": cannot create the artifact storage: " + ec.message());
    }
  }
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    return util::fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::invalid_input,
                      root + ": cannot open the artifact storage: " + errno_text(err));
  }
  return fd;
}

// The directories of one object, from the root down (created when `create`).
util::Result<Dirs> open_object(const std::string& root, std::string_view kind,
                               std::string_view namespace_, std::string_view name, bool create) {
  Dirs d;
  auto r = open_root(root, create);
  if (!r) {
    return std::unexpected(r.error());
  }
  d.root = std::move(*r);
  std::string path = root;
  UniqueFd* parent = &d.root;
  for (auto [component, into] :
       {std::pair{kind, &d.kind}, std::pair{namespace_, &d.ns}, std::pair{name, &d.object}}) {
    path += '/';
    path += component;
    auto sub = open_subdir(parent->get(), std::string(component), path, create);
    if (!sub) {
      return std::unexpected(sub.error());
    }
    *into = std::move(*sub);
    parent = into;
  }
  return d;
}

// Writes `bytes` as `file` in the directory `dir_fd`: temporary file, sync, time, rename,
// directory sync.
util::Result<void> write_atomic(int dir_fd, const std::string& file, std::string_view bytes,
                                std::int64_t mtime_ns, const std::string& shown) {
  const std::string temp = "." + file + std::string(k_temp_suffix);
  // A temporary file of the same name is a leftover of an interrupted put (puts are serialised):
  // remove it and try once more.
  UniqueFd fd;
  for (int attempt = 0; attempt < 2 && !fd; ++attempt) {
    fd = UniqueFd(::openat(dir_fd, temp.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           k_stored_file_mode));
    if (!fd && errno == EEXIST && attempt == 0) {
      ::unlinkat(dir_fd, temp.c_str(), 0);
    }
  }
  if (!fd) {
    return util::fail(ErrorKind::invalid_input,
                      shown + ": cannot create a temporary file beside it: " + errno_text(errno));
  }
  const auto failed = [&](const std::string& why) {
    const int err = errno;
    ::unlinkat(dir_fd, temp.c_str(), 0);
    return util::fail(ErrorKind::invalid_input, shown + ": " + why + ": " + errno_text(err));
  };
  if (auto ok = detail::write_all(fd.get(), bytes, shown); !ok) {
    ::unlinkat(dir_fd, temp.c_str(), 0);
    return ok;
  }
  // The umask may have narrowed the mode given to openat.
  if (::fchmod(fd.get(), k_stored_file_mode) != 0) {
    return failed("cannot set the mode");
  }
  if (auto ok = stamp(fd.get(), mtime_ns, shown); !ok) {
    ::unlinkat(dir_fd, temp.c_str(), 0);
    return ok;
  }
  if (::fsync(fd.get()) != 0) {
    return failed("cannot sync");
  }
  if (::close(fd.release()) != 0) {
    return failed("cannot close");
  }
  if (::renameat(dir_fd, temp.c_str(), dir_fd, file.c_str()) != 0) {
    return failed("cannot rename the temporary file");
  }
  if (::fsync(dir_fd) != 0) {
    return util::fail(ErrorKind::invalid_input,
                      shown + ": cannot sync the directory: " + errno_text(errno));
  }
  return {};
}

} // namespace

Storage::Storage(std::string root, util::Clock& clock, Retention retention)
    : m_root(std::move(root)), m_clock(clock), m_retention(retention) {
  while (m_root.size() > 1 && m_root.back() == '/') {
    m_root.pop_back();
  }
  m_retention.records = std::max<std::size_t>(1, m_retention.records);
}

util::Result<Stored> Storage::put(std::string_view kind, std::string_view namespace_,
                                  std::string_view name, std::string_view bytes) {
  IU_TRY(check_object(kind, namespace_, name));
  std::lock_guard lock(m_mutex);
  auto dirs = open_object(m_root, kind, namespace_, name, true);
  if (!dirs) {
    return std::unexpected(dirs.error());
  }
  const int dir_fd = dirs->object.get();
  const std::string object_dir = join({m_root, kind, namespace_, name});
  auto files = list_object(dir_fd, object_dir);
  if (!files) {
    return std::unexpected(files.error());
  }
  Stored out;
  out.digest = image::sha256_digest(bytes);
  const std::string file = out.digest.substr(7) + std::string(k_suffix);
  out.path = join({kind, namespace_, name, file});
  out.size = bytes.size();
  const std::string shown = m_root + "/" + out.path;

  // Strictly after every file of the object, so "newest" is unambiguous even when the clock
  // stands still (a FakeClock) or went backwards.
  std::int64_t when = to_ns(m_clock.now());
  if (!files->artifacts.empty()) {
    when = std::max(when, files->artifacts.front().mtime_ns + 1);
  }
  const auto existing = std::find_if(files->artifacts.begin(), files->artifacts.end(),
                                     [&](const FileInfo& f) { return f.name == file; });
  if (existing != files->artifacts.end() && existing->size == bytes.size()) {
    UniqueFd fd(::openat(dir_fd, file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      return util::fail(ErrorKind::invalid_input, shown + ": cannot open: " + errno_text(errno));
    }
    auto content = detail::read_all(fd.get(), bytes.size(), shown);
    if (content && *content == bytes) {
      if (existing == files->artifacts.begin()) {
        out.changed = false;
        return out;
      }
      // An older retained file becomes current again.
      IU_TRY(stamp(fd.get(), when, shown));
      if (::fsync(fd.get()) != 0) {
        return util::fail(ErrorKind::invalid_input, shown + ": cannot sync: " + errno_text(errno));
      }
      out.changed = true;
      return out;
    }
    // Not what its name says (a damaged disk, a partial copy): written again below.
  }
  IU_TRY(write_atomic(dir_fd, file, bytes, when, shown));
  out.changed = existing == files->artifacts.end() || existing != files->artifacts.begin();
  return out;
}

util::Result<std::optional<Stored>>
Storage::current(std::string_view kind, std::string_view namespace_, std::string_view name) const {
  IU_TRY(check_object(kind, namespace_, name));
  auto dirs = open_object(m_root, kind, namespace_, name, false);
  if (!dirs) {
    if (dirs.error().kind == ErrorKind::not_found) {
      return std::nullopt;
    }
    return std::unexpected(dirs.error());
  }
  auto files = list_object(dirs->object.get(), join({m_root, kind, namespace_, name}));
  if (!files) {
    return std::unexpected(files.error());
  }
  if (files->artifacts.empty()) {
    return std::nullopt;
  }
  const FileInfo& newest = files->artifacts.front();
  Stored out;
  out.path = join({kind, namespace_, name, newest.name});
  out.digest = "sha256:" + newest.name.substr(0, 64);
  out.size = newest.size;
  return out;
}

util::Result<ArtifactFile> Storage::open(std::string_view relative_path) const {
  const auto refused = [&](const char* why) {
    return util::fail(ErrorKind::invalid_input,
                      "artifact path " + util::quote(relative_path) + " refused: " + why);
  };
  std::vector<std::string_view> parts;
  for (std::size_t pos = 0; pos <= relative_path.size();) {
    const std::size_t end = std::min(relative_path.find('/', pos), relative_path.size());
    parts.push_back(relative_path.substr(pos, end - pos));
    pos = end + 1;
  }
  if (relative_path.empty() || relative_path.front() == '/') {
    return refused("not a relative path");
  }
  if (relative_path.find('\\') != std::string_view::npos) {
    return refused("contains a backslash");
  }
  if (parts.size() != 4) {
    return refused("not <kind>/<namespace>/<name>/<digest>.tar.gz");
  }
  if (!check_object(parts[0], parts[1], parts[2]) || !is_artifact_name(parts[3])) {
    return refused("not <kind>/<namespace>/<name>/<digest>.tar.gz");
  }
  auto dirs = open_object(m_root, parts[0], parts[1], parts[2], false);
  if (!dirs) {
    return std::unexpected(dirs.error());
  }
  const std::string file(parts[3]);
  const std::string shown = m_root + "/" + std::string(relative_path);
  // O_NONBLOCK: nothing but a regular file is read, and opening a FIFO must not hang.
  UniqueFd fd(
      ::openat(dirs->object.get(), file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) {
      return util::fail(ErrorKind::not_found, shown + ": no such artifact");
    }
    if (err == ELOOP) {
      return refused("a symlink");
    }
    return util::fail(ErrorKind::invalid_input, shown + ": cannot open: " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return util::fail(ErrorKind::invalid_input, shown + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return refused("not a regular file");
  }
  // Back to blocking reads for the caller.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return ArtifactFile(fd.release(), static_cast<std::uint64_t>(st.st_size));
}

util::Result<void> Storage::remove_object(std::string_view kind, std::string_view namespace_,
                                          std::string_view name) {
  IU_TRY(check_object(kind, namespace_, name));
  std::lock_guard lock(m_mutex);
  auto dirs = open_object(m_root, kind, namespace_, name, false);
  if (!dirs) {
    return dirs.error().kind == ErrorKind::not_found ? util::Result<void>{}
                                                     : std::unexpected(dirs.error());
  }
  const std::string object_dir = join({m_root, kind, namespace_, name});
  auto names = detail::list_names(dirs->object.get(), object_dir);
  if (!names) {
    return std::unexpected(names.error());
  }
  for (const std::string& n : *names) {
    if (::unlinkat(dirs->object.get(), n.c_str(), 0) != 0 && errno != ENOENT) {
      return util::fail(ErrorKind::invalid_input,
                        object_dir + "/" + n + ": cannot remove: " + errno_text(errno));
    }
  }
  if (::unlinkat(dirs->ns.get(), std::string(name).c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return util::fail(ErrorKind::invalid_input,
                      object_dir + ": cannot remove: " + errno_text(errno));
  }
  // The namespace and kind directories go when empty; ENOTEMPTY is the common case.
  ::unlinkat(dirs->kind.get(), std::string(namespace_).c_str(), AT_REMOVEDIR);
  ::unlinkat(dirs->root.get(), std::string(kind).c_str(), AT_REMOVEDIR);
  return {};
}

util::Result<GcReport> Storage::gc() {
  std::lock_guard lock(m_mutex);
  GcReport report;
  auto root = open_root(m_root, false);
  if (!root) {
    if (root.error().kind == ErrorKind::not_found) {
      return report;
    }
    return std::unexpected(root.error());
  }
  const std::int64_t now = to_ns(m_clock.now());
  const std::int64_t ttl = std::chrono::nanoseconds(m_retention.ttl).count();
  // Every <kind>/<namespace>/<name> directory whose names are valid; anything else is not ours.
  const auto subdirs = [](int fd, const std::string& where,
                          bool (*valid)(std::string_view) noexcept)
      -> util::Result<std::vector<std::pair<std::string, UniqueFd>>> {
    auto names = detail::list_names(fd, where);
    if (!names) {
      return std::unexpected(names.error());
    }
    std::vector<std::pair<std::string, UniqueFd>> out;
    for (const std::string& n : *names) {
      if (!valid(n)) {
        continue;
      }
      auto sub = open_subdir(fd, n, where + "/" + n, false);
      if (!sub) {
        if (sub.error().kind == ErrorKind::not_found ||
            sub.error().kind == ErrorKind::invalid_input) {
          continue; // removed meanwhile, or a symlink / file: not ours to follow
        }
        return std::unexpected(sub.error());
      }
      out.emplace_back(n, std::move(*sub));
    }
    return out;
  };
  auto kinds = subdirs(root->get(), m_root, &is_kind);
  if (!kinds) {
    return std::unexpected(kinds.error());
  }
  for (auto& [kind, kind_fd] : *kinds) {
    auto namespaces = subdirs(kind_fd.get(), m_root + "/" + kind, &is_dns_label);
    if (!namespaces) {
      return std::unexpected(namespaces.error());
    }
    for (auto& [ns, ns_fd] : *namespaces) {
      auto objects = subdirs(ns_fd.get(), join({m_root, kind, ns}), &is_dns_subdomain);
      if (!objects) {
        return std::unexpected(objects.error());
      }
      for (auto& [name, object_fd] : *objects) {
        const std::string where = join({m_root, kind, ns, name});
        auto files = list_object(object_fd.get(), where);
        if (!files) {
          return std::unexpected(files.error());
        }
        std::vector<std::string> remove = files->temporaries;
        for (std::size_t i = 1; i < files->artifacts.size(); ++i) {
          const std::int64_t superseded = files->artifacts[i - 1].mtime_ns;
          if (i >= m_retention.records || now - superseded > ttl) {
            remove.push_back(files->artifacts[i].name);
          }
        }
        for (const std::string& file : remove) {
          if (::unlinkat(object_fd.get(), file.c_str(), 0) != 0 && errno != ENOENT) {
            return util::fail(ErrorKind::invalid_input,
                              where + "/" + file + ": cannot remove: " + errno_text(errno));
          }
          report.removed.push_back(join({kind, ns, name, file}));
        }
      }
    }
  }
  std::sort(report.removed.begin(), report.removed.end());
  return report;
}

} // namespace common::artifact
