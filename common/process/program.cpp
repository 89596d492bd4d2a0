#include <filesystem>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include "common/process/runner.hpp"

extern char** environ; // NOLINT: POSIX; read only

namespace common::process {

namespace {

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

} // namespace

util::Result<std::string> find_program(const std::string& name, const std::string& path_var) {
  if (name.empty()) {
    return util::fail(util::ErrorKind::invalid_input, "find_program: empty program name");
  }
  if (name.find('/') != std::string::npos) {
    std::error_code ec;
    const std::string path = std::filesystem::absolute(name, ec).lexically_normal().string();
    if (ec || !is_executable_file(path)) {
      return util::fail(util::ErrorKind::not_found, name + ": no such executable file");
    }
    return path;
  }
  // Empty and relative PATH entries would resolve against the working directory, which is the
  // (untrusted) application checkout when a CMP runs us: skipped.
  std::string_view rest = path_var;
  while (true) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (!dir.empty() && dir.front() == '/') {
      std::string candidate(dir);
      if (candidate.back() != '/') {
        candidate += '/';
      }
      candidate += name;
      if (is_executable_file(candidate)) {
        return candidate;
      }
    }
    if (colon == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(colon + 1);
  }
  return util::fail(util::ErrorKind::not_found,
                    name + ": not found on PATH (" + (path_var.empty() ? "empty" : path_var) + ")");
}

std::vector<std::string> current_environment() {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    out.emplace_back(*entry);
  }
  return out;
}

} // namespace common::process
