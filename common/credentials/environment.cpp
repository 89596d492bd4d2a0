#include "common/credentials/environment.hpp"

#include <cstdlib>
#include <sys/stat.h>

#include "common/process/runner.hpp"
#include "common/util/file.hpp"

namespace common::credentials {

namespace {

using util::ErrorKind;

} // namespace

util::Result<std::string> SystemEnvironment::read_file(const std::string& path,
                                                       std::size_t max_bytes) {
  return util::read_file(path, max_bytes);
}

std::string SystemEnvironment::file_version(const std::string& path) const {
  struct ::stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  // The change time too: a rewrite that keeps the size within one mtime tick still moves it.
  return std::to_string(st.st_dev) + ':' + std::to_string(st.st_ino) + ':' +
         std::to_string(st.st_size) + ':' + std::to_string(st.st_mtim.tv_sec) + '.' +
         std::to_string(st.st_mtim.tv_nsec) + ':' + std::to_string(st.st_ctim.tv_sec) + '.' +
         std::to_string(st.st_ctim.tv_nsec);
}

std::optional<std::string> SystemEnvironment::getenv(const std::string& name) const {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

util::Result<std::string> SystemEnvironment::run_script(const std::string& path,
                                                        const ScriptLimits& limits) {
  const std::string what = "credential script " + path;
  if (path.empty() || path.front() != '/') {
    return util::fail(ErrorKind::invalid_input, what + ": the path must be absolute");
  }
  // The runner checks the file (missing, not regular, not executable) with the same messages.
  process::Command command;
  command.argv = {path};
  command.env = process::current_environment();
  command.timeout = limits.timeout;
  command.max_stdout = limits.max_output;
  command.capture_stderr = false; // the helper's diagnostics go to our stderr, never the result
  process::SystemRunner runner;
  auto ran = runner.run(command);
  if (!ran) {
    // The runner's messages start with the path.
    return util::fail(ran.error().kind, "credential script " + ran.error().message);
  }
  if (!ran->success()) {
    return util::fail(ErrorKind::auth, what + ": " + ran->status_text());
  }
  return std::move(ran->stdout_data);
}

} // namespace common::credentials
