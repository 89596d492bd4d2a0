// Events for status changes: a store::Store decorator that, after a status write succeeded,
// records a Kubernetes Event when the object's Ready condition changed (status or reason): a
// Normal event when it became True, a Warning when False or Unknown, with the condition's
// reason and message. Writes that leave Ready as it was record nothing, so a periodic check
// that finds nothing new adds no Event (client-go's recorder aggregates repeats anyway).
#pragma once

#include <string>

#include "common/kube/events.hpp"
#include "common/store/store.hpp"
#include "common/util/error.hpp"

namespace common::cluster {

class StatusEvents final : public store::Store {
public:
  // `inner` and `recorder` must outlive this store.
  StatusEvents(store::Store& inner, kube::EventRecorder& recorder);

  util::Result<store::Object> create(store::Object object) override;
  util::Result<store::Object> get(const store::Key& key) override;
  util::Result<store::Page> list(const std::string& namespace_,
                                 const store::ListOptions& options) override;
  util::Result<store::Object> replace(const store::Object& object) override;
  util::Result<store::Object> replace_status(const store::Key& key,
                                             const std::string& resource_version,
                                             const std::string& status_json) override;
  util::Result<void> remove(const store::Key& key, const std::string& resource_version) override;

private:
  store::Store& m_inner;
  kube::EventRecorder& m_recorder;
};

} // namespace common::cluster
