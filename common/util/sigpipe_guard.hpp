// Blocks SIGPIPE in the calling thread for a scope (the http client's sockets, the process
// runner's stdin pipe).
#pragma once

#include <csignal>

namespace common::util {

// Writing to a socket the peer has closed raises SIGPIPE, whose default action kills the
// process, and neither Poco (send() without MSG_NOSIGNAL on Linux) nor OpenSSL's socket BIO
// avoid it. Changing the process's disposition would be global state, so, as libpq does, this
// blocks SIGPIPE in the calling thread for the scope and discards one raised meanwhile (the
// failed write reports EPIPE anyway). A SIGPIPE already pending before is left alone.
class SigpipeGuard {
public:
  // `active` false: does nothing (for callers that need the guard only sometimes).
  explicit SigpipeGuard(bool active = true);
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

private:
  sigset_t m_old{};
  bool m_active = false;
  bool m_was_pending = false;
};

} // namespace common::util
