#include "common/process/runner.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "common/process/spawn.hpp"
#include "common/util/sigpipe_guard.hpp"
#include "common/util/try.hpp"

namespace common::process {

namespace {

using util::ErrorKind;
using Steady = std::chrono::steady_clock;

std::string reason(int err) {
  return std::strerror(err);
}

// One output pipe and what it collected under its bound.
struct Sink {
  detail::Fd fd;
  std::string data;
  std::size_t max = 0;
  bool keep_tail = false; // stderr: drop the oldest bytes instead of failing
  std::size_t dropped = 0;
  bool over = false; // stdout past its bound
};

enum class ReadState { data, empty, closed };

// Appends what one read() returns, under the sink's bound. `closed` at end of file (or on a read
// error, which ends the stream the same way), `empty` when a non-blocking pipe has nothing now.
// One read per poll round keeps every pipe served.
ReadState read_some(Sink& sink) {
  std::array<char, 65536> buffer{};
  ssize_t n = 0;
  do {
    n = ::read(sink.fd.get(), buffer.data(), buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) {
    return ReadState::empty;
  }
  if (n <= 0) {
    return ReadState::closed;
  }
  sink.data.append(buffer.data(), static_cast<std::size_t>(n));
  if (sink.data.size() > sink.max) {
    if (!sink.keep_tail) {
      sink.over = true;
    } else if (sink.data.size() >= 2 * sink.max + 1) {
      // Amortised: trim only when the buffer holds twice the bound.
      const std::size_t cut = sink.data.size() - sink.max;
      sink.data.erase(0, cut);
      sink.dropped += cut;
    }
  }
  return ReadState::data;
}

void finish_sink(Sink& sink) {
  if (sink.keep_tail && sink.data.size() > sink.max) {
    const std::size_t cut = sink.data.size() - sink.max;
    sink.data.erase(0, cut);
    sink.dropped += cut;
  }
}

// Reads until the pipe is empty (the child has exited; a background descendant may still hold
// the write end open, so end of file may never come).
void drain(Sink& sink) {
  if (sink.fd.get() < 0) {
    return;
  }
  ::fcntl(sink.fd.get(), F_SETFL, O_NONBLOCK);
  while (!sink.over && read_some(sink) == ReadState::data) {
  }
  sink.fd.reset();
}

util::Result<void> check_program(const Command& command, const std::string& what) {
  if (command.argv.empty() || command.argv.front().empty()) {
    return util::fail(ErrorKind::invalid_input, "run: no program given");
  }
  const std::string& path = command.argv.front();
  if (path.front() != '/') {
    return util::fail(ErrorKind::invalid_input, what + ": the path must be absolute");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return util::fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::invalid_input,
                      what + ": " + reason(err));
  }
  if (!S_ISREG(st.st_mode)) {
    return util::fail(ErrorKind::invalid_input, what + ": not a regular file");
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return util::fail(ErrorKind::invalid_input, what + ": not executable: " + reason(errno));
  }
  if (!command.cwd.empty()) {
    if (::stat(command.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return util::fail(ErrorKind::invalid_input,
                        what + ": working directory " + command.cwd + " is not a directory");
    }
  }
  return {};
}

} // namespace

std::string Output::status_text() const {
  if (signal != 0) {
    return "killed by signal " + std::to_string(signal);
  }
  return "exited with status " + std::to_string(exit_code);
}

util::Result<Output> SystemRunner::run(const Command& command) {
  const std::string what = command.argv.empty() ? std::string("run") : command.argv.front();
  IU_TRY(check_program(command, what));

  detail::Pipe out;
  detail::Pipe err;
  detail::Pipe in;
  if (!out.open() || (command.capture_stderr && !err.open()) ||
      (command.stdin_data && !in.open())) {
    return util::fail(ErrorKind::internal, what + ": pipe: " + reason(errno));
  }
  detail::Spawned child;
  IU_TRY(detail::spawn(command, in, out, err, child));

  Sink out_sink{std::move(out.read), {}, command.max_stdout, false, 0, false};
  Sink err_sink{std::move(err.read), {}, command.max_stderr, true, 0, false};
  detail::Fd stdin_fd = std::move(in.write);
  std::size_t stdin_done = 0;
  if (stdin_fd.get() >= 0) {
    ::fcntl(stdin_fd.get(), F_SETFL, O_NONBLOCK);
    if (command.stdin_data->empty()) {
      stdin_fd.reset();
    }
  }
  const util::SigpipeGuard no_sigpipe(stdin_fd.get() >= 0);

  const auto deadline = Steady::now() + command.timeout;
  for (;;) {
    if (child.has_exited()) {
      stdin_fd.reset();
      drain(out_sink);
      drain(err_sink);
      break;
    }
    std::array<pollfd, 3> fds{};
    std::array<Sink*, 3> sinks{};
    nfds_t count = 0;
    for (Sink* sink : {&out_sink, &err_sink}) {
      if (sink->fd.get() >= 0) {
        sinks[count] = sink;
        fds[count++] = pollfd{sink->fd.get(), POLLIN, 0};
      }
    }
    const nfds_t stdin_index = count;
    if (stdin_fd.get() >= 0) {
      fds[count++] = pollfd{stdin_fd.get(), POLLOUT, 0};
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    // Short waits: the child's exit is noticed by has_exited(), not by end of file.
    const int wait_ms = static_cast<int>(std::clamp<long long>(left.count(), 0, 20));
    int r = 0;
    if (count == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2)); // pipes closed, not exited
    } else {
      r = ::poll(fds.data(), count, wait_ms);
    }
    if (r < 0 && errno != EINTR) {
      const int e = errno;
      child.kill_and_reap();
      return util::fail(ErrorKind::internal, what + ": poll: " + reason(e));
    }
    for (nfds_t i = 0; r > 0 && i < stdin_index; ++i) {
      if (fds[i].revents != 0 && read_some(*sinks[i]) == ReadState::closed) {
        sinks[i]->fd.reset();
      }
    }
    if (out_sink.over) {
      child.kill_and_reap();
      return util::fail(ErrorKind::too_large, what + ": printed more than " +
                                                  std::to_string(command.max_stdout) +
                                                  " bytes on stdout; killed");
    }
    if (r > 0 && stdin_index < count && fds[stdin_index].revents != 0) {
      const std::string& data = *command.stdin_data;
      const ssize_t n = ::write(stdin_fd.get(), data.data() + stdin_done, data.size() - stdin_done);
      if (n > 0) {
        stdin_done += static_cast<std::size_t>(n);
      }
      // EPIPE: the child stopped reading, which is its business.
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || stdin_done == data.size()) {
        stdin_fd.reset();
      }
    }
    if (Steady::now() >= deadline) {
      child.kill_and_reap();
      return util::fail(ErrorKind::transient, what + ": still running after " +
                                                  std::to_string(command.timeout.count()) +
                                                  " ms; killed its process group");
    }
  }
  const int status = child.kill_and_reap();
  if (out_sink.over) {
    return util::fail(ErrorKind::too_large, what + ": printed more than " +
                                                std::to_string(command.max_stdout) +
                                                " bytes on stdout; killed");
  }
  finish_sink(err_sink);
  Output output;
  if (WIFSIGNALED(status)) {
    output.signal = WTERMSIG(status);
  } else {
    output.exit_code = WEXITSTATUS(status);
  }
  output.stdout_data = std::move(out_sink.data);
  output.stderr_data = std::move(err_sink.data);
  output.stderr_dropped = err_sink.dropped;
  return output;
}

} // namespace common::process
