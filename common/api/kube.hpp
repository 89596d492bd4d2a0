// Internal to common/api: what kubectl needs besides the object routes (api.hpp lists the
// routes): the discovery documents, /version, the OpenAPI v3 documents kubectl's validation
// reads, patches (RFC 7386 merge patch, RFC 6902 JSON patch), content negotiation (JSON, YAML,
// meta.k8s.io/v1 Table) and the field selectors kubectl sends. Pure: no I/O, no clock (the
// caller passes `now`). Objects and documents travel as JSON text.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/http.hpp"
#include "common/util/error.hpp"

namespace common::api::detail {

// GET of /api, /apis, /apis/gitops.kubesphere.io, /apis/gitops.kubesphere.io/v1alpha1,
// /version, /openapi/v3 and /openapi/v3/apis/gitops.kubesphere.io/v1alpha1: the document
// (application/json), nullopt for any other path. Discovery is the legacy (unaggregated) form,
// which kubectl falls back to when the answer's content type is plain application/json.
std::optional<HttpResponse> kube_document(std::string_view path);
bool is_kube_document(std::string_view path);

enum class PatchType { merge, json, unsupported };
// application/merge-patch+json -> merge, application/json-patch+json -> json, else unsupported
// (strategic merge patch and server-side apply included, as kube-apiserver answers for custom
// resources).
PatchType patch_type(std::string_view content_type);

// `object` (a JSON object) with `patch` applied. merge: RFC 7386 (null removes a member, an
// object merges, anything else replaces). json: RFC 6902 (add, remove, replace, move, copy,
// test; a failed test or a missing path is invalid_input). invalid_input also for a patch that
// is not JSON or not of its type's shape. Never throws.
util::Result<std::string> apply_patch(PatchType type, std::string_view object,
                                      std::string_view patch);

enum class Output { json, yaml, table };
// What an Accept header asks for, by its first media type we can serve: application/yaml ->
// yaml, application/json;as=Table;g=meta.k8s.io (v1 or v1beta1) -> table, anything else
// (application/json, */*, none) -> json.
Output negotiate(std::string_view accept);

// `body` (an ImageUpdater or an ImageUpdaterList) as a meta.k8s.io/v1 Table with the CRD's
// printer columns (crd.hpp), each row's object the item's PartialObjectMetadata; date columns
// are ages relative to `now` as kube-apiserver writes them ("5m", "3d2h").
std::string to_table(std::string_view body, std::chrono::system_clock::time_point now);

// Keeps the items of an ImageUpdaterList `list` that `selector` selects. Supported: terms
// metadata.name and metadata.namespace with =, == or !=, comma-separated (what kubectl sends);
// anything else is invalid_input.
util::Result<std::string> filter_by_fields(std::string_view list, std::string_view selector);

// The fields of `object` (an ImageUpdater as JSON text) that the CRD's schema does not declare
// ("spec.fluxcd.bogus"), in document order: what kubectl's default `fieldValidation=Strict`
// refuses. metadata is not looked into (the writes check it); status is open. Empty when the
// text is not a JSON object.
std::vector<std::string> unknown_fields(std::string_view object);

} // namespace common::api::detail
