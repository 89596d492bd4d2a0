// Running external programs (credential helpers, kustomize, kubectl, helm) behind one narrow
// interface: SystemRunner starts real processes, tests substitute a fake Runner that records the
// Command and answers with a canned Output.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/util/error.hpp"

namespace common::process {

struct Command {
  // argv[0] is the program: an absolute path (find_program() gives one); it is also the child's
  // argv[0]. No shell is involved.
  std::vector<std::string> argv;
  // The child's working directory; "" keeps the caller's.
  std::string cwd;
  // The child's whole environment, "NAME=value" entries passed as they are (no lookup in this
  // process's environment: callers pass current_environment() plus their additions).
  std::vector<std::string> env;
  // What the child reads on stdin; nullopt: /dev/null.
  std::optional<std::string> stdin_data;
  // Wall-clock bound from the start; past it the whole process group is killed.
  std::chrono::milliseconds timeout{30000};
  // More than this on stdout kills the process group (too_large): rendered manifests can be big.
  std::size_t max_stdout = std::size_t{256} << 20;
  // stderr is diagnostics: past this bound its oldest bytes are dropped (the tail is kept, where
  // tools put the reason they failed), never an error.
  std::size_t max_stderr = std::size_t{1} << 20;
  // false: stderr is not captured but goes to this process's stderr (credential helpers).
  bool capture_stderr = true;
};

struct Output {
  int exit_code = -1;      // the exit status, -1 when killed by a signal
  int signal = 0;          // the signal that killed it, 0 when it exited
  std::string stdout_data; // everything it printed on stdout
  std::string stderr_data; // the last Command::max_stderr bytes of stderr ("" if not captured)
  std::size_t stderr_dropped = 0; // bytes of stderr dropped from the front
  bool timed_out = false;         // always false in a returned Output: a timeout is an error

  bool success() const noexcept { return signal == 0 && exit_code == 0; }
  // "exited with status 3" / "killed by signal 9", for messages.
  std::string status_text() const;
};

class Runner {
public:
  virtual ~Runner() = default;

  // Runs the command to its end. A non-zero exit status or a death by signal is a normal Output
  // (callers decide what it means). Errors: invalid_input (empty argv, argv[0] not absolute, not
  // a regular executable file, cwd not a directory), not_found (argv[0] does not exist),
  // transient (still running after the timeout: its process group was killed), too_large (more
  // than max_stdout on stdout: killed too), internal (the system refused a pipe, poll or the
  // spawn). Messages name the program, never its output.
  virtual util::Result<Output> run(const Command& command) = 0;
};

// posix_spawn in a new process group, with default signal dispositions and an empty signal mask
// in the child. When the child exits, whatever it left running in its group is killed (a
// background grandchild holding the pipes open cannot block run()). stdin, stdout and stderr are
// pipes served by one poll loop, so no pipe can fill up and deadlock; a child that stops reading
// stdin early does not raise SIGPIPE here. Safe to call from several threads at once; touches no
// global state (SIGPIPE is blocked only in the calling thread, only while writing stdin).
class SystemRunner final : public Runner {
public:
  util::Result<Output> run(const Command& command) override;
};

// The absolute path of the executable `name`: a name with a '/' is a path (made absolute against
// the current directory) and must be an executable regular file; otherwise the first absolute
// directory of `path_var` (a PATH value, ':'-separated; empty and relative entries are skipped,
// unlike a shell, so a checkout cannot plant a tool) holding an executable regular file `name`.
// Fails with invalid_input (empty name) or not_found (naming the program and PATH).
util::Result<std::string> find_program(const std::string& name, const std::string& path_var);

// This process's environment as "NAME=value" entries, in its order (read only).
std::vector<std::string> current_environment();

} // namespace common::process
