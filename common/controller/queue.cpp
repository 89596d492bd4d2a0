#include "common/controller/queue.hpp"

namespace common::controller {

void WorkQueue::add(const store::Key& key) {
  {
    const std::lock_guard lock(m_mutex);
    if (m_shut_down || m_dirty.contains(key)) {
      return;
    }
    m_dirty.insert(key);
    if (m_processing.contains(key)) {
      return; // done() queues it again
    }
    m_queue.push_back(key);
  }
  m_ready.notify_one();
}

void WorkQueue::add_after(const store::Key& key, std::chrono::nanoseconds delay) {
  if (delay.count() <= 0) {
    add(key);
    return;
  }
  const auto due = Clock::now() + std::chrono::duration_cast<Clock::duration>(delay);
  {
    const std::lock_guard lock(m_mutex);
    if (m_shut_down) {
      return;
    }
    if (auto it = m_due.find(key); it != m_due.end()) {
      if (it->second <= due) {
        return; // an earlier check is already planned
      }
      for (auto [first, last] = m_timers.equal_range(it->second); first != last; ++first) {
        if (first->second == key) {
          m_timers.erase(first);
          break;
        }
      }
      it->second = due;
    } else {
      m_due.emplace(key, due);
    }
    m_timers.emplace(due, key);
  }
  m_ready.notify_all(); // a sleeping get() may need to wake earlier
}

void WorkQueue::promote_due(Clock::time_point now) {
  while (!m_timers.empty() && m_timers.begin()->first <= now) {
    const store::Key key = m_timers.begin()->second;
    m_timers.erase(m_timers.begin());
    m_due.erase(key);
    if (m_dirty.insert(key).second && !m_processing.contains(key)) {
      m_queue.push_back(key);
    }
  }
}

std::optional<store::Key> WorkQueue::get() {
  std::unique_lock lock(m_mutex);
  while (true) {
    if (m_shut_down) {
      return std::nullopt;
    }
    promote_due(Clock::now());
    if (!m_queue.empty()) {
      store::Key key = std::move(m_queue.front());
      m_queue.pop_front();
      m_dirty.erase(key);
      m_processing.insert(key);
      return key;
    }
    if (m_timers.empty()) {
      m_ready.wait(lock);
    } else {
      // A copy: the timer's node may be erased by another thread while this one waits.
      const Clock::time_point due = m_timers.begin()->first;
      m_ready.wait_until(lock, due);
    }
  }
}

void WorkQueue::done(const store::Key& key) {
  bool again = false;
  {
    const std::lock_guard lock(m_mutex);
    m_processing.erase(key);
    if (m_dirty.contains(key) && !m_shut_down) {
      m_queue.push_back(key);
      again = true;
    }
  }
  if (again) {
    m_ready.notify_one();
  }
}

void WorkQueue::shut_down() {
  {
    const std::lock_guard lock(m_mutex);
    m_shut_down = true;
  }
  m_ready.notify_all();
}

std::size_t WorkQueue::queued() const {
  const std::lock_guard lock(m_mutex);
  return m_queue.size();
}

std::size_t WorkQueue::delayed() const {
  const std::lock_guard lock(m_mutex);
  return m_timers.size();
}

} // namespace common::controller
