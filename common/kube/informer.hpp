// A reflector and cache for one resource (client-go's SharedInformer in a simple form): lists
// the objects (paginated), then watches from the list's resourceVersion with bookmarks, keeping
// a cache keyed by (namespace, name) and calling handlers on every change.
//   - a watch the server ends cleanly is reopened from the last version seen (no list);
//   - gone (410: the version or a continue token expired) lists again, at once when the watch
//     had delivered events (else after a backoff); on the relist the handlers see deletes for
//     objects no longer there, updates for objects whose resourceVersion changed, adds for new
//     ones; a continue token that expires mid-list is replaced by one unpaginated list;
//   - other errors (list or watch), and a watch the server ends before any event, wait a
//     bounded, jittered exponential backoff, then list again (after a list failure) or watch
//     again from the last version; the backoff starts over when a watch delivers an event;
//   - an object whose JSON cannot be parsed is logged and skipped.
// Handlers run on the informer's thread, one at a time, after the cache reflects the change and
// without any lock held (they may call get() and list()); they must not block for long.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/kube/api.hpp"
#include "common/kube/object.hpp"
#include "common/kube/retry.hpp"
#include "common/log/logger.hpp"

namespace common::kube {

struct InformerOptions {
  Resource resource;
  std::string namespace_;     // "" = all namespaces
  std::string label_selector; // "" = every object
  std::size_t page_size = 500;
  // The server ends each watch after this, plus a random part of up to the same again (client-go
  // picks 5 to 10 minutes so that its watches do not all end together).
  std::chrono::seconds watch_timeout{300};
  // Backoff after a failed list or watch: 800 ms doubling to 30 s, jitter up to 100%
  // (client-go's reflector).
  Backoff backoff{std::chrono::milliseconds(800), 2.0, 1.0, 0, std::chrono::seconds(30)};
  double wait_scale = 1.0;       // tests: below 1 shortens every backoff wait
  std::uint64_t jitter_seed = 0; // 0 = from std::random_device
};

struct InformerHandlers {
  std::function<void(const CachedObject& object)> on_add;
  std::function<void(const CachedObject& old, const CachedObject& now)> on_update;
  // `last` is the object as the delete event carried it, or the cached copy after a relist. A
  // delete event is passed on even when the cache did not hold the object (as client-go does).
  std::function<void(const CachedObject& last)> on_delete;
};

struct InformerStats {
  std::uint64_t list_requests = 0;  // pages asked for
  std::uint64_t lists = 0;          // full lists completed (the first one included)
  std::uint64_t relists = 0;        // full lists completed after the first (gone, errors)
  std::uint64_t watch_requests = 0; // watches opened (or tried)
  std::uint64_t events = 0;         // watch events received (bookmarks included)
  std::uint64_t errors = 0;         // failed lists and watches
};

class Informer {
public:
  // `api` (thread-safe) and `logger` (may be null) must outlive the informer.
  Informer(Api& api, InformerOptions options, InformerHandlers handlers,
           log::Logger* logger = nullptr);
  ~Informer(); // stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Starts the thread (once; later calls do nothing).
  void start();
  // Cancels a blocked watch, ends any backoff wait, joins the thread. Idempotent.
  void stop();

  // Whether the first full list has reached the cache (and its handlers have run); waits up to
  // `timeout` for it. False when stopped first.
  bool wait_synced(std::chrono::milliseconds timeout) const;
  bool synced() const;

  std::shared_ptr<const CachedObject> get(const ObjectKey& key) const; // null when absent
  // The cached objects of one namespace ("" = all), in (namespace, name) order.
  std::vector<std::shared_ptr<const CachedObject>> list(const std::string& namespace_ = {}) const;
  std::size_t size() const;
  // The last resourceVersion seen (list, event or bookmark): where the next watch starts.
  std::string last_resource_version() const;
  InformerStats stats() const;

private:
  using Cache = std::map<ObjectKey, std::shared_ptr<const CachedObject>>;
  enum class WatchEnd { ended, ended_empty, gone, gone_empty, failed, stopped };

  void run();
  util::Result<void> list_and_replace();
  WatchEnd watch_once();
  void apply_event(const WatchEvent& event);
  void backoff_wait();
  void set_stream(WatchStream* stream);

  Api& m_api;
  InformerOptions m_options;
  InformerHandlers m_handlers;
  log::Logger* m_logger;
  StopSignal m_stop;
  std::thread m_thread;
  bool m_started = false;

  mutable std::mutex m_mutex; // guards everything below
  mutable std::condition_variable m_synced_cv;
  Cache m_cache;
  bool m_synced = false;
  bool m_stopping = false;
  std::string m_version;
  WatchStream* m_stream = nullptr;
  InformerStats m_stats;
  int m_failures = 0;       // consecutive, for the backoff (informer thread only)
  std::mt19937_64 m_random; // informer thread only
};

} // namespace common::kube
