// Internal to common/process: RAII for the C handles of posix_spawn, and the spawn itself.
#pragma once

#include <sys/types.h>
#include <utility>

#include "common/process/runner.hpp"

namespace common::process::detail {

class Fd {
public:
  explicit Fd(int fd = -1) noexcept : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return m_fd; }
  void reset() noexcept;

private:
  int m_fd;
};

// A close-on-exec pipe; both ends closed until open() succeeds.
struct Pipe {
  Fd read;
  Fd write;
  bool open();
};

// A started child, the leader of its own process group. Destroying it before kill_and_reap()
// kills the group and reaps the child, so no early return leaks a process.
class Spawned {
public:
  Spawned() = default;
  ~Spawned();
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;
  void adopt(pid_t pid) noexcept { m_pid = pid; }
  // Whether the child has exited, without reaping it: while it is an unreaped zombie its pid,
  // and so its process group id, cannot be reused, so killing the group stays safe.
  bool has_exited() const;
  // Kills whatever is left in the process group, reaps the child and returns its wait status.
  int kill_and_reap();

private:
  pid_t m_pid = -1;
};

// Starts command.argv (checked by the caller) with stdin from in.read (or /dev/null when that is
// closed), stdout into out.write, stderr into err.write (or inherited when that is closed); the
// child's ends are closed here once it runs. Fails with not_found or internal naming the program.
util::Result<void> spawn(const Command& command, Pipe& in, Pipe& out, Pipe& err, Spawned& child);

} // namespace common::process::detail
