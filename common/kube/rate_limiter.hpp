// A token bucket for requests to the API server, as client-go's flowcontrol limiter: `burst`
// requests at once, then `qps` per second. Callers wait for their turn (a reservation: the
// bucket may go negative, and each caller sleeps until its own token is due), so waits are
// first come, first served. Thread-safe; time comes from a util::Clock.
#pragma once

#include <chrono>
#include <mutex>

#include "common/util/clock.hpp"

namespace common::kube {

class RateLimiter {
public:
  // qps <= 0: no limit. burst < 1 counts as 1. The clock must outlive the limiter.
  RateLimiter(double qps, int burst, util::Clock& clock);

  // Takes one token and returns how long the caller must wait before using it (0 when one was
  // available).
  std::chrono::nanoseconds reserve();
  // reserve(), then sleeps that long on the clock.
  void wait();

private:
  double m_qps;
  double m_burst;
  util::Clock& m_clock;
  std::mutex m_mutex;
  double m_tokens;
  std::chrono::steady_clock::time_point m_last;
};

} // namespace common::kube
