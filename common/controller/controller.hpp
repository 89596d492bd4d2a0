// The service's control loop: workers take keys from a WorkQueue and hand them to a Reconciler,
// which brings one object's status in line with the world (resolves its images; with the Flux
// generator, renders and publishes). Periodic checks come from the reconciler's answer; failures
// are retried with exponential backoff per key; one slow object holds one worker only.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/controller/queue.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/registry.hpp"
#include "common/store/store.hpp"
#include "common/util/error.hpp"

namespace common::controller {

class Reconciler {
public:
  virtual ~Reconciler() = default;
  // Reconciles one object. Success: check again after the returned delay (0 = only when told).
  // An object that no longer exists is a success with 0. Errors: a kind util::outcome retries
  // now (conflict: the object changed under us) is retried at once; anything else after a
  // backoff (a reconciler records what retrying cannot fix in status and returns success).
  virtual util::Result<std::chrono::nanoseconds> reconcile(const store::Key& key) = 0;
};

struct ControllerOptions {
  std::size_t workers = 4; // objects reconciled at once
  std::chrono::nanoseconds backoff_base = std::chrono::seconds(1);
  std::chrono::nanoseconds backoff_max = std::chrono::minutes(5);
};

class Controller {
public:
  // Everything passed by reference or pointer must outlive the controller; `registry` and
  // `logger` may be null.
  Controller(Reconciler& reconciler, ControllerOptions options, metrics::Registry* registry,
             log::Logger* logger);
  ~Controller(); // stop()s
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void start();
  // Queues a key for a reconcile now (a create or update through the API, or at start-up).
  void enqueue(const store::Key& key);
  // Stops handing out keys, lets reconciles in progress finish and joins the workers.
  void stop();

  WorkQueue& queue() { return m_queue; }

private:
  void work();
  std::chrono::nanoseconds backoff(const store::Key& key); // and counts the failure

  Reconciler& m_reconciler;
  ControllerOptions m_options;
  log::Logger* m_logger;
  metrics::Counter* m_reconciles = nullptr;
  metrics::Histogram* m_durations = nullptr;
  WorkQueue m_queue;
  std::mutex m_mutex;
  std::map<store::Key, int> m_failures; // consecutive failures per key
  std::vector<std::thread> m_workers;
  bool m_stopped = false;
};

} // namespace common::controller
