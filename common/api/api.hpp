// The ImageUpdater REST API as plain functions of a request: routing, bodies, validation and
// Kubernetes-shaped objects and errors, over a store::Store. A transport (the service's front
// end in common/server, tests) only moves bytes. Routes, under k_api_prefix
// ("/kapis/gitops.kubesphere.io/v1alpha1") and the same under k_kube_prefix
// ("/apis/gitops.kubesphere.io/v1alpha1", where kubectl looks):
//
//   GET    /imageupdaters                               list, all namespaces
//   GET    /namespaces/{namespace}/imageupdaters        list (limit, continue, labelSelector)
//   POST   /namespaces/{namespace}/imageupdaters        create: 201 with the stored object
//   GET    /namespaces/{namespace}/imageupdaters/{name} one, with its status
//   PUT    /namespaces/{namespace}/imageupdaters/{name} replace: metadata.resourceVersion must
//                                                       be the stored one (409 otherwise); the
//                                                       client's status is ignored
//   PATCH  /namespaces/{namespace}/imageupdaters/{name} application/merge-patch+json (RFC 7386)
//                                                       or application/json-patch+json (RFC
//                                                       6902) applied to the stored object, then
//                                                       written as PUT writes it; a concurrent
//                                                       write makes it apply again (up to 5
//                                                       times) unless the patch names
//                                                       metadata.resourceVersion (409 then)
//   DELETE /namespaces/{namespace}/imageupdaters/{name} 200 with a Success Status; an optional
//                                                       DeleteOptions body's
//                                                       preconditions.resourceVersion is checked
//   GET    /openapi.json                                the OpenAPI document (outside the prefix)
//
// For kubectl, outside the prefixes (GET only, no authorisation asked, as /openapi.json): /api
// (APIVersions, no versions), /apis (APIGroupList), /apis/gitops.kubesphere.io (APIGroup),
// /apis/gitops.kubesphere.io/v1alpha1 (APIResourceList: imageupdaters, its verbs, short names
// and category from crd.hpp), /api/v1/namespaces/{name} (an Active Namespace: in this store
// every namespace exists; kubectl reads it to word a NotFound), /version, /openapi/v3 and the
// group-version's OpenAPI v3 document
// (the CRD's schema; write operations declare fieldValidation, so kubectl leaves validation to
// this API). Discovery is the legacy form: kubectl falls back to it from aggregated discovery.
// Lists honour fieldSelector terms on metadata.name and metadata.namespace (=, ==, !=; others
// 400). `watch=true` is 405 (no watch here) and `dryRun` 400 (not supported). With
// `fieldValidation=Strict` (kubectl's default) a create, replace or patch result holding a field
// the CRD's schema does not declare is 400 "strict decoding error: unknown field ...".
//
// Representations: a body without a Content-Type is JSON (as kube-apiserver reads it), or YAML
// when it does not start like JSON text. A successful answer is YAML (application/yaml) when
// the Accept header's first type we serve is application/yaml, and a meta.k8s.io/v1 Table of
// the CRD's printer columns (GET only) when it is kubectl's `application/json;as=Table;
// g=meta.k8s.io`; else JSON. Errors are always JSON Status objects.
//
// Objects: apiVersion gitops.kubesphere.io/v1alpha1, kind ImageUpdater, metadata {namespace,
// name, uid, resourceVersion, generation, creationTimestamp, labels, annotations}, spec, status;
// lists are ImageUpdaterList with metadata {resourceVersion, continue}. JSON keys are sorted, so
// output is deterministic.
//
// Errors are Status objects (status.hpp): 400 an empty or malformed body or query, a path namespace
// or name that is not a DNS-1123 label / subdomain, apiVersion or kind not ours, a body namespace
// (or, on PUT, name) that differs from the path's; 404 unknown route or object; 405 known route,
// other method (with an Allow header); 409 AlreadyExists on create, Conflict on a stale
// resourceVersion; 413 body over Options::max_body_bytes; 415 a body that is neither
// application/json nor application/yaml (a PATCH: neither patch type); 422 Invalid listing every
// error the spec model finds (and label/annotation syntax), each with its field path, in
// details.causes. Warnings of the spec model come back as `Warning: 299 - "..."` headers. handle()
// never throws.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/api/http.hpp"
#include "common/api/writes.hpp"
#include "common/store/store.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::api {

inline constexpr std::string_view k_api_prefix = "/kapis/gitops.kubesphere.io/v1alpha1";
// The same routes where kubectl (and every Kubernetes client) looks for them.
inline constexpr std::string_view k_kube_prefix = "/apis/gitops.kubesphere.io/v1alpha1";
inline constexpr std::string_view k_openapi_path = "/openapi.json";

struct Options {
  std::size_t max_body_bytes = 1u << 20; // larger bodies get 413
  std::size_t max_list_limit = 1000;     // page size when limit is absent, 0 or larger
  // Parses a labelSelector (store::parse_selector unless replaced, e.g. by tests).
  std::function<util::Result<store::Selector>(std::string_view)> parse_selector;
  // Decides whether a routed request may go on (unset = everyone may): nullopt = yes, else the
  // 401/403 Status to answer. `namespace_` "" = every namespace (the cross-namespace list);
  // `write` for POST, PUT, PATCH and DELETE. Not asked for /openapi.json, the kubectl documents
  // or unknown routes. May set
  // `principal` (who asked, for logs).
  std::function<std::optional<HttpResponse>(const HttpRequest&, const std::string& namespace_,
                                            bool write, std::string& principal)>
      authorize;
  // The store a routed request reads and writes (unset = the one given to the constructor):
  // the Kubernetes mode gives each caller a store acting as that caller, so the API server
  // authorises every request. An error is answered as its kind's Status (util::outcome).
  std::function<util::Result<std::shared_ptr<store::Store>>(const HttpRequest&)> store_for;
  // Called after a create or a replace that changed the object, and after a delete (so the
  // service can reconcile it at once).
  std::function<void(const store::Key&)> on_change;
};

class ImageUpdaterApi {
public:
  // `store` and `clock` must outlive the API. Thread-safe as far as the store is.
  ImageUpdaterApi(store::Store& store, util::Clock& clock, Options options = {});

  HttpResponse handle(const HttpRequest& request);

  // What handle() would answer before looking at the body: 404 for no route, 405, 401/403 from
  // Options::authorize; nullopt when the request may go on. A transport calls it once the head
  // is read, so that a denied request never costs its body.
  std::optional<HttpResponse> precheck(const HttpRequest& request);

  // The route template a request matched, for metrics labels ("GET /namespaces/{namespace}/
  // imageupdaters/{name}"), "" when it matched none. Bounded cardinality: never a path value.
  static std::string route_of(const HttpRequest& request);

private:
  // Where one request reads and writes: the API's store and write service, or the caller's.
  struct Backend {
    store::Store* store;
    Writes* writes;
    bool callers = false; // the store acts as the caller: its auth errors are 403s
  };
  HttpResponse list(Backend& b, const HttpRequest& request, const std::string& namespace_);
  HttpResponse create(Backend& b, const HttpRequest& request, const std::string& namespace_);
  HttpResponse get(Backend& b, const std::string& namespace_, const std::string& name);
  HttpResponse replace(Backend& b, const HttpRequest& request, const std::string& namespace_,
                       const std::string& name);
  HttpResponse remove(Backend& b, const HttpRequest& request, const std::string& namespace_,
                      const std::string& name);
  HttpResponse patch(Backend& b, const HttpRequest& request, const std::string& namespace_,
                     const std::string& name);
  // The successful answer `r` in the representation the Accept header asks for.
  HttpResponse negotiated(const HttpRequest& request, HttpResponse r) const;

  store::Store& m_store;
  util::Clock& m_clock; // the ages in Table answers
  Options m_options;
  Writes m_writes; // validation, the store write and on_change, shared with other writers
};

// Kubernetes naming rules. A DNS-1123 label: at most 63 characters of [a-z0-9-], starting and
// ending alphanumeric (namespaces). A DNS-1123 subdomain: at most 253 characters, dot-separated
// labels (object names). Return "" when valid, else why not.
std::string check_dns1123_label(std::string_view value);
std::string check_dns1123_subdomain(std::string_view value);
// Label keys ([prefix/]name) and values; annotation keys are label keys.
std::string check_label_key(std::string_view key);
std::string check_label_value(std::string_view value);

} // namespace common::api
