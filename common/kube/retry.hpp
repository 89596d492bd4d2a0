// Retries and waits of the controller machinery: client-go's wait.Backoff and
// retry.RetryOnConflict, and the interruptible wait its threads sleep in.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <type_traits>

#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::kube {

// Delays of a retry loop: step n (0-based) waits duration * factor^n, at most `cap` (0 = no
// cap), plus a random part of up to `jitter` times that (client-go's wait.Jitter). `steps`
// bounds the attempts.
struct Backoff {
  std::chrono::nanoseconds duration{std::chrono::milliseconds(10)};
  double factor = 1.0;
  double jitter = 0.1;
  int steps = 5;
  std::chrono::nanoseconds cap{0};
};

// client-go's retry.DefaultRetry: 5 attempts, 10 ms apart, 10% jitter.
inline constexpr Backoff k_default_retry{std::chrono::milliseconds(10), 1.0, 0.1, 5, {}};

// The wait before retry `step`; `unit` in [0, 1) is the caller's random draw.
std::chrono::nanoseconds backoff_delay(const Backoff& backoff, int step, double unit);

namespace detail {
// Sleeps backoff_delay(backoff, step, random) on `clock` (null: the real time).
void retry_sleep(const Backoff& backoff, int step, util::Clock* clock);
} // namespace detail

// Calls fn (returning a util::Result<T>) until it succeeds, fails with a kind other than
// conflict, or backoff.steps attempts are made; answers the last result. Like client-go's
// retry.RetryOnConflict: fn must re-read the object each time (a conflict means its copy is
// stale). `clock` (null: real time) is what the waits between attempts sleep on.
template <class F>
std::invoke_result_t<F&> retry_on_conflict(F&& fn, const Backoff& backoff = k_default_retry,
                                           util::Clock* clock = nullptr) {
  for (int step = 0;; ++step) {
    auto result = fn();
    if (result.has_value() || result.error().kind != util::ErrorKind::conflict ||
        step + 1 >= backoff.steps) {
      return result;
    }
    detail::retry_sleep(backoff, step, clock);
  }
}

// A stop flag the machinery's threads wait on. wait_for sleeps d * scale of real time (tests
// pass a scale below 1 to make every wait short; what the waits mean is measured on the
// caller's Clock, not here) and returns false as soon as stop() is called. Thread-safe.
class StopSignal {
public:
  explicit StopSignal(double scale = 1.0) : m_scale(scale) {}
  bool wait_for(std::chrono::nanoseconds d);
  void stop();
  void reset();
  bool stopped() const;

private:
  double m_scale;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stopped = false;
};

} // namespace common::kube
