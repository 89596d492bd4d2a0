// The control loop of the Kubernetes mode: an informer keeps every ImageUpdater (of one
// namespace or all) in a cache, and the replica that holds the Lease runs the controller over
// it. Every replica keeps its cache warm, so a standby that takes the Lease over starts at once.
//
//   - the informer lists once, then watches (re-watching, relisting after 410; kube/informer.hpp);
//     the reconciler reads objects from its cache (cached(): no request per reconcile);
//   - changes queue the object when this replica leads: an add, a delete, and an update that
//     changes what a reconcile reads (generation, labels, annotations such as
//     reconcile.fluxcd.io/requestedAt, deletion state: kube::worth_reconciling), never the
//     status writes of the controller itself;
//   - on becoming leader: a fresh controller, every cached object queued; on losing the Lease:
//     the controller stops (reconciles in progress finish) and the replica goes back to
//     standing by. Without leader election the controller runs from start() on.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/controller/controller.hpp"
#include "common/kube/api.hpp"
#include "common/kube/informer.hpp"
#include "common/kube/leader.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/registry.hpp"
#include "common/store/store.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::cluster {

struct LoopOptions {
  std::string namespace_; // "" = every namespace
  bool leader_elect = true;
  kube::LeaderElectionOptions lease; // namespace, name, identity, durations
  controller::ControllerOptions controller;
  std::chrono::milliseconds sync_timeout{60000}; // start() waits this long for the first list
};

class Loop {
public:
  // Checks the lease options when leader_elect. Everything passed by reference or pointer must
  // outlive the loop (`registry` and `logger` may be null); `api` is thread-safe.
  static util::Result<std::unique_ptr<Loop>> create(kube::Api& api, LoopOptions options,
                                                    controller::Reconciler& reconciler,
                                                    util::Clock& clock, metrics::Registry* registry,
                                                    log::Logger* logger);
  ~Loop(); // stop()
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Starts the informer and waits (up to sync_timeout) for its first list, then the election or
  // the controller. A list that has not come by then is logged; the loop goes on (the objects
  // are queued as they arrive).
  void start();
  // Stops the election (releasing a held Lease), the controller and the informer. Idempotent.
  void stop();

  // The cached object's JSON (the ClusterStore's cache lookup); nullopt when absent.
  std::optional<std::string> cached(const store::Key& key) const;
  bool leading() const;
  kube::InformerStats informer_stats() const;

private:
  Loop(kube::Api& api, LoopOptions options, controller::Reconciler& reconciler, util::Clock& clock,
       metrics::Registry* registry, log::Logger* logger);
  void start_leading();
  void stop_leading();
  void enqueue(const kube::ObjectKey& key);

  kube::Api& m_api;
  LoopOptions m_options;
  controller::Reconciler& m_reconciler;
  util::Clock& m_clock;
  metrics::Registry* m_registry;
  log::Logger* m_logger;
  metrics::Gauge* m_leader_gauge = nullptr;

  std::mutex m_mutex; // guards m_controller's life (start/stop leading, stop)
  std::unique_ptr<controller::Controller> m_controller;
  // The running controller for the informer's handlers; a handler holds m_enqueue_mutex while
  // it uses it, so the controller is never destroyed under a handler.
  std::mutex m_enqueue_mutex;
  std::atomic<controller::Controller*> m_running{nullptr};
  std::unique_ptr<kube::Informer> m_informer;
  std::unique_ptr<kube::LeaderElector> m_elector;
  bool m_started = false;
  bool m_stopped = false;
};

} // namespace common::cluster
