#include "common/kube/rate_limiter.hpp"

#include <algorithm>

namespace common::kube {

RateLimiter::RateLimiter(double qps, int burst, util::Clock& clock)
    : m_qps(qps), m_burst(static_cast<double>(std::max(burst, 1))), m_clock(clock),
      m_tokens(m_burst), m_last(clock.steady_now()) {}

std::chrono::nanoseconds RateLimiter::reserve() {
  if (m_qps <= 0) {
    return std::chrono::nanoseconds::zero();
  }
  const std::lock_guard lock(m_mutex);
  const auto now = m_clock.steady_now();
  const std::chrono::duration<double> elapsed = now - m_last;
  m_last = now;
  m_tokens = std::min(m_burst, m_tokens + elapsed.count() * m_qps);
  m_tokens -= 1;
  if (m_tokens >= 0) {
    return std::chrono::nanoseconds::zero();
  }
  // The bucket owes -m_tokens tokens: this caller's one is due when they have been refilled.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(-m_tokens / m_qps));
}

void RateLimiter::wait() {
  const auto delay = reserve();
  if (delay > std::chrono::nanoseconds::zero()) {
    m_clock.sleep_for(delay);
  }
}

} // namespace common::kube
