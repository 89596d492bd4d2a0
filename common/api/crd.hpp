// The ImageUpdater CustomResourceDefinition (apiextensions.k8s.io/v1) and the names the API
// announces in discovery, from the same schemas as the OpenAPI document (schema.hpp), so the
// CRD, openapi.json and validate() cannot drift (tests/api/crd_test.cpp compares the committed
// kustomize/crd file with crd_yaml() and the schema with validate()).
//
// imageupdaters.gitops.kubesphere.io: group gitops.kubesphere.io, version v1alpha1 (served,
// storage), namespaced, kind ImageUpdater, short names k_short_names, category k_category (not
// `all`: `kubectl get all` stays as it was), the status subresource, and printer columns Kind
// (.spec.kind), Ready (the Ready condition's status), Images (the chosen tags,
// .status.images[*].tag), Last check (.status.lastCheckTime) and Age. Argo CD Image Updater
// 1.x's own `ImageUpdater` lives in another group (argocd-image-updater.argoproj.io); its
// objects are not ours (the spec model skips them with a warning).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace common::api {

inline constexpr std::string_view k_crd_name = "imageupdaters.gitops.kubesphere.io";
inline constexpr std::string_view k_singular = "imageupdater";
inline constexpr std::string_view k_list_kind = "ImageUpdaterList";
inline constexpr std::array<std::string_view, 2> k_short_names = {"iu", "imgupd"};
inline constexpr std::string_view k_category = "imageupdater";

// The CRD as a YAML document (block style, keys sorted, a header comment saying where it comes
// from); what `imageupdater-flux-source crd` prints and kustomize/crd holds. Deterministic.
std::string crd_yaml();

// The CRD as compact JSON (keys sorted).
std::string crd_json();

// The printer columns as a JSON array of {name, type, jsonPath, description?, priority?}
// (apiextensions' CustomResourceColumnDefinition); the Table answers use the same.
std::string printer_columns_json();

} // namespace common::api
