#include "common/spec/model.hpp"

#include <type_traits>

namespace common::spec {

std::string_view to_string(Engine engine) noexcept {
  return engine == Engine::fluxcd ? "fluxcd" : "argocd";
}

std::string_view to_string(WriteMethod write) noexcept {
  return write == WriteMethod::git ? "git" : "argocd";
}

Location Source::find(std::string_view field) const {
  auto it = fields.find(field);
  return it == fields.end() ? at : it->second;
}

namespace {

template <class T>
const T* setting(const std::map<std::string, T>& per_alias, const std::optional<T>& fallback,
                 const std::string& alias) {
  auto it = per_alias.find(alias);
  if (it != per_alias.end()) {
    return &it->second;
  }
  return fallback ? &*fallback : nullptr;
}

ImageSettings argo_settings(const ArgoSettings& argo, const ImageEntry& entry) {
  ImageSettings out;
  const std::string& alias = entry.spec.alias;
  policy::Options& o = out.policy;
  if (const auto* s = setting(argo.update_strategy, argo.defaults.update_strategy, alias)) {
    o.strategy = *s;
  }
  // The anchors hand the constraint only to the strategies that read it.
  if (o.strategy == policy::Strategy::semver || o.strategy == policy::Strategy::digest) {
    o.constraint = entry.spec.constraint;
  }
  o.dialect = policy::SemverDialect::masterminds;
  if (const auto* s = setting(argo.allow_tags, argo.defaults.allow_tags, alias)) {
    o.allow_tags = *s;
  }
  if (const auto* s = setting(argo.ignore_tags, argo.defaults.ignore_tags, alias)) {
    o.ignore_tags = *s;
  }
  if (const auto* s = setting(argo.platforms, argo.defaults.platforms, alias)) {
    out.platforms = *s;
  }
  if (const auto* s = setting(argo.secrets, argo.defaults.secret, alias)) {
    out.credentials = *s;
  }
  return out;
}

ImageSettings flux_settings(const ImageUpdater& updater, const FluxSettings& flux) {
  ImageSettings out;
  policy::Options& o = out.policy;
  o.dialect = policy::SemverDialect::flux;
  if (flux.policy) {
    std::visit(
        [&](const auto& p) {
          using P = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<P, SemverPolicy>) {
            o.strategy = policy::Strategy::semver;
            o.constraint = p.range;
          } else if constexpr (std::is_same_v<P, AlphabeticalPolicy>) {
            o.strategy = policy::Strategy::alphabetical;
            o.order = p.order;
          } else {
            o.strategy = policy::Strategy::numerical;
            o.order = p.order;
          }
        },
        *flux.policy);
  }
  if (flux.filter_tags) {
    o.filter_pattern = flux.filter_tags->pattern;
    o.filter_extract = flux.filter_tags->extract;
  }
  if (!flux.secret.empty()) {
    std::string ns =
        updater.metadata.namespace_.empty() ? std::string("default") : updater.metadata.namespace_;
    out.credentials = "pullsecret:" + ns + "/" + flux.secret;
  }
  return out;
}

} // namespace

ImageSettings image_settings(const ImageUpdater& updater, const ImageEntry& entry) {
  if (updater.kind == Engine::fluxcd) {
    return flux_settings(updater, updater.fluxcd ? *updater.fluxcd : FluxSettings{});
  }
  return argo_settings(updater.argocd ? *updater.argocd : ArgoSettings{}, entry);
}

policy::Options policy_options(const ImageUpdater& updater, const ImageEntry& entry) {
  return image_settings(updater, entry).policy;
}

} // namespace common::spec
