#include "common/util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace common::util {

void parallel_for(std::size_t n, std::size_t jobs, const std::function<void(std::size_t)>& fn) {
  const std::size_t threads = std::min(n, std::max<std::size_t>(jobs, 1));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) {
      fn(i);
    }
    return;
  }
  // A shared counter rather than fixed slices: items differ wildly in cost (a cached tag list
  // versus a registry timing out), so idle threads take the next item.
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  const auto work = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) {
        return;
      }
      try {
        fn(i);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!error) {
          error = std::current_exception();
        }
        stop = true;
      }
    }
  };
  std::vector<std::jthread> pool;
  pool.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) {
    pool.emplace_back(work);
  }
  work();
  pool.clear(); // joins
  if (error) {
    std::rethrow_exception(error);
  }
}

} // namespace common::util
