// A work queue of object keys, as Kubernetes controllers use one (client-go's workqueue): a key
// waits in the queue at most once however often it is added; a key being processed is never
// handed to a second worker, and an add while it is processed brings it back once it is done.
// Delayed adds (periodic checks, backoff) wait in a timer set and join the queue when due; an
// earlier due time replaces a later one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "common/store/store.hpp"

namespace common::controller {

class WorkQueue {
public:
  using Clock = std::chrono::steady_clock;

  void add(const store::Key& key);
  void add_after(const store::Key& key, std::chrono::nanoseconds delay);
  // Blocks until a key is ready (then it is "processing" until done()) or the queue is shut
  // down (nullopt).
  std::optional<store::Key> get();
  void done(const store::Key& key);
  // Wakes every get() with nullopt; later adds are ignored.
  void shut_down();

  std::size_t queued() const;  // ready keys waiting for a worker
  std::size_t delayed() const; // keys waiting for their due time

private:
  void promote_due(Clock::time_point now); // moves due timers to the queue; lock held

  mutable std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<store::Key> m_queue;
  std::set<store::Key> m_dirty;                          // queued, or added again while processing
  std::set<store::Key> m_processing;                     // handed out, not done yet
  std::map<store::Key, Clock::time_point> m_due;         // delayed adds by key
  std::multimap<Clock::time_point, store::Key> m_timers; // the same, by due time
  bool m_shut_down = false;
};

} // namespace common::controller
