#include "common/artifact/directory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <utility>

#include "common/artifact/fd.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::artifact {
namespace {

using detail::errno_text;
using detail::UniqueFd;
using util::ErrorKind;

const char* special_kind(mode_t mode) {
  if (S_ISFIFO(mode)) {
    return "FIFO";
  }
  if (S_ISSOCK(mode)) {
    return "socket";
  }
  if (S_ISCHR(mode)) {
    return "character device";
  }
  if (S_ISBLK(mode)) {
    return "block device";
  }
  return "special file";
}

class Walker {
public:
  Walker(const Limits& limits, std::string root) : m_limits(limits), m_root(std::move(root)) {}

  util::Result<void> walk(int dir_fd, const std::string& prefix, std::size_t depth) {
    const std::string where = prefix.empty() ? m_root : m_root + "/" + prefix;
    auto names = detail::list_names(dir_fd, where);
    if (!names) {
      return std::unexpected(names.error());
    }
    for (const std::string& name : *names) {
      if (name == ".git") {
        continue; // VCS metadata, as Flux's archiver ignores it
      }
      const std::string relative = prefix.empty() ? name : prefix + "/" + name;
      const std::string full = m_root + "/" + relative;
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return util::fail(ErrorKind::invalid_input, full + ": " + errno_text(errno));
      }
      if (S_ISLNK(st.st_mode)) {
        m_warnings.push_back(relative + ": symlink, skipped");
        continue;
      }
      if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        m_warnings.push_back(relative + ": " + special_kind(st.st_mode) + ", skipped");
        continue;
      }
      if (auto ok = check_path(relative, m_limits.max_path); !ok) {
        m_warnings.push_back(relative + ": name not allowed in an artifact (" + ok.error().message +
                             "), skipped");
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (depth + 1 >= m_limits.max_depth) {
          return util::fail(ErrorKind::too_large, full + ": deeper than " +
                                                      std::to_string(m_limits.max_depth) +
                                                      " levels");
        }
        UniqueFd sub(
            ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) {
          return util::fail(ErrorKind::invalid_input, full + ": cannot open: " + errno_text(errno));
        }
        if (auto ok = walk(sub.get(), relative, depth + 1); !ok) {
          return ok;
        }
        continue;
      }
      if (auto ok = read_file(dir_fd, name, relative, full); !ok) {
        return ok;
      }
    }
    return {};
  }

  DirectoryFiles finish() {
    std::sort(m_files.begin(), m_files.end(),
              [](const util::TreeFile& a, const util::TreeFile& b) { return a.path < b.path; });
    std::sort(m_warnings.begin(), m_warnings.end());
    return DirectoryFiles{std::move(m_files), std::move(m_warnings)};
  }

private:
  util::Result<void> read_file(int dir_fd, const std::string& name, const std::string& relative,
                               const std::string& full) {
    if (m_files.size() >= m_limits.max_files) {
      return util::fail(ErrorKind::too_large,
                        m_root + ": more than " + std::to_string(m_limits.max_files) + " files");
    }
    // O_NONBLOCK: a FIFO swapped in after the fstatat must not block the open.
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
      return util::fail(ErrorKind::invalid_input, full + ": cannot open: " + errno_text(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return util::fail(ErrorKind::invalid_input, full + ": changed while being read");
    }
    const std::uint64_t budget = m_limits.max_total_bytes - m_total;
    auto content = detail::read_all(fd.get(), budget, full);
    if (!content) {
      if (content.error().kind == ErrorKind::too_large) {
        return util::fail(ErrorKind::too_large, m_root + ": the files are larger than " +
                                                    std::to_string(m_limits.max_total_bytes) +
                                                    " bytes (at " + relative + ")");
      }
      return std::unexpected(content.error());
    }
    m_total += content->size();
    m_files.push_back(util::TreeFile{relative, std::move(*content), (st.st_mode & 0111) != 0});
    return {};
  }

  const Limits& m_limits;
  std::string m_root;
  util::Tree m_files;
  std::vector<std::string> m_warnings;
  std::uint64_t m_total = 0;
};

} // namespace

util::Result<DirectoryFiles> read_directory(const std::string& dir, const std::string& subpath,
                                            const Limits& limits) {
  std::string_view sub = subpath;
  while (sub.starts_with("./")) {
    sub.remove_prefix(2);
  }
  while (sub.size() > 1 && sub.ends_with('/')) {
    sub.remove_suffix(1);
  }
  if (sub == ".") {
    sub = {};
  }
  if (!sub.empty()) {
    if (auto ok = check_path(sub, limits.max_path); !ok) {
      return util::fail(ok.error().kind, "subpath: " + ok.error().message);
    }
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    return util::fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::invalid_input,
                      dir + ": cannot open the directory: " + errno_text(err));
  }
  std::string root = dir;
  // Each component of the subpath, without following symlinks.
  for (std::size_t pos = 0; pos < sub.size();) {
    const std::size_t end = std::min(sub.find('/', pos), sub.size());
    const std::string component(sub.substr(pos, end - pos));
    root += "/" + component;
    struct stat st {};
    if (::fstatat(fd.get(), component.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      return util::fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::invalid_input,
                        root + ": " + errno_text(err));
    }
    if (S_ISLNK(st.st_mode)) {
      return util::fail(ErrorKind::invalid_input,
                        root + ": is a symlink (the subpath is not followed through symlinks)");
    }
    if (!S_ISDIR(st.st_mode)) {
      return util::fail(ErrorKind::invalid_input, root + ": not a directory");
    }
    UniqueFd next(
        ::openat(fd.get(), component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      return util::fail(ErrorKind::invalid_input, root + ": cannot open: " + errno_text(errno));
    }
    fd = std::move(next);
    pos = end + 1;
  }
  Walker walker(limits, root);
  IU_TRY(walker.walk(fd.get(), "", 0));
  return walker.finish();
}

} // namespace common::artifact
