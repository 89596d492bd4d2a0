#include "common/util/deadline.hpp"

namespace common::util {

namespace {
thread_local std::optional<SteadyTime> t_deadline;
} // namespace

std::optional<SteadyTime> thread_deadline() noexcept {
  return t_deadline;
}

ThreadDeadline::ThreadDeadline(std::optional<SteadyTime> deadline) noexcept
    : m_previous(t_deadline) {
  if (deadline && (!t_deadline || *deadline < *t_deadline)) {
    t_deadline = deadline;
  }
}

ThreadDeadline::~ThreadDeadline() {
  t_deadline = m_previous;
}

} // namespace common::util
