// Shared by the tests of common/cluster: bounded waits, ImageUpdater documents, and a Reconciler
// that records what it saw through a store.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/controller/controller.hpp"
#include "common/store/store.hpp"

namespace cluster_test {

using namespace std::chrono_literals;
namespace store = common::store;
namespace util = common::util;

// Polls `pred` until it holds or `timeout` passes; the last answer.
template <class F>
bool eventually(F pred, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// A spec the CRD's schema accepts.
inline nlohmann::json spec(const std::string& app = "demo") {
  return {{"kind", "argocd"},
          {"images", {"web=127.0.0.1:5000/demo/web:~1.2"}},
          {"argocd", {{"app", {{"name", app}}}}}};
}

// An ImageUpdater custom resource as the API server takes it.
inline nlohmann::json resource(const std::string& ns, const std::string& name,
                               const std::map<std::string, std::string>& labels = {}) {
  nlohmann::json j = {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
                      {"kind", "ImageUpdater"},
                      {"metadata", {{"name", name}, {"namespace", ns}}},
                      {"spec", spec()}};
  if (!labels.empty()) {
    j["metadata"]["labels"] = labels;
  }
  return j;
}

inline store::Object object(const std::string& ns, const std::string& name,
                            const std::map<std::string, std::string>& labels = {}) {
  store::Object o;
  o.key = {ns, name};
  o.labels = labels;
  o.spec_json = spec().dump();
  return o;
}

// A status with a Ready condition (the CRD's schema accepts it).
inline std::string ready_status(const std::string& status, const std::string& reason,
                                const std::string& message = "m", std::int64_t generation = 1) {
  nlohmann::json s = {{"observedGeneration", generation},
                      {"images", nlohmann::json::array()},
                      {"conditions",
                       {{{"type", "Ready"},
                         {"status", status},
                         {"reason", reason},
                         {"message", message},
                         {"observedGeneration", generation},
                         {"lastTransitionTime", "2026-01-02T03:04:05Z"}}}}};
  return s.dump();
}

// What one reconcile saw.
struct Seen {
  store::Key key;
  bool found = false;
  std::string resource_version;
};

// Records every reconcile and what `store` (set before the loop starts) answered for the key;
// `hook` (optional) runs after the read and decides the result.
class RecordingReconciler final : public common::controller::Reconciler {
public:
  using Hook = std::function<util::Result<std::chrono::nanoseconds>(const store::Key&,
                                                                    const store::Object*)>;
  store::Store* store = nullptr;
  Hook hook;

  util::Result<std::chrono::nanoseconds> reconcile(const store::Key& key) override {
    auto got = store != nullptr
                   ? store->get(key)
                   : util::Result<store::Object>(util::fail(util::ErrorKind::internal, "no store"));
    {
      const std::lock_guard lock(m_mutex);
      m_seen.push_back({key, got.has_value(), got ? got->resource_version : std::string()});
    }
    if (hook) {
      return hook(key, got ? &*got : nullptr);
    }
    return std::chrono::nanoseconds(0);
  }

  std::vector<Seen> seen() const {
    const std::lock_guard lock(m_mutex);
    return m_seen;
  }
  std::size_t count(const std::string& name) const {
    const std::lock_guard lock(m_mutex);
    std::size_t n = 0;
    for (const Seen& s : m_seen) {
      n += s.key.name == name ? 1 : 0;
    }
    return n;
  }
  // The last reconcile of `name`; a default Seen when there was none.
  Seen last(const std::string& name) const {
    const std::lock_guard lock(m_mutex);
    for (auto it = m_seen.rbegin(); it != m_seen.rend(); ++it) {
      if (it->key.name == name) {
        return *it;
      }
    }
    return {};
  }

private:
  mutable std::mutex m_mutex;
  std::vector<Seen> m_seen;
};

} // namespace cluster_test
