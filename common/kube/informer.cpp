#include "common/kube/informer.hpp"

#include <utility>

namespace common::kube {

namespace {

const char* kind_name(WatchEvent::Type type) {
  switch (type) {
  case WatchEvent::Type::added:
    return "ADDED";
  case WatchEvent::Type::modified:
    return "MODIFIED";
  case WatchEvent::Type::deleted:
    return "DELETED";
  case WatchEvent::Type::bookmark:
    return "BOOKMARK";
  }
  return "?";
}

} // namespace

Informer::Informer(Api& api, InformerOptions options, InformerHandlers handlers,
                   log::Logger* logger)
    : m_api(api), m_options(std::move(options)), m_handlers(std::move(handlers)), m_logger(logger),
      m_stop(m_options.wait_scale),
      m_random(m_options.jitter_seed != 0 ? m_options.jitter_seed : std::random_device{}()) {}

Informer::~Informer() {
  stop();
}

void Informer::start() {
  if (m_started) {
    return;
  }
  m_started = true;
  m_thread = std::thread([this] { run(); });
}

void Informer::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    if (m_stream != nullptr) {
      m_stream->cancel();
    }
    m_synced_cv.notify_all();
  }
  m_stop.stop();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

bool Informer::wait_synced(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  m_synced_cv.wait_for(lock, timeout, [this] { return m_synced || m_stopping; });
  return m_synced;
}

bool Informer::synced() const {
  std::lock_guard lock(m_mutex);
  return m_synced;
}

std::shared_ptr<const CachedObject> Informer::get(const ObjectKey& key) const {
  std::lock_guard lock(m_mutex);
  auto it = m_cache.find(key);
  return it == m_cache.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const CachedObject>>
Informer::list(const std::string& namespace_) const {
  std::lock_guard lock(m_mutex);
  std::vector<std::shared_ptr<const CachedObject>> out;
  auto it = namespace_.empty() ? m_cache.begin() : m_cache.lower_bound({namespace_, ""});
  for (; it != m_cache.end(); ++it) {
    if (!namespace_.empty() && it->first.namespace_ != namespace_) {
      break;
    }
    out.push_back(it->second);
  }
  return out;
}

std::size_t Informer::size() const {
  std::lock_guard lock(m_mutex);
  return m_cache.size();
}

std::string Informer::last_resource_version() const {
  std::lock_guard lock(m_mutex);
  return m_version;
}

InformerStats Informer::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

void Informer::run() {
  while (!m_stop.stopped()) {
    if (auto listed = list_and_replace(); !listed) {
      if (m_stop.stopped()) {
        return;
      }
      if (m_logger != nullptr) {
        m_logger->warn("kube: list failed", {{"resource", m_options.resource.plural},
                                             {"kind", util::to_string(listed.error().kind)},
                                             {"error", listed.error().message}});
      }
      {
        std::lock_guard lock(m_mutex);
        ++m_stats.errors;
      }
      backoff_wait();
      continue;
    }
    for (;;) {
      WatchEnd end = watch_once();
      if (end == WatchEnd::stopped || m_stop.stopped()) {
        return;
      }
      if (end == WatchEnd::gone) {
        break; // list again, at once: the version we had expired
      }
      if (end == WatchEnd::gone_empty) {
        // Gone before any event: back off first, so a server that refuses every version a list
        // hands out is not hammered with lists.
        backoff_wait();
        break;
      }
      if (end == WatchEnd::ended) {
        continue;
      }
      // A failed watch, or one the server ended before any event: wait, then watch again from
      // the last version (the server answers gone when that expired meanwhile). Counting an
      // empty watch as a failure keeps a server that ends every watch at once from being
      // hammered.
      if (end == WatchEnd::failed) {
        std::lock_guard lock(m_mutex);
        ++m_stats.errors;
      }
      backoff_wait();
    }
  }
}

util::Result<void> Informer::list_and_replace() {
  Cache fresh;
  std::string version;
  std::string token;
  std::size_t limit = m_options.page_size;
  while (!m_stop.stopped()) {
    ListOptions options;
    options.label_selector = m_options.label_selector;
    options.limit = limit;
    options.continue_token = token;
    {
      std::lock_guard lock(m_mutex);
      ++m_stats.list_requests;
    }
    auto page = m_api.list(m_options.resource, m_options.namespace_, options);
    if (!page) {
      if (page.error().kind == util::ErrorKind::gone && !token.empty() && limit != 0) {
        // The continue token expired between pages: list everything in one request instead
        // (client-go's fallback), so a busy server cannot keep a paginated list from finishing.
        fresh.clear();
        token.clear();
        version.clear();
        limit = 0;
        continue;
      }
      return std::unexpected(std::move(page.error()));
    }
    if (version.empty()) {
      version = page->resource_version;
    }
    for (std::string& item : page->items) {
      auto object = parse_object(std::move(item));
      if (!object) {
        if (m_logger != nullptr) {
          m_logger->warn(
              "kube: skipping an object that cannot be read",
              {{"resource", m_options.resource.plural}, {"error", object.error().message}});
        }
        continue;
      }
      ObjectKey key = object->meta.key();
      fresh[std::move(key)] = std::make_shared<const CachedObject>(std::move(*object));
    }
    token = std::move(page->continue_token);
    if (token.empty()) {
      break;
    }
  }
  if (m_stop.stopped()) {
    return util::fail(util::ErrorKind::transient, "stopped");
  }

  Cache old;
  {
    std::lock_guard lock(m_mutex);
    old = std::exchange(m_cache, fresh);
    m_version = version;
  }
  // Deletes first, then adds and updates, each in key order.
  if (m_handlers.on_delete) {
    for (const auto& [key, object] : old) {
      if (!fresh.contains(key)) {
        m_handlers.on_delete(*object);
      }
    }
  }
  for (const auto& [key, object] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      if (m_handlers.on_add) {
        m_handlers.on_add(*object);
      }
    } else if (it->second->meta.resource_version != object->meta.resource_version &&
               m_handlers.on_update) {
      m_handlers.on_update(*it->second, *object);
    }
  }
  std::lock_guard lock(m_mutex);
  if (m_stats.lists > 0) {
    ++m_stats.relists;
  }
  ++m_stats.lists;
  m_synced = true;
  m_synced_cv.notify_all();
  return {};
}

void Informer::set_stream(WatchStream* stream) {
  std::lock_guard lock(m_mutex);
  m_stream = stream;
  if (stream != nullptr && m_stopping) {
    stream->cancel();
  }
}

Informer::WatchEnd Informer::watch_once() {
  WatchOptions options;
  options.label_selector = m_options.label_selector;
  options.allow_bookmarks = true;
  {
    std::lock_guard lock(m_mutex);
    options.resource_version = m_version;
    ++m_stats.watch_requests;
  }
  auto seconds = m_options.watch_timeout.count();
  options.timeout = std::chrono::seconds(
      seconds + (seconds > 0
                     ? static_cast<std::int64_t>(m_random() % static_cast<std::uint64_t>(seconds))
                     : 0));
  auto opened = m_api.watch(m_options.resource, m_options.namespace_, options);
  bool any = false;
  auto fail = [&](const util::Error& error) {
    if (m_logger != nullptr && error.kind != util::ErrorKind::gone) {
      m_logger->warn("kube: watch failed", {{"resource", m_options.resource.plural},
                                            {"kind", util::to_string(error.kind)},
                                            {"error", error.message}});
    }
    if (error.kind == util::ErrorKind::gone) {
      return any ? WatchEnd::gone : WatchEnd::gone_empty;
    }
    return WatchEnd::failed;
  };
  if (!opened) {
    return m_stop.stopped() ? WatchEnd::stopped : fail(opened.error());
  }
  std::unique_ptr<WatchStream> stream = std::move(*opened);
  set_stream(stream.get());
  for (;;) {
    auto event = stream->next();
    if (m_stop.stopped()) {
      set_stream(nullptr);
      return WatchEnd::stopped;
    }
    if (!event) {
      set_stream(nullptr);
      return fail(event.error());
    }
    if (!*event) {
      set_stream(nullptr);
      return any ? WatchEnd::ended : WatchEnd::ended_empty;
    }
    any = true;
    m_failures = 0; // the server answers: the backoff starts over
    apply_event(**event);
  }
}

void Informer::apply_event(const WatchEvent& event) {
  if (event.type == WatchEvent::Type::bookmark) {
    std::lock_guard lock(m_mutex);
    ++m_stats.events;
    if (!event.resource_version.empty()) {
      m_version = event.resource_version;
    }
    return;
  }
  auto parsed = parse_object(event.object_json);
  if (!parsed) {
    if (m_logger != nullptr) {
      m_logger->warn("kube: skipping a watch event that cannot be read",
                     {{"resource", m_options.resource.plural},
                      {"type", kind_name(event.type)},
                      {"error", parsed.error().message}});
    }
    std::lock_guard lock(m_mutex);
    ++m_stats.events;
    if (!event.resource_version.empty()) {
      m_version = event.resource_version;
    }
    return;
  }
  auto object = std::make_shared<const CachedObject>(std::move(*parsed));
  std::shared_ptr<const CachedObject> old;
  {
    std::lock_guard lock(m_mutex);
    ++m_stats.events;
    m_version =
        event.resource_version.empty() ? object->meta.resource_version : event.resource_version;
    auto it = m_cache.find(object->meta.key());
    if (it != m_cache.end()) {
      old = it->second;
    }
    if (event.type == WatchEvent::Type::deleted) {
      if (it != m_cache.end()) {
        m_cache.erase(it);
      }
    } else {
      m_cache[object->meta.key()] = object;
    }
  }
  if (event.type == WatchEvent::Type::deleted) {
    if (m_handlers.on_delete) {
      m_handlers.on_delete(*object);
    }
  } else if (old != nullptr) {
    if (m_handlers.on_update) {
      m_handlers.on_update(*old, *object);
    }
  } else if (m_handlers.on_add) {
    m_handlers.on_add(*object);
  }
}

void Informer::backoff_wait() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto delay = backoff_delay(m_options.backoff, m_failures, unit(m_random));
  ++m_failures;
  m_stop.wait_for(delay);
}

} // namespace common::kube
