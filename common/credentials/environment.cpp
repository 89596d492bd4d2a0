#include "common/credentials/environment.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "common/util/file.hpp"

extern char** environ; // NOLINT: POSIX, for posix_spawn

namespace common::credentials {

namespace {

using util::ErrorKind;
using Steady = std::chrono::steady_clock;

class Fd {
public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }

private:
  int m_fd;
};

class SpawnActions {
public:
  SpawnActions() { m_ok = ::posix_spawn_file_actions_init(&m_actions) == 0; }
  ~SpawnActions() {
    if (m_ok) {
      ::posix_spawn_file_actions_destroy(&m_actions);
    }
  }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  bool ok() const { return m_ok; }
  posix_spawn_file_actions_t* get() { return &m_actions; }

private:
  posix_spawn_file_actions_t m_actions{};
  bool m_ok = false;
};

class SpawnAttr {
public:
  SpawnAttr() { m_ok = ::posix_spawnattr_init(&m_attr) == 0; }
  ~SpawnAttr() {
    if (m_ok) {
      ::posix_spawnattr_destroy(&m_attr);
    }
  }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  bool ok() const { return m_ok; }
  posix_spawnattr_t* get() { return &m_attr; }

private:
  posix_spawnattr_t m_attr{};
  bool m_ok = false;
};

std::string reason(int err) {
  return std::strerror(err);
}

// Whether the child has exited, without reaping it: while it is an unreaped zombie its pid, and
// so its process group id, cannot be reused, so killing the group stays safe.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  int r = 0;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (r < 0 && errno == EINTR);
  return r == 0 && info.si_pid == pid;
}

// Kills whatever is left in the child's process group, then reaps the child.
int kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

} // namespace

util::Result<std::string> SystemEnvironment::read_file(const std::string& path,
                                                       std::size_t max_bytes) {
  return util::read_file(path, max_bytes);
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
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    return util::fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::invalid_input,
                      what + ": " + reason(err));
  }
  if (!S_ISREG(st.st_mode)) {
    return util::fail(ErrorKind::invalid_input, what + ": not a regular file");
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return util::fail(ErrorKind::invalid_input, what + ": not executable: " + reason(errno));
  }

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return util::fail(ErrorKind::internal, what + ": pipe: " + reason(errno));
  }
  Fd out_read(pipe_fds[0]);
  Fd out_write(pipe_fds[1]);

  SpawnActions actions;
  SpawnAttr attr;
  if (!actions.ok() || !attr.ok()) {
    return util::fail(ErrorKind::internal, what + ": cannot set up posix_spawn");
  }
  // stdin from /dev/null, stdout into our pipe (dup2 clears close-on-exec), stderr inherited.
  ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), STDOUT_FILENO);
  // Its own process group, so a timeout kills what it started too; default signal handling
  // and an empty mask, whatever this process has.
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  ::posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                             POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(attr.get(), 0);
  ::posix_spawnattr_setsigmask(attr.get(), &no_signals);
  ::posix_spawnattr_setsigdefault(attr.get(), &defaults);

  std::string arg0 = path;
  std::array<char*, 2> argv{arg0.data(), nullptr};
  pid_t pid = -1;
  int err = ::posix_spawn(&pid, path.c_str(), actions.get(), attr.get(), argv.data(), environ);
  if (err != 0) {
    std::string why = reason(err);
    if (err == ENOEXEC) {
      why += " (no #! line?)";
    }
    return util::fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::internal,
                      what + ": cannot run: " + why);
  }
  out_write.reset();

  const auto deadline = Steady::now() + limits.timeout;
  std::string output;
  std::array<char, 4096> buffer{};
  bool eof = false;
  for (;;) {
    const bool exited = has_exited(pid);
    if (exited && !eof) {
      // Drain what it wrote before exiting; a background child may still hold the pipe open,
      // so do not wait for end-of-file.
      ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
    }
    if (!eof) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
      pollfd p{out_read.get(), POLLIN, 0};
      int wait_ms = exited ? 0 : static_cast<int>(std::clamp<long long>(left.count(), 0, 20));
      int r = ::poll(&p, 1, wait_ms);
      if (r < 0 && errno != EINTR) {
        kill_and_reap(pid);
        return util::fail(ErrorKind::internal, what + ": poll: " + reason(errno));
      }
      if (r > 0) {
        ssize_t n = ::read(out_read.get(), buffer.data(), buffer.size());
        if (n > 0) {
          output.append(buffer.data(), static_cast<std::size_t>(n));
          if (output.size() > limits.max_output) {
            kill_and_reap(pid);
            return util::fail(ErrorKind::too_large, what + ": printed more than " +
                                                        std::to_string(limits.max_output) +
                                                        " bytes on stdout; killed");
          }
          continue; // read more before deciding anything
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          eof = true;
        } else if (exited) {
          eof = true; // EAGAIN after exit: drained
        }
      } else if (r == 0 && exited) {
        eof = true; // nothing left to drain
      }
    }
    if (eof && exited) {
      break;
    }
    if (Steady::now() >= deadline) {
      kill_and_reap(pid);
      return util::fail(ErrorKind::transient, what + ": still running after " +
                                                  std::to_string(limits.timeout.count()) +
                                                  " ms; killed its process group");
    }
    if (eof) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2)); // stdout closed, not exited
    }
  }

  int status = kill_and_reap(pid);
  if (WIFSIGNALED(status)) {
    return util::fail(ErrorKind::auth,
                      what + ": killed by signal " + std::to_string(WTERMSIG(status)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return util::fail(ErrorKind::auth,
                      what + ": exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  return output;
}

} // namespace common::credentials
