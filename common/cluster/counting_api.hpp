// A kube::Api decorator that counts requests in the service's metrics, as client-go's
// rest_client_requests_total does: imageupdater_kube_requests_total{verb,resource,result}
// (verb get|list|create|update|patch|delete|watch; resource the plural, with "/status" for the
// subresource; result "ok" or the error kind). What the benchmark reads to tell a watch from a
// poll.
#pragma once

#include "common/kube/api.hpp"
#include "common/metrics/registry.hpp"

namespace common::cluster {

class CountingApi final : public kube::Api {
public:
  // The counter family, registered once per registry (several CountingApis may share it).
  static metrics::Counter& register_counter(metrics::Registry& registry);
  // `inner` and `requests` (from register_counter) must outlive this object.
  CountingApi(kube::Api& inner, metrics::Counter& requests);

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

private:
  template <class R>
  R counted(const char* verb, const kube::Resource& resource, std::string_view subresource,
            R result);

  kube::Api& m_inner;
  metrics::Counter& m_requests;
};

} // namespace common::cluster
