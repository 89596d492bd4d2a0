// The deadline of the work running on this thread (one reconcile's registry work, one git
// fetch), for code too deep to be handed one: the registry client's retries and libgit2's
// sockets read it. Thread-local by design: the work that sets it runs its calls on the thread
// that set it (the resolver sets it again on each of its own worker threads).
#pragma once

#include <chrono>
#include <optional>

namespace common::util {

using SteadyTime = std::chrono::steady_clock::time_point;

// The innermost ThreadDeadline of this thread, nullopt outside any.
std::optional<SteadyTime> thread_deadline() noexcept;

// Sets this thread's deadline for its lifetime (the earlier of `deadline` and an enclosing one;
// nullopt keeps the enclosing one), restoring the previous one after.
class ThreadDeadline {
public:
  explicit ThreadDeadline(std::optional<SteadyTime> deadline) noexcept;
  ~ThreadDeadline();
  ThreadDeadline(const ThreadDeadline&) = delete;
  ThreadDeadline& operator=(const ThreadDeadline&) = delete;

private:
  std::optional<SteadyTime> m_previous;
};

} // namespace common::util
