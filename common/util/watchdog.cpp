#include "common/util/watchdog.hpp"

#include <sys/socket.h>
#include <utility>

namespace common::util {

Watchdog::~Watchdog() {
  {
    const std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

Watchdog::Guard Watchdog::arm(int fd, Clock::time_point deadline) {
  std::uint64_t id = 0;
  {
    const std::lock_guard lock(m_mutex);
    id = m_next++;
    m_entries.emplace(id, Entry{fd, deadline, false});
    if (!m_thread.joinable()) {
      m_thread = std::thread([this] { run(); });
    }
  }
  m_wake.notify_all();
  return Guard(this, id);
}

void Watchdog::disarm(std::uint64_t id) {
  const std::lock_guard lock(m_mutex);
  m_entries.erase(id);
}

bool Watchdog::fired(std::uint64_t id) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(id);
  return it != m_entries.end() && it->second.fired;
}

void Watchdog::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stop) {
    auto next = Clock::time_point::max();
    const auto now = Clock::now();
    for (auto& [id, e] : m_entries) {
      if (e.fired) {
        continue;
      }
      if (e.deadline <= now) {
        // Under the lock: the guard (and so the socket) cannot go away meanwhile.
        ::shutdown(e.fd, SHUT_RDWR);
        e.fired = true;
      } else if (e.deadline < next) {
        next = e.deadline;
      }
    }
    if (next == Clock::time_point::max()) {
      m_wake.wait(lock);
    } else {
      m_wake.wait_until(lock, next);
    }
  }
}

Watchdog::Guard::Guard(Guard&& other) noexcept
    : m_owner(std::exchange(other.m_owner, nullptr)), m_id(other.m_id) {}

Watchdog::Guard::~Guard() {
  if (m_owner != nullptr) {
    m_owner->disarm(m_id);
  }
}

bool Watchdog::Guard::fired() const {
  return m_owner != nullptr && m_owner->fired(m_id);
}

} // namespace common::util
