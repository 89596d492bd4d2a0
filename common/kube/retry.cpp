#include "common/kube/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

namespace common::kube {

std::chrono::nanoseconds backoff_delay(const Backoff& backoff, int step, double unit) {
  double base = static_cast<double>(backoff.duration.count()) *
                std::pow(backoff.factor, static_cast<double>(std::max(step, 0)));
  if (backoff.cap.count() > 0) {
    base = std::min(base, static_cast<double>(backoff.cap.count()));
  }
  // Bounded well below the range of int64 nanoseconds (about 292 years) whatever the factor.
  base = std::min(base, 1e18);
  double jittered = base + base * std::max(backoff.jitter, 0.0) * std::clamp(unit, 0.0, 1.0);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(jittered, 2e18)));
}

namespace detail {

void retry_sleep(const Backoff& backoff, int step, util::Clock* clock) {
  // A fresh engine per wait: retries are rare, and no generator is shared between threads.
  std::minstd_rand engine(std::random_device{}());
  double unit = std::uniform_real_distribution<double>(0.0, 1.0)(engine);
  auto d = backoff_delay(backoff, step, unit);
  if (clock != nullptr) {
    clock->sleep_for(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

} // namespace detail

bool StopSignal::wait_for(std::chrono::nanoseconds d) {
  auto scaled =
      std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * m_scale));
  std::unique_lock lock(m_mutex);
  return !m_cv.wait_for(lock, scaled, [this] { return m_stopped; });
}

void StopSignal::stop() {
  std::lock_guard lock(m_mutex);
  m_stopped = true;
  m_cv.notify_all();
}

void StopSignal::reset() {
  std::lock_guard lock(m_mutex);
  m_stopped = false;
}

bool StopSignal::stopped() const {
  std::lock_guard lock(m_mutex);
  return m_stopped;
}

} // namespace common::kube
