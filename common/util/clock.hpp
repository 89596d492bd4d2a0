// Time as a side effect behind a narrow interface: code that waits, expires or timestamps takes
// a Clock&, tests pass a FakeClock that advances only when told (or when asked to sleep).
#pragma once

#include <chrono>
#include <thread>

namespace common::util {

class Clock {
public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps and expiry that must survive a process (cache files).
  virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time, for rate limits, timeouts and backoff inside one process.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  virtual void sleep_for(std::chrono::nanoseconds d) = 0;
};

class SystemClock final : public Clock {
public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  void sleep_for(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
};

// Deterministic clock for tests: sleeping advances both clocks instantly.
class FakeClock final : public Clock {
public:
  std::chrono::system_clock::time_point now() const override { return m_wall; }
  std::chrono::steady_clock::time_point steady_now() const override { return m_steady; }
  void sleep_for(std::chrono::nanoseconds d) override { advance(d); }
  void advance(std::chrono::nanoseconds d) {
    m_wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    m_steady += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
  }
  void set_wall(std::chrono::system_clock::time_point t) { m_wall = t; }

private:
  std::chrono::system_clock::time_point m_wall{std::chrono::seconds(1'700'000'000)};
  std::chrono::steady_clock::time_point m_steady{};
};

} // namespace common::util
