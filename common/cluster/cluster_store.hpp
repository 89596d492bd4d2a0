// The store of ImageUpdater objects when the cluster is the store (serve --kubernetes): a
// store::Store over the API server's imageupdaters.gitops.kubesphere.io resource, so the REST
// API, the spec-directory watcher and the reconciler work unchanged on either store.
//
// Mapping: an Object is the custom resource (metadata namespace, name, uid, resourceVersion,
// generation, creationTimestamp, labels, annotations; spec; status). The API server owns the
// bookkeeping (uid, versions, generation) exactly as the SQLite store does, and its answers
// keep their kinds (kube/api.hpp): a stale resourceVersion is conflict, a missing object
// not_found, a refused caller auth.
//
// Writes keep what this project does not model: replace() reads the object and changes only
// its labels, annotations and spec before the PUT (finalizers, owner references and fields of
// other managers survive); the PUT carries the caller's resourceVersion, so the API server
// checks it. replace_status() PUTs the status subresource (spec and metadata untouched).
//
// Reads: get() is answered from `cache` when one is given (the controller's informer: no
// request per reconcile) and from the API server otherwise (the REST API, acting as its caller,
// reads through; list() always asks the API server, page by page).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/kube/api.hpp"
#include "common/kube/client.hpp"
#include "common/store/store.hpp"
#include "common/util/error.hpp"

namespace common::cluster {

// The JSON of one cached object, nullopt when the cache does not hold it.
using CacheLookup = std::function<std::optional<std::string>(const store::Key&)>;

class ClusterStore final : public store::Store {
public:
  // `api` must outlive the store. `cache` may be empty.
  explicit ClusterStore(kube::Api& api, CacheLookup cache = {});
  // A store that owns its API client (caller_store's).
  explicit ClusterStore(std::unique_ptr<kube::Api> api);

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
  std::unique_ptr<kube::Api> m_owned; // null unless the store owns its client
  kube::Api& m_api;
  CacheLookup m_cache;
};

// A store acting as the holder of `token` (a REST API caller's bearer token): the API server
// authenticates and authorises every request it makes; same server, TLS settings and rate limit
// as `client`. No cache: reads go to the API server (as the caller).
std::shared_ptr<store::Store> caller_store(const kube::Client& client, std::string token);

// An ImageUpdater custom resource's JSON as a store::Object (spec and status as compact JSON
// text, "{}" for an absent status). invalid_input naming the field when it is not one.
util::Result<store::Object> decode(std::string_view json);
// The custom resource of `object` (apiVersion, kind, metadata, spec; the status when
// `with_status`).
std::string encode(const store::Object& object, bool with_status);
// A label selector in the API server's syntax ("app=web,tier in (a,b),!canary").
std::string selector_text(const store::Selector& selector);

} // namespace common::cluster
