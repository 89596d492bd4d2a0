#include "common/cluster/loop.hpp"

#include <utility>

namespace common::cluster {

namespace {

store::Key store_key(const kube::ObjectKey& key) {
  store::Key out;
  out.namespace_ = key.namespace_;
  out.name = key.name;
  return out;
}

} // namespace

util::Result<std::unique_ptr<Loop>> Loop::create(kube::Api& api, LoopOptions options,
                                                 controller::Reconciler& reconciler,
                                                 util::Clock& clock, metrics::Registry* registry,
                                                 log::Logger* logger) {
  std::unique_ptr<Loop> loop(
      new Loop(api, std::move(options), reconciler, clock, registry, logger));
  if (loop->m_options.leader_elect) {
    Loop* self = loop.get();
    kube::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [self] { self->start_leading(); };
    callbacks.on_stopped_leading = [self] { self->stop_leading(); };
    auto elector = kube::LeaderElector::create(api, loop->m_options.lease, std::move(callbacks),
                                               clock, logger);
    if (!elector) {
      return std::unexpected(elector.error());
    }
    loop->m_elector = std::move(*elector);
  }
  return loop;
}

Loop::Loop(kube::Api& api, LoopOptions options, controller::Reconciler& reconciler,
           util::Clock& clock, metrics::Registry* registry, log::Logger* logger)
    : m_api(api), m_options(std::move(options)), m_reconciler(reconciler), m_clock(clock),
      m_registry(registry), m_logger(logger) {
  if (m_registry) {
    m_leader_gauge = &m_registry->gauge("imageupdater_leader",
                                        "1 while this replica runs the control loop (holds the "
                                        "Lease, or runs without leader election), else 0.");
    m_leader_gauge->set({}, 0);
  }
  kube::InformerOptions informer;
  informer.resource = kube::imageupdaters();
  informer.namespace_ = m_options.namespace_;
  kube::InformerHandlers handlers;
  handlers.on_add = [this](const kube::CachedObject& object) { enqueue(object.meta.key()); };
  handlers.on_update = [this](const kube::CachedObject& old, const kube::CachedObject& now) {
    if (kube::worth_reconciling(old.meta, now.meta)) {
      enqueue(now.meta.key());
    }
  };
  handlers.on_delete = [this](const kube::CachedObject& last) { enqueue(last.meta.key()); };
  m_informer = std::make_unique<kube::Informer>(m_api, informer, std::move(handlers), m_logger);
}

Loop::~Loop() {
  stop();
}

void Loop::start() {
  {
    const std::lock_guard lock(m_mutex);
    if (m_started) {
      return;
    }
    m_started = true;
  }
  m_informer->start();
  if (!m_informer->wait_synced(m_options.sync_timeout) && m_logger) {
    m_logger->warn("the first list of ImageUpdaters has not come yet; going on",
                   {{"waited_ms", std::to_string(m_options.sync_timeout.count())}});
  }
  if (m_elector) {
    m_elector->start();
  } else {
    start_leading();
  }
}

void Loop::stop() {
  {
    const std::lock_guard lock(m_mutex);
    if (!m_started || m_stopped) {
      return;
    }
    m_stopped = true;
  }
  if (m_elector) {
    m_elector->stop(); // on_stopped_leading first when leading, then the Lease is released
  }
  stop_leading();
  m_informer->stop();
}

void Loop::start_leading() {
  const std::lock_guard lock(m_mutex);
  if (m_controller) {
    return;
  }
  m_controller = std::make_unique<controller::Controller>(m_reconciler, m_options.controller,
                                                          m_registry, m_logger);
  // Published before the cache is walked: an object added meanwhile is queued by its handler
  // (the queue keeps one entry per key).
  m_running.store(m_controller.get());
  std::size_t queued = 0;
  for (const auto& object : m_informer->list(m_options.namespace_)) {
    m_controller->enqueue(store_key(object->meta.key()));
    ++queued;
  }
  m_controller->start();
  if (m_leader_gauge) {
    m_leader_gauge->set({}, 1);
  }
  if (m_logger) {
    m_logger->info("control loop started",
                   {{"workers", std::to_string(m_options.controller.workers)},
                    {"objects", std::to_string(queued)}});
  }
}

void Loop::stop_leading() {
  const std::lock_guard lock(m_mutex);
  if (!m_controller) {
    return;
  }
  {
    const std::lock_guard enqueue_lock(m_enqueue_mutex);
    m_running.store(nullptr);
  }
  m_controller->stop();
  m_controller.reset();
  if (m_leader_gauge) {
    m_leader_gauge->set({}, 0);
  }
  if (m_logger) {
    m_logger->info("control loop stopped");
  }
}

void Loop::enqueue(const kube::ObjectKey& key) {
  const std::lock_guard lock(m_enqueue_mutex);
  if (auto* controller = m_running.load()) {
    controller->enqueue(store_key(key));
  }
}

std::optional<std::string> Loop::cached(const store::Key& key) const {
  auto object = m_informer->get(kube::ObjectKey{key.namespace_, key.name});
  if (!object) {
    return std::nullopt;
  }
  return object->json;
}

bool Loop::leading() const {
  return m_running.load() != nullptr;
}

kube::InformerStats Loop::informer_stats() const {
  return m_informer->stats();
}

} // namespace common::cluster
