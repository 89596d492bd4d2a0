#include "common/cluster/status_events.hpp"

#include <optional>

#include "common/status/codec.hpp"
#include "common/status/status.hpp"

namespace common::cluster {

namespace {

struct Ready {
  std::string status;
  std::string reason;
  std::string message;
};

// The Ready condition of a status text; nullopt when there is none (or the text is not a status:
// then there is nothing to compare, and no Event).
std::optional<Ready> ready_of(const std::string& status_json) {
  auto status = status::decode(status_json);
  if (!status) {
    return std::nullopt;
  }
  const status::Condition* ready = status::find_condition(status->conditions, status::k_ready);
  if (ready == nullptr) {
    return std::nullopt;
  }
  return Ready{std::string(status::to_string(ready->status)), ready->reason, ready->message};
}

} // namespace

StatusEvents::StatusEvents(store::Store& inner, kube::EventRecorder& recorder)
    : m_inner(inner), m_recorder(recorder) {}

util::Result<store::Object> StatusEvents::create(store::Object object) {
  return m_inner.create(std::move(object));
}
util::Result<store::Object> StatusEvents::get(const store::Key& key) {
  return m_inner.get(key);
}
util::Result<store::Page> StatusEvents::list(const std::string& namespace_,
                                             const store::ListOptions& options) {
  return m_inner.list(namespace_, options);
}
util::Result<store::Object> StatusEvents::replace(const store::Object& object) {
  return m_inner.replace(object);
}
util::Result<void> StatusEvents::remove(const store::Key& key,
                                        const std::string& resource_version) {
  return m_inner.remove(key, resource_version);
}

util::Result<store::Object> StatusEvents::replace_status(const store::Key& key,
                                                         const std::string& resource_version,
                                                         const std::string& status_json) {
  // The status before, as the controller last saw it (the cache: no request).
  std::optional<Ready> before;
  if (auto current = m_inner.get(key)) {
    before = ready_of(current->status_json);
  }
  auto written = m_inner.replace_status(key, resource_version, status_json);
  if (!written) {
    return written;
  }
  const std::optional<Ready> after = ready_of(status_json);
  if (after && (!before || before->status != after->status || before->reason != after->reason)) {
    kube::ObjectReference object{
        "gitops.kubesphere.io/v1alpha1", "ImageUpdater", key.namespace_, key.name, written->uid,
        written->resource_version};
    m_recorder.record(object,
                      after->status == "True" ? kube::EventType::normal : kube::EventType::warning,
                      after->reason, after->message);
  }
  return written;
}

} // namespace common::cluster
