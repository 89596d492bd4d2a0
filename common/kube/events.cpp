#include "common/kube/events.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/util/time.hpp"

namespace common::kube {

namespace {

using json = nlohmann::json;

const char* type_name(EventType type) {
  return type == EventType::warning ? "Warning" : "Normal";
}

// metav1.Time: RFC 3339 in whole seconds.
std::string seconds_time(std::chrono::system_clock::time_point t) {
  return util::format_rfc3339(std::chrono::floor<std::chrono::seconds>(t));
}

std::string object_key(const ObjectReference& o) {
  std::string key;
  for (const std::string* part : {&o.api_version, &o.kind, &o.namespace_, &o.name, &o.uid}) {
    key += *part;
    key += '\x1f';
  }
  return key;
}

std::string event_namespace(const ObjectReference& o) {
  return o.namespace_.empty() ? "default" : o.namespace_;
}

} // namespace

ObjectReference reference_to(const ObjectMeta& meta, std::string api_version, std::string kind) {
  return {std::move(api_version), std::move(kind), meta.namespace_, meta.name, meta.uid,
          meta.resource_version};
}

std::string truncate_utf8(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) {
    return std::string(text);
  }
  std::size_t end = limit;
  // Back up over continuation bytes (10xxxxxx) so the cut falls before a sequence's lead byte.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0u) == 0x80u) {
    --end;
  }
  return std::string(text.substr(0, end));
}

template <class V>
V* EventRecorder::Lru<V>::find(const std::string& key) {
  auto it = entries.find(key);
  if (it == entries.end()) {
    return nullptr;
  }
  order.splice(order.begin(), order, it->second.second);
  return &it->second.first;
}

template <class V>
V& EventRecorder::Lru<V>::put(const std::string& key, V value, std::size_t bound) {
  erase(key);
  while (bound > 0 && entries.size() >= bound) {
    entries.erase(order.back());
    order.pop_back();
  }
  order.push_front(key);
  auto& slot = entries[key];
  slot = {std::move(value), order.begin()};
  return slot.first;
}

template <class V>
void EventRecorder::Lru<V>::erase(const std::string& key) {
  auto it = entries.find(key);
  if (it != entries.end()) {
    order.erase(it->second.second);
    entries.erase(it);
  }
}

EventRecorder::EventRecorder(Api& api, EventRecorderOptions options, util::Clock& clock,
                             log::Logger* logger)
    : m_api(api), m_options(std::move(options)), m_clock(clock), m_logger(logger) {
  m_worker = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
  stop();
}

void EventRecorder::record(const ObjectReference& object, EventType type, std::string_view reason,
                           std::string_view message) {
  Item item{object,
            type,
            std::string(reason),
            truncate_utf8(message, k_event_message_limit),
            m_clock.now(),
            m_clock.steady_now()};
  std::lock_guard lock(m_mutex);
  ++m_stats.recorded;
  if (m_stopping || m_queue.size() >= m_options.queue_size) {
    ++m_stats.dropped_full;
    return;
  }
  m_queue.push_back(std::move(item));
  m_cv.notify_all();
}

void EventRecorder::flush() {
  std::unique_lock lock(m_mutex);
  m_cv.wait(lock, [this] { return (m_queue.empty() && !m_busy) || m_done; });
}

void EventRecorder::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_cv.notify_all();
  }
  if (m_worker.joinable()) {
    m_worker.join();
  }
}

EventRecorderStats EventRecorder::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

void EventRecorder::run() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_cv.wait(lock, [this] { return !m_queue.empty() || m_stopping; });
    if (m_queue.empty()) {
      m_done = true; // stopping, and everything queued is written
      m_cv.notify_all();
      return;
    }
    Item item = std::move(m_queue.front());
    m_queue.pop_front();
    m_busy = true;
    lock.unlock();
    process(item);
    lock.lock();
    m_busy = false;
    m_cv.notify_all();
  }
}

bool EventRecorder::allow(const Item& item) {
  std::string key = object_key(item.object) + m_options.component;
  Bucket* bucket = m_buckets.find(key);
  if (bucket == nullptr) {
    bucket = &m_buckets.put(key, {static_cast<double>(m_options.spam_burst), item.steady},
                            m_options.cache_size);
  }
  if (m_options.spam_refill.count() > 0 && item.steady > bucket->refilled) {
    double earned = std::chrono::duration<double>(item.steady - bucket->refilled).count() /
                    std::chrono::duration<double>(m_options.spam_refill).count();
    bucket->tokens = std::min(static_cast<double>(m_options.spam_burst), bucket->tokens + earned);
    bucket->refilled = item.steady;
  }
  if (bucket->tokens < 1.0) {
    return false;
  }
  bucket->tokens -= 1.0;
  return true;
}

void EventRecorder::process(const Item& item) {
  if (!allow(item)) {
    std::lock_guard lock(m_mutex);
    ++m_stats.dropped_spam;
    return;
  }
  std::string key =
      object_key(item.object) + type_name(item.type) + '\x1f' + item.reason + '\x1f' + item.message;
  Recent* recent = m_recent.find(key);
  if (recent != nullptr && item.steady - recent->last_seen <= m_options.aggregate_window) {
    json patch = {{"count", recent->count + 1},
                  {"lastTimestamp", seconds_time(item.wall)},
                  {"message", item.message}};
    auto answer =
        m_api.patch(events(), recent->namespace_, recent->name, PatchType::merge, patch.dump());
    if (answer) {
      ++recent->count;
      recent->last_seen = item.steady;
      std::lock_guard lock(m_mutex);
      ++m_stats.patched;
      return;
    }
    if (answer.error().kind != util::ErrorKind::not_found) {
      if (m_logger != nullptr) {
        m_logger->warn("kube: cannot update an Event",
                       {{"event", recent->name},
                        {"kind", util::to_string(answer.error().kind)},
                        {"error", answer.error().message}});
      }
      std::lock_guard lock(m_mutex);
      ++m_stats.failed;
      return;
    }
    // The Event expired (the API server keeps them an hour by default): write a new one.
  }
  create(item, key);
}

bool EventRecorder::create(const Item& item, const std::string& key) {
  const ObjectReference& o = item.object;
  // Names of one recorder never repeat, even where the clock is coarse or events come in the
  // same nanosecond: the suffix is at least one past the last one used.
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(item.wall.time_since_epoch());
  m_last_nanos = std::max(m_last_nanos + 1, std::max<std::int64_t>(nanos.count(), 0));
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(m_last_nanos));
  std::string name = o.name + suffix;
  std::string ns = event_namespace(o);
  std::string when = seconds_time(item.wall);
  json source = {{"component", m_options.component}};
  if (!m_options.instance.empty()) {
    source["host"] = m_options.instance;
  }
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"involvedObject",
                 {{"apiVersion", o.api_version},
                  {"kind", o.kind},
                  {"namespace", o.namespace_},
                  {"name", o.name},
                  {"uid", o.uid},
                  {"resourceVersion", o.resource_version}}},
                {"type", type_name(item.type)},
                {"reason", item.reason},
                {"message", item.message},
                {"source", source},
                {"firstTimestamp", when},
                {"lastTimestamp", when},
                {"count", 1},
                {"reportingComponent", m_options.component},
                {"reportingInstance", m_options.instance}};
  auto answer = m_api.create(events(), ns, event.dump());
  if (!answer) {
    if (m_logger != nullptr) {
      m_logger->warn("kube: cannot write an Event", {{"object", ns + "/" + o.name},
                                                     {"reason", item.reason},
                                                     {"kind", util::to_string(answer.error().kind)},
                                                     {"error", answer.error().message}});
    }
    m_recent.erase(key);
    std::lock_guard lock(m_mutex);
    ++m_stats.failed;
    return false;
  }
  m_recent.put(key, {ns, name, 1, when, item.steady}, m_options.cache_size);
  std::lock_guard lock(m_mutex);
  ++m_stats.created;
  return true;
}

} // namespace common::kube
