#include "common/cluster/counting_api.hpp"

#include <string>

namespace common::cluster {

metrics::Counter& CountingApi::register_counter(metrics::Registry& registry) {
  return registry.counter("imageupdater_kube_requests_total",
                          "Requests to the Kubernetes API server, by verb, resource and result (ok "
                          "or the error kind).",
                          {"verb", "resource", "result"});
}

CountingApi::CountingApi(kube::Api& inner, metrics::Counter& requests)
    : m_inner(inner), m_requests(requests) {}

template <class R>
R CountingApi::counted(const char* verb, const kube::Resource& resource,
                       std::string_view subresource, R result) {
  std::string name = resource.plural;
  if (!subresource.empty()) {
    name += '/';
    name += subresource;
  }
  m_requests.inc({verb, name, result ? "ok" : util::to_string(result.error().kind)});
  return result;
}

util::Result<std::string> CountingApi::get(const kube::Resource& resource,
                                           std::string_view namespace_, std::string_view name) {
  return counted("get", resource, {}, m_inner.get(resource, namespace_, name));
}
util::Result<kube::ListPage> CountingApi::list(const kube::Resource& resource,
                                               std::string_view namespace_,
                                               const kube::ListOptions& options) {
  return counted("list", resource, {}, m_inner.list(resource, namespace_, options));
}
util::Result<std::string> CountingApi::create(const kube::Resource& resource,
                                              std::string_view namespace_,
                                              std::string_view object_json,
                                              const kube::WriteOptions& options) {
  return counted("create", resource, {},
                 m_inner.create(resource, namespace_, object_json, options));
}
util::Result<std::string> CountingApi::update(const kube::Resource& resource,
                                              std::string_view namespace_, std::string_view name,
                                              std::string_view object_json,
                                              std::string_view subresource,
                                              const kube::WriteOptions& options) {
  return counted("update", resource, subresource,
                 m_inner.update(resource, namespace_, name, object_json, subresource, options));
}
util::Result<std::string> CountingApi::patch(const kube::Resource& resource,
                                             std::string_view namespace_, std::string_view name,
                                             kube::PatchType type, std::string_view patch,
                                             std::string_view subresource,
                                             const kube::WriteOptions& options) {
  return counted("patch", resource, subresource,
                 m_inner.patch(resource, namespace_, name, type, patch, subresource, options));
}
util::Result<std::string> CountingApi::remove(const kube::Resource& resource,
                                              std::string_view namespace_, std::string_view name,
                                              const kube::DeleteOptions& options) {
  return counted("delete", resource, {}, m_inner.remove(resource, namespace_, name, options));
}
util::Result<std::unique_ptr<kube::WatchStream>>
CountingApi::watch(const kube::Resource& resource, std::string_view namespace_,
                   const kube::WatchOptions& options) {
  return counted("watch", resource, {}, m_inner.watch(resource, namespace_, options));
}

} // namespace common::cluster
