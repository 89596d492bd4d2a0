#include "common/util/sigpipe_guard.hpp"

#include <ctime>
#include <pthread.h>

namespace common::util {

SigpipeGuard::SigpipeGuard(bool active) {
  if (!active) {
    return;
  }
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  if (pthread_sigmask(SIG_BLOCK, &block, &m_old) != 0) {
    return;
  }
  m_active = true;
  sigset_t pending;
  sigemptyset(&pending);
  m_was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

SigpipeGuard::~SigpipeGuard() {
  if (!m_active) {
    return;
  }
  sigset_t pending;
  sigemptyset(&pending);
  if (!m_was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, SIGPIPE);
    const timespec zero{};
    sigtimedwait(&only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
}

} // namespace common::util
