#include "common/util/file.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <sys/stat.h>

namespace common::util {

namespace {

std::string system_reason(int err) {
  return std::strerror(err);
}

} // namespace

Result<std::string> read_stream(std::FILE* stream, const std::string& what, std::size_t max_bytes) {
  std::string out;
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

} // namespace common::util
