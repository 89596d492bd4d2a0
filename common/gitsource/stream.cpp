#include "common/gitsource/stream.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netdb.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>

#include "common/util/deadline.hpp"
#include "common/util/watchdog.hpp"

namespace common::gitsource::detail {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto k_default = std::chrono::seconds(60);

// One watchdog for every git socket of the process: libgit2's stream registry is process-wide,
// so its streams are too. Never destroyed (a function-local static would be torn down while a
// detached libgit2 user might still hold a socket at exit).
util::Watchdog& watchdog() {
  static auto* w = new util::Watchdog();
  return *w;
}

// The layout of libgit2 1.5's git_socket_stream (src/libgit2/streams/socket.h): its ssh
// transport reaches the descriptor through it (GIT_CONTAINER_OF(io, git_socket_stream, parent)
// ->s) to hand it to libssh2. So this struct starts with exactly those members.
struct DeadlineStream {
  git_stream parent;
  char* host;
  char* port;
  int s;
  // Ours.
  Clock::time_point deadline;
  std::optional<util::Watchdog::Guard> guard;
};

DeadlineStream* self(git_stream* stream) {
  return reinterpret_cast<DeadlineStream*>(stream);
}

// Rounded up: a wait that ends before the deadline (by the truncated fraction of a millisecond)
// makes the failure look like the peer's, and over TLS libgit2 then reports "SSL error" where
// Session::failure would have said "timed out" (the deadline had not quite passed yet).
int ms_left(const DeadlineStream& st) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(st.deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

int timed_out(const char* what) {
  git_error_set_str(
      GIT_ERROR_NET,
      (std::string("timed out ") + what + " (the deadline of the git fetch passed)").c_str());
  return -1;
}

// Waits until `fd` is ready for `events` or the deadline passes: 1, 0 (timeout), -1 (error).
int wait_for(DeadlineStream& st, short events) {
  while (true) {
    pollfd p{st.s, events, 0};
    const int n = ::poll(&p, 1, ms_left(st));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return n;
  }
}

int stream_connect(git_stream* stream) {
  DeadlineStream& st = *self(stream);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(st.host, st.port, &hints, &found); rc != 0) {
    git_error_set_str(GIT_ERROR_NET, (std::string("failed to resolve address for ") + st.host +
                                      ": " + ::gai_strerror(rc))
                                         .c_str());
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    // Non-blocking only while connecting, so the connect has a deadline; libssh2 wants a
    // blocking descriptor afterwards (the watchdog bounds it).
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        st.s = fd;
        const int n = wait_for(st, POLLOUT);
        if (n == 0) {
          ::close(fd);
          st.s = -1;
          return timed_out("connecting");
        }
        socklen_t len = sizeof err;
        if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    if (err != 0) {
      last = std::strerror(err);
      ::close(fd);
      st.s = -1;
      continue;
    }
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    st.s = fd;
    st.guard.emplace(watchdog().arm(fd, st.deadline));
    return 0;
  }
  git_error_set_str(GIT_ERROR_NET,
                    (std::string("failed to connect to ") + st.host + ": " + last).c_str());
  return -1;
}

ssize_t stream_read(git_stream* stream, void* data, size_t len) {
  DeadlineStream& st = *self(stream);
  const int n = wait_for(st, POLLIN);
  if (n == 0 || (st.guard && st.guard->fired())) {
    return timed_out("reading");
  }
  const ssize_t got = ::recv(st.s, data, len, 0);
  if (got < 0) {
    if (st.guard && st.guard->fired()) {
      return timed_out("reading");
    }
    git_error_set_str(
        GIT_ERROR_NET,
        (std::string("error receiving data from socket: ") + std::strerror(errno)).c_str());
    return -1;
  }
  return got;
}

ssize_t stream_write(git_stream* stream, const char* data, size_t len, int flags) {
  DeadlineStream& st = *self(stream);
  const int n = wait_for(st, POLLOUT);
  if (n == 0 || (st.guard && st.guard->fired())) {
    return timed_out("writing");
  }
  const ssize_t put = ::send(st.s, data, len, flags | MSG_NOSIGNAL);
  if (put < 0) {
    git_error_set_str(
        GIT_ERROR_NET,
        (std::string("error sending data to socket: ") + std::strerror(errno)).c_str());
    return -1;
  }
  return put;
}

int stream_close(git_stream* stream) {
  DeadlineStream& st = *self(stream);
  st.guard.reset(); // before the descriptor can be reused
  if (st.s >= 0) {
    ::close(st.s);
    st.s = -1;
  }
  return 0;
}

void stream_free(git_stream* stream) {
  DeadlineStream* st = self(stream);
  stream_close(stream);
  std::free(st->host);
  std::free(st->port);
  delete st;
}

int stream_init(git_stream** out, const char* host, const char* port) {
  auto* st = new DeadlineStream{};
  st->parent.version = GIT_STREAM_VERSION;
  st->parent.connect = stream_connect;
  st->parent.read = stream_read;
  st->parent.write = stream_write;
  st->parent.close = stream_close;
  st->parent.free = stream_free;
  st->host = ::strdup(host);
  st->port = ::strdup(port);
  st->s = -1;
  st->deadline = util::thread_deadline().value_or(Clock::now() + k_default);
  *out = &st->parent;
  return 0;
}

} // namespace

void install_deadline_stream() {
  git_stream_registration registration{};
  registration.version = GIT_STREAM_VERSION;
  registration.init = stream_init;
  git_stream_register(GIT_STREAM_STANDARD, &registration);
}

} // namespace common::gitsource::detail
