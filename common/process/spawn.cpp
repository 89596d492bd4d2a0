#include "common/process/spawn.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace common::process::detail {

namespace {

using util::ErrorKind;

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

// argv/envp arrays of char* pointing into strings that outlive the spawn.
std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

} // namespace

void Fd::reset() noexcept {
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
}

bool Pipe::open() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  read = Fd(fds[0]);
  write = Fd(fds[1]);
  return true;
}

Spawned::~Spawned() {
  if (m_pid > 0) {
    kill_and_reap();
  }
}

bool Spawned::has_exited() const {
  siginfo_t info{};
  int r = 0;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (r < 0 && errno == EINTR);
  return r == 0 && info.si_pid == m_pid;
}

int Spawned::kill_and_reap() {
  ::kill(-m_pid, SIGKILL);
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
  }
  m_pid = -1;
  return status;
}

util::Result<void> spawn(const Command& command, Pipe& in, Pipe& out, Pipe& err, Spawned& child) {
  const std::string& path = command.argv.front();
  SpawnActions actions;
  SpawnAttr attr;
  if (!actions.ok() || !attr.ok()) {
    return util::fail(ErrorKind::internal, path + ": cannot set up posix_spawn");
  }
  // dup2 clears close-on-exec on the target, so only the three standard streams are inherited
  // from our pipes; every other descriptor of ours is close-on-exec or not ours to manage.
  if (in.read.get() >= 0) {
    ::posix_spawn_file_actions_adddup2(actions.get(), in.read.get(), STDIN_FILENO);
  } else {
    ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  ::posix_spawn_file_actions_adddup2(actions.get(), out.write.get(), STDOUT_FILENO);
  if (err.write.get() >= 0) {
    ::posix_spawn_file_actions_adddup2(actions.get(), err.write.get(), STDERR_FILENO);
  }
  if (!command.cwd.empty()) {
    ::posix_spawn_file_actions_addchdir_np(actions.get(), command.cwd.c_str());
  }
  // Its own process group, so a timeout kills what it started too; default signal handling and
  // an empty mask, whatever this process (or thread) has.
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

  std::vector<std::string> args = command.argv;
  std::vector<std::string> env = command.env;
  std::vector<char*> argv = c_array(args);
  std::vector<char*> envp = c_array(env);
  pid_t pid = -1;
  const int e =
      ::posix_spawn(&pid, path.c_str(), actions.get(), attr.get(), argv.data(), envp.data());
  if (e != 0) {
    std::string why = std::strerror(e);
    if (e == ENOEXEC) {
      why += " (no #! line?)";
    }
    return util::fail(e == ENOENT ? ErrorKind::not_found : ErrorKind::internal,
                      path + ": cannot run: " + why);
  }
  child.adopt(pid);
  in.read.reset();
  out.write.reset();
  err.write.reset();
  return {};
}

} // namespace common::process::detail
