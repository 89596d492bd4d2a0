// Internal to common/api: the OpenAPI v3 schemas of an ImageUpdater's spec and status, the one
// model both the OpenAPI document (openapi.cpp) and the CRD (crd.cpp) are built from, so the two
// cannot drift from each other; tests/api/schema_test.cpp checks them against the spec model's
// validate() (what it refuses, the schema refuses wherever a schema can say it).
//
// The schemas are structural in Kubernetes' sense (apiextensions.k8s.io/v1): every node is typed,
// except the proposal dialect's per-image settings of spec.argocd (update-strategy, allow-tags,
// ignore-tags, platforms, secret), which are either one value for every image or a map alias ->
// value (a string or a list): a structural schema cannot say "string or map", so those nodes are
// `x-kubernetes-preserve-unknown-fields: true` without a type and validate() judges them.
// Rules a schema cannot state with types, enums, patterns and required fields are
// `x-kubernetes-validations` CEL rules (which engine's settings the effective engine needs,
// exactly one Flux policy, not both spec.argocd and spec.argo, ...). Unknown fields are not
// declared: the API server prunes them (kubectl's default strict field validation refuses them).
// No $ref: both users inline them. Texts are compact JSON with sorted keys.
#pragma once

#include <string>

namespace common::api::detail {

// The schema of `spec`.
std::string spec_schema_json();
// The schema of `status` (common/status's codec shape; unknown members are kept).
std::string status_schema_json();

} // namespace common::api::detail
