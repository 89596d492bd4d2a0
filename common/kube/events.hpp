// Events (core/v1) about the objects the controller reconciles, written like client-go's
// record.EventRecorder in a simple form:
//   - record() never blocks: it queues (bounded) and one worker thread writes; a full queue
//     drops the event and counts it;
//   - the same (object, type, reason, message) again within the aggregation window (10 min)
//     PATCHes the existing Event's count and lastTimestamp instead of creating another (a
//     bounded LRU of recent Events; when the Event is gone meanwhile, a new one is created);
//   - a per-object spam filter (a token bucket: burst 25, one more every 5 minutes) drops the
//     rest, as client-go's EventSourceObjectSpamFilter does;
//   - messages are cut to 1024 bytes (at a UTF-8 boundary);
//   - a failed write is logged and counted, never retried.
// Event names are "<object name>.<hex of the Unix time in nanoseconds>" in the object's
// namespace ("default" for a cluster-scoped object), as client-go names them (one past the last
// suffix this recorder used when the clock has not moved since, so names never repeat).
// The aggregation window runs from the last occurrence.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/kube/api.hpp"
#include "common/kube/object.hpp"
#include "common/log/logger.hpp"
#include "common/util/clock.hpp"

namespace common::kube {

// involvedObject: what the Event is about.
struct ObjectReference {
  std::string api_version; // "gitops.kubesphere.io/v1alpha1"
  std::string kind;        // "ImageUpdater"
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resource_version;
};

// The reference to a cached object (its metadata carries no apiVersion or kind: the caller
// knows them: "gitops.kubesphere.io/v1alpha1", "ImageUpdater").
ObjectReference reference_to(const ObjectMeta& meta, std::string api_version, std::string kind);

enum class EventType { normal, warning };

struct EventRecorderOptions {
  std::string component;         // source.component and reportingComponent
  std::string instance;          // reportingInstance and source.host (e.g. the pod name); may be ""
  std::size_t queue_size = 1000; // client-go's maxQueuedEvents
  std::size_t cache_size = 4096; // recent Events (and per-object buckets) remembered
  std::chrono::seconds aggregate_window{600};
  int spam_burst = 25;
  std::chrono::seconds spam_refill{300}; // one more token per this
};

struct EventRecorderStats {
  std::uint64_t recorded = 0;     // record() calls
  std::uint64_t created = 0;      // Events created
  std::uint64_t patched = 0;      // Events whose count went up
  std::uint64_t dropped_full = 0; // the queue was full (or the recorder stopped)
  std::uint64_t dropped_spam = 0; // the object's bucket was empty
  std::uint64_t failed = 0;       // writes the API server refused or that failed
};

// The longest message written, in bytes.
inline constexpr std::size_t k_event_message_limit = 1024;

// `text` cut to at most `limit` bytes, never inside a UTF-8 sequence.
std::string truncate_utf8(std::string_view text, std::size_t limit);

class EventRecorder {
public:
  // Starts the worker. `api` (thread-safe), `clock` (read from callers' threads) and `logger`
  // (may be null) must outlive the recorder.
  EventRecorder(Api& api, EventRecorderOptions options, util::Clock& clock,
                log::Logger* logger = nullptr);
  ~EventRecorder(); // stop()
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Queues an Event; the time is taken now. Thread-safe, never blocks on the API.
  void record(const ObjectReference& object, EventType type, std::string_view reason,
              std::string_view message);
  // Waits until everything queued so far has been written (or dropped).
  void flush();
  // Writes what is queued, then ends the worker; later record() calls are dropped. Idempotent.
  void stop();
  EventRecorderStats stats() const;

private:
  struct Item {
    ObjectReference object;
    EventType type;
    std::string reason;
    std::string message;
    std::chrono::system_clock::time_point wall;
    std::chrono::steady_clock::time_point steady;
  };
  struct Recent {
    std::string namespace_;
    std::string name;
    std::int64_t count = 0;
    std::string first_timestamp;
    std::chrono::steady_clock::time_point last_seen;
  };
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
  };
  // A map with least-recently-used eviction beyond a bound.
  template <class V>
  struct Lru {
    std::list<std::string> order; // most recent first
    std::map<std::string, std::pair<V, std::list<std::string>::iterator>> entries;
    V* find(const std::string& key);
    V& put(const std::string& key, V value, std::size_t bound);
    void erase(const std::string& key);
  };

  void run();
  void process(const Item& item);
  bool allow(const Item& item); // the spam filter
  bool create(const Item& item, const std::string& key);

  Api& m_api;
  EventRecorderOptions m_options;
  util::Clock& m_clock;
  log::Logger* m_logger;

  mutable std::mutex m_mutex; // guards the queue, the flags and the stats
  std::condition_variable m_cv;
  std::deque<Item> m_queue;
  bool m_busy = false;
  bool m_stopping = false;
  bool m_done = false; // the worker has ended
  EventRecorderStats m_stats;
  std::thread m_worker;

  // Worker thread only.
  Lru<Recent> m_recent;
  Lru<Bucket> m_buckets;
  std::int64_t m_last_nanos = 0;
};

} // namespace common::kube
