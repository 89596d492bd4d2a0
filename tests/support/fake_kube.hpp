// An in-memory kube::Api for unit tests: behaves like kube-apiserver where the controller
// machinery depends on it, without HTTP.
//   - objects per resource / namespace / name, as JSON; one global resourceVersion counter that
//     every write bumps (like etcd's revision);
//   - create sets metadata.uid, generation 1, creationTimestamp, namespace; an existing name is
//     conflict (AlreadyExists);
//   - update checks metadata.resourceVersion (stale: conflict; empty: unconditional), keeps the
//     server-owned metadata, bumps generation only when something outside metadata and status
//     changed, and writes nothing (no new version, no event) when nothing changed; with
//     subresource "status" only .status is taken from the body; without it .status is kept (for
//     resources with a status subresource: all but leases and events unless set otherwise);
//   - patch: merge (RFC 7386; a metadata.resourceVersion in the patch is a precondition) and json
//     (RFC 6902); apply is treated as a merge of its JSON body;
//   - finalizers: remove() of an object with finalizers sets deletionTimestamp (MODIFIED) and
//     answers the object; a write that leaves a deleting object without finalizers deletes it;
//   - list in (namespace, name) order, equality-based label selectors (a=b, a==b, a!=b, a, !a),
//     limit/continue (the token is bound to the list's version: compact() expires it: gone);
//   - watch from a resourceVersion ("" or "0": from now): ADDED/MODIFIED/DELETED in order,
//     BOOKMARK on send_bookmark() for watches that allow them; a version older than the last
//     compact() gets ErrorKind::gone from the first next(), like the server's ERROR event;
//   - fault injection: fail_next(verb, error, times) fails the next calls of a verb before they do
//     anything; end_watches() ends every open watch (the server's timeout), end_watches(error)
//     makes their next() fail with it instead;
//   - request counters per verb.
// Thread-safe (one mutex; open watches wait on a condition variable). The FakeApi must outlive
// the streams it hands out.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/kube/api.hpp"
#include "common/util/clock.hpp"

namespace tests {

namespace kube = common::kube;
namespace util = common::util;

// A Clock that several threads may read while a test advances it; sleep_for advances it too.
class SharedFakeClock final : public util::Clock {
public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::system_clock::duration(m_wall.load()));
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(m_steady.load()));
  }
  void sleep_for(std::chrono::nanoseconds d) override { advance(d); }
  void advance(std::chrono::nanoseconds d) {
    m_wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(d).count();
    m_steady += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
  }

private:
  std::atomic<std::int64_t> m_wall{std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                       std::chrono::seconds(1'700'000'000))
                                       .count()};
  std::atomic<std::int64_t> m_steady{0};
};

class FakeApi final : public kube::Api {
public:
  enum class Verb { get, list, create, update, update_status, patch, remove, watch };

  // `clock` (may be null: a fixed time) stamps creationTimestamp and deletionTimestamp.
  explicit FakeApi(util::Clock* clock = nullptr);
  ~FakeApi() override;

  util::Result<std::string> get(const kube::Resource& resource, std::string_view namespace_,
                                std::string_view name) override;
  util::Result<kube::ListPage> list(const kube::Resource& resource, std::string_view namespace_,
                                    const kube::ListOptions& options) override;
  util::Result<std::string> create(const kube::Resource& resource, std::string_view namespace_,
                                   std::string_view object_json,
                                   const kube::WriteOptions& options = {}) override;
  util::Result<std::string> update(const kube::Resource& resource, std::string_view namespace_,
                                   std::string_view name, std::string_view object_json,
                                   std::string_view subresource = {},
                                   const kube::WriteOptions& options = {}) override;
  util::Result<std::string> patch(const kube::Resource& resource, std::string_view namespace_,
                                  std::string_view name, kube::PatchType type,
                                  std::string_view patch, std::string_view subresource = {},
                                  const kube::WriteOptions& options = {}) override;
  util::Result<std::string> remove(const kube::Resource& resource, std::string_view namespace_,
                                   std::string_view name,
                                   const kube::DeleteOptions& options = {}) override;
  util::Result<std::unique_ptr<kube::WatchStream>>
  watch(const kube::Resource& resource, std::string_view namespace_,
        const kube::WatchOptions& options) override;

  // Test controls.
  void fail_next(Verb verb, util::Error error, std::size_t times = 1);
  void clear_failures();
  void end_watches(std::optional<util::Error> error = std::nullopt);
  void send_bookmark();
  void compact(); // versions up to now expire: watches from them and continue tokens get gone
  void set_status_subresource(const kube::Resource& resource, bool enabled);

  std::uint64_t count(Verb verb) const;
  std::uint64_t total_requests() const;
  std::size_t open_watches() const;
  std::string resource_version() const; // the current global version
  std::size_t size(const kube::Resource& resource) const;

private:
  struct Event {
    std::uint64_t version = 0;
    kube::WatchEvent::Type type = kube::WatchEvent::Type::added;
    std::string namespace_;
    std::string object_json;
  };
  struct Store; // per resource: objects and the event log (the .cpp owns the JSON)
  class Stream;
  struct Ops; // the write path (JSON in its signatures: defined in the .cpp)
  friend class Stream;

  Store& store_of(const kube::Resource& resource);
  std::optional<util::Error> take_failure(Verb verb);
  std::string now_text() const;

  util::Clock* m_clock;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::map<std::string, std::unique_ptr<Store>> m_stores;
  std::map<std::string, bool> m_status_override;
  std::uint64_t m_version = 100;
  std::uint64_t m_compacted = 0;
  std::uint64_t m_uids = 0;
  std::uint64_t m_epoch = 0; // end_watches() bumps it; streams of an older epoch end
  std::map<std::uint64_t, std::optional<util::Error>> m_epoch_errors;
  std::map<Verb, std::deque<std::pair<util::Error, std::size_t>>> m_failures; // error, times left
  std::map<Verb, std::uint64_t> m_counts;
  std::size_t m_open_watches = 0;
};

} // namespace tests
