#include "common/controller/controller.hpp"

#include <algorithm>
#include <exception>

#include "common/util/outcome.hpp"

namespace common::controller {

Controller::Controller(Reconciler& reconciler, ControllerOptions options,
                       metrics::Registry* registry, log::Logger* logger)
    : m_reconciler(reconciler), m_options(options), m_logger(logger) {
  if (m_options.workers == 0) {
    m_options.workers = 1;
  }
  if (registry != nullptr) {
    m_reconciles = &registry->counter("imageupdater_reconcile_total",
                                      "Reconciles of ImageUpdaters, by result.", {"result"});
    m_durations = &registry->histogram("imageupdater_reconcile_duration_seconds",
                                       "Time one reconcile took.", {}, metrics::latency_buckets());
  }
}

Controller::~Controller() {
  stop();
}

void Controller::start() {
  for (std::size_t i = 0; i < m_options.workers; ++i) {
    m_workers.emplace_back([this] { work(); });
  }
}

void Controller::enqueue(const store::Key& key) {
  m_queue.add(key);
}

void Controller::stop() {
  if (m_stopped) {
    return;
  }
  m_stopped = true;
  m_queue.shut_down();
  for (std::thread& t : m_workers) {
    t.join();
  }
  m_workers.clear();
}

std::chrono::nanoseconds Controller::backoff(const store::Key& key) {
  int failures = 0;
  {
    const std::lock_guard lock(m_mutex);
    failures = ++m_failures[key];
  }
  auto delay = m_options.backoff_base;
  for (int i = 1; i < failures && delay < m_options.backoff_max; ++i) {
    delay *= 2;
  }
  return std::min(delay, m_options.backoff_max);
}

void Controller::work() {
  while (auto key = m_queue.get()) {
    const auto started = std::chrono::steady_clock::now();
    util::Result<std::chrono::nanoseconds> result =
        util::fail(util::ErrorKind::internal, "reconcile did not run");
    try {
      result = m_reconciler.reconcile(*key);
    } catch (const std::exception& e) {
      result = util::fail(util::ErrorKind::internal, std::string("reconcile threw: ") + e.what());
    } catch (...) {
      result = util::fail(util::ErrorKind::internal, "reconcile threw");
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const std::string object = key->namespace_ + "/" + key->name;
    std::string outcome;
    if (result) {
      outcome = "success";
      {
        const std::lock_guard lock(m_mutex);
        m_failures.erase(*key);
      }
      if (result->count() > 0) {
        m_queue.add_after(*key, *result);
      }
    } else if (util::outcome(result.error().kind).retry == util::Retry::now) {
      outcome = "conflict";
      m_queue.done(*key);
      m_queue.add(*key);
      if (m_reconciles != nullptr) {
        m_reconciles->inc({outcome});
      }
      continue;
    } else {
      outcome = "error";
      const auto delay = backoff(*key);
      m_queue.add_after(*key, delay);
      if (m_logger != nullptr) {
        m_logger->warn("reconcile failed",
                       {{"object", object},
                        {"error", result.error().message},
                        {"retry_in_ms", std::to_string(delay.count() / 1000000)}});
      }
    }
    m_queue.done(*key);
    if (m_reconciles != nullptr) {
      m_reconciles->inc({outcome});
      m_durations->observe({}, seconds);
    }
    if (m_logger != nullptr && m_logger->enabled(log::Level::debug)) {
      m_logger->debug("reconciled", {{"object", object}, {"result", outcome}});
    }
  }
}

} // namespace common::controller
