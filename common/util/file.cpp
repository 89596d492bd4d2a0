#include "common/util/file.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace common::util {

namespace {

std::string system_reason(int err) {
  return std::strerror(err);
}

} // namespace

Result<std::string> read_stream(std::FILE* stream, const std::string& what, std::size_t max_bytes) {
  std::string out;
  // A regular file (also stdin redirected from one) has a size: reserve it once, so a large
  // input costs its size in memory, not the up-to-double of a growing string.
  struct stat st {};
  if (::fstat(::fileno(stream), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<std::uint64_t>(st.st_size) <= max_bytes) {
    out.reserve(static_cast<std::size_t>(st.st_size) + 1);
  }
  char buffer[1 << 16];
  for (;;) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, stream);
    if (n > 0) {
      if (out.size() + n > max_bytes) {
        return fail(ErrorKind::too_large,
                    what + ": larger than " + std::to_string(max_bytes) + " bytes");
      }
      out.append(buffer, n);
    }
    if (n < sizeof buffer) {
      if (std::ferror(stream)) {
        return fail(ErrorKind::invalid_input, what + ": read error: " + system_reason(errno));
      }
      break;
    }
  }
  return out;
}

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    int err = errno;
    return fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::invalid_input,
                path + ": cannot open: " + system_reason(err));
  }
  // fopen succeeds on a directory; reading it then fails with EISDIR, say so up front.
  struct stat st {};
  if (::fstat(::fileno(f.get()), &st) == 0 && S_ISDIR(st.st_mode)) {
    return fail(ErrorKind::invalid_input, path + ": is a directory");
  }
  return read_stream(f.get(), path, max_bytes);
}

Result<void> write_file_atomic(const std::string& path, std::string_view data) {
  const std::filesystem::path target(path);
  std::error_code ec;
  // Keep the mode of the file replaced (a script stays executable); new files get 0644.
  auto mode = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
              std::filesystem::perms::group_read | std::filesystem::perms::others_read;
  if (const auto status = std::filesystem::status(target, ec); !ec && exists(status)) {
    mode = status.permissions();
  }
  // The temporary file sits beside the target: rename() is atomic only within one file system.
  std::string temp = path + ".imageupdater-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return fail(ErrorKind::invalid_input,
                path + ": cannot create a temporary file beside it: " + system_reason(errno));
  }
  const auto cleanup_fail = [&](const std::string& why) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return fail(ErrorKind::invalid_input, path + ": " + why + ": " + system_reason(err));
  };
  for (std::size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return cleanup_fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    return cleanup_fail("cannot set the mode");
  }
  if (::fsync(fd) != 0) {
    return cleanup_fail("cannot sync");
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return fail(ErrorKind::invalid_input, path + ": cannot close: " + system_reason(err));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return fail(ErrorKind::invalid_input, path + ": cannot replace: " + system_reason(err));
  }
  return {};
}

} // namespace common::util
