// The side effects the credential resolver needs (files, environment variables, helper scripts),
// behind one narrow interface: SystemEnvironment does them for real, tests use fakes. (Time
// comes from util::Clock.)
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "common/util/error.hpp"

namespace common::credentials {

struct ScriptLimits {
  std::chrono::milliseconds timeout{10000};       // argocd-image-updater's 10 s
  std::size_t max_output = std::size_t{64} << 10; // stdout; tokens are a few KiB at most
};

class Environment {
public:
  virtual ~Environment() = default;

  // Reads a whole file. Fails like util::read_file: not_found when it does not exist,
  // invalid_input when unreadable, too_large over max_bytes; messages name the path.
  virtual util::Result<std::string> read_file(const std::string& path, std::size_t max_bytes) = 0;

  // An opaque version of the file at `path`, as stat(2) sees it through symlinks (device, inode,
  // size, modification and change times): it differs once the file is rewritten or replaced.
  // A Kubernetes secret volume swaps its `..data` symlink to a new directory, so the path then
  // reaches a new inode. "" when the file cannot be stat'ed (missing, unreadable directory).
  virtual std::string file_version(const std::string& path) const = 0;

  // The value of an environment variable, nullopt when unset.
  virtual std::optional<std::string> getenv(const std::string& name) const = 0;

  // Runs the program at the absolute `path` with no arguments, stdin from /dev/null and stderr
  // left to the caller's stderr (never mixed into the result), and returns what it printed on
  // stdout. The program runs in its own process group; whatever it leaves running there is
  // killed when it exits. Fails with invalid_input (path not absolute, not a regular executable
  // file), not_found (no such file), transient (still running after limits.timeout: the whole
  // process group is killed), too_large (more than limits.max_output bytes on stdout: killed too),
  // auth (it exited with a non-zero status or died from a signal) or internal (the system
  // refused to start it). Messages name the path, never the output.
  virtual util::Result<std::string> run_script(const std::string& path,
                                               const ScriptLimits& limits) = 0;
};

// The real thing: util::read_file, ::getenv, process::SystemRunner (posix_spawn in a new
// process group).
// run_script is safe to call from several threads at once.
class SystemEnvironment final : public Environment {
public:
  util::Result<std::string> read_file(const std::string& path, std::size_t max_bytes) override;
  std::string file_version(const std::string& path) const override;
  std::optional<std::string> getenv(const std::string& name) const override;
  util::Result<std::string> run_script(const std::string& path,
                                       const ScriptLimits& limits) override;
};

} // namespace common::credentials
