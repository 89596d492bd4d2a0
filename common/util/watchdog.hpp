// A deadline for socket exchanges that holds whatever the peer does. Socket timeouts are per
// read, so a peer that sends a byte a second never trips them, and libraries that own their
// sockets (libgit2, libssh2) may set none; the watchdog shuts the socket down at the deadline
// instead, which makes a blocked read or write fail at once. One thread per watchdog, started
// on the first arm(), sleeping until the nearest deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace common::util {

class Watchdog {
public:
  using Clock = std::chrono::steady_clock;
  Watchdog() = default;
  ~Watchdog(); // stops the thread; armed sockets are left alone
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // While the returned guard lives, socket `fd` is shut down (both directions) once `deadline`
  // passes. The guard must be destroyed before the socket is closed; its fired() says whether
  // the deadline struck.
  class Guard {
  public:
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&&) = delete;
    ~Guard();
    bool fired() const;

  private:
    friend class Watchdog;
    Guard(Watchdog* owner, std::uint64_t id) : m_owner(owner), m_id(id) {}
    Watchdog* m_owner;
    std::uint64_t m_id;
  };
  Guard arm(int fd, Clock::time_point deadline);

private:
  struct Entry {
    int fd = -1;
    Clock::time_point deadline;
    bool fired = false;
  };
  void run();
  void disarm(std::uint64_t id);
  bool fired(std::uint64_t id) const;

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::map<std::uint64_t, Entry> m_entries;
  std::uint64_t m_next = 1;
  bool m_stop = false;
  std::thread m_thread; // started by the first arm()
};

} // namespace common::util
