// A token bucket per registry endpoint (registries.conf `limit`, requests per second). Every
// request the registry client makes, token requests and redirect hops included, takes one
// token first. Thread-safe: one RateLimiter may be shared by several Clients of one endpoint.
#pragma once

#include <chrono>
#include <mutex>

#include "common/util/clock.hpp"

namespace common::registry {

class RateLimiter {
public:
  // `rate` requests per second, bursts of up to `burst` (at least 1; default max(1, rate)).
  // rate <= 0 is unlimited: acquire() never waits. The clock must outlive the limiter.
  RateLimiter(double rate, util::Clock& clock, double burst = 0);

  // Takes one token, sleeping (on the clock) until one is available. Concurrent callers are
  // served in the order they reserved: a caller reserves under the lock, then sleeps outside it.
  void acquire();

  // How long acquire() would sleep now, without taking a token (for tests and logs).
  std::chrono::nanoseconds wait_estimate() const;

private:
  void refill_locked(std::chrono::steady_clock::time_point now) const;

  double m_rate;
  double m_burst;
  util::Clock& m_clock;
  mutable std::mutex m_mutex;
  mutable double m_tokens;
  mutable std::chrono::steady_clock::time_point m_last;
};

} // namespace common::registry
