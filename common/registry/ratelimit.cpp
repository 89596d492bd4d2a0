#include "common/registry/ratelimit.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>

namespace common::registry {
namespace {

std::chrono::nanoseconds seconds_to_ns(double seconds) {
  return std::chrono::nanoseconds(static_cast<long long>(seconds * 1e9 + 0.5));
}

} // namespace

RateLimiter::RateLimiter(double rate, util::Clock& clock, double burst)
    : m_rate(rate), m_burst(burst > 0 ? std::max(1.0, burst) : std::max(1.0, rate)), m_clock(clock),
      m_tokens(m_burst), m_last(clock.steady_now()) {}

void RateLimiter::refill_locked(std::chrono::steady_clock::time_point now) const {
  if (now > m_last) {
    const double elapsed = std::chrono::duration<double>(now - m_last).count();
    m_tokens = std::min(m_burst, m_tokens + elapsed * m_rate);
    m_last = now;
  }
}

void RateLimiter::acquire() {
  if (m_rate <= 0) {
    return;
  }
  std::chrono::nanoseconds wait{0};
  {
    std::lock_guard lock(m_mutex);
    refill_locked(m_clock.steady_now());
    // Tokens may go negative: each waiting caller holds a reservation, so N callers waiting
    // together are spaced 1/rate apart instead of all waking at once.
    m_tokens -= 1;
    if (m_tokens < 0) {
      wait = seconds_to_ns(-m_tokens / m_rate);
    }
  }
  if (wait.count() > 0) {
    m_clock.sleep_for(wait);
  }
}

std::chrono::nanoseconds RateLimiter::wait_estimate() const {
  if (m_rate <= 0) {
    return std::chrono::nanoseconds{0};
  }
  std::lock_guard lock(m_mutex);
  refill_locked(m_clock.steady_now());
  const double missing = 1 - m_tokens;
  return missing > 0 ? seconds_to_ns(missing / m_rate) : std::chrono::nanoseconds{0};
}

} // namespace common::registry
