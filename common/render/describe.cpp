#include <string>
#include <vector>

#include "common/render/settings.hpp"

namespace common::render {

namespace {

std::string text(const std::string& v) {
  return v;
}
std::string text(bool v) {
  return v ? "true" : "false";
}
std::string text(RenderMode v) {
  return to_string(v);
}
std::string text(std::size_t v) {
  return std::to_string(v);
}
std::string text(std::chrono::nanoseconds v) {
  // Whole seconds and milliseconds as they are usually written; Go would print 2m0s.
  if (v.count() % 1'000'000'000 == 0) {
    return std::to_string(v.count() / 1'000'000'000) + "s";
  }
  if (v.count() % 1'000'000 == 0) {
    return std::to_string(v.count() / 1'000'000) + "ms";
  }
  return std::to_string(v.count()) + "ns";
}
std::string text(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& item : v) {
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}
std::string text(const std::map<std::string, std::string>& v) {
  std::string out;
  for (const auto& [key, value] : v) {
    out += (out.empty() ? "" : ",") + key + "=" + value;
  }
  return out;
}

template <class T>
void add(std::vector<std::string>& out, std::string_view name, const Value<T>& v) {
  std::string line = std::string(name) + "=" + text(v.value) + " (" + to_string(v.source);
  if (!v.origin.empty()) {
    line += " " + v.origin;
  }
  out.push_back(line + ")");
}

} // namespace

std::vector<std::string> describe(const Settings& s) {
  std::vector<std::string> out;
  add(out, "specs", s.specs);
  add(out, "keep-specs", s.keep_specs);
  add(out, "render", s.render);
  add(out, "include", s.include);
  add(out, "exclude", s.exclude);
  add(out, "recurse", s.recurse);
  add(out, "helm-release-name", s.helm_release_name);
  add(out, "helm-namespace", s.helm_namespace);
  add(out, "helm-values-files", s.helm_values_files);
  add(out, "helm-parameters", s.helm_parameters);
  add(out, "helm-string-parameters", s.helm_string_parameters);
  add(out, "helm-skip-crds", s.helm_skip_crds);
  add(out, "kube-version", s.kube_version);
  add(out, "kube-api-versions", s.kube_api_versions);
  add(out, "jsonnet-ext-vars", s.jsonnet_ext_vars);
  add(out, "jsonnet-ext-code", s.jsonnet_ext_code);
  add(out, "jsonnet-tlas", s.jsonnet_tlas);
  add(out, "jsonnet-tla-code", s.jsonnet_tla_code);
  add(out, "jsonnet-libs", s.jsonnet_libs);
  add(out, "pin-digests", s.pin_digests);
  add(out, "allow-empty", s.allow_empty);
  add(out, "strict", s.strict);
  add(out, "log-level", s.log_level);
  add(out, "argocd-namespace", s.argocd_namespace);
  add(out, "kustomize-build-options", s.kustomize_build_options);
  add(out, "render-timeout", s.render_timeout);
  add(out, "registries-conf", s.registries_conf);
  add(out, "secrets-dir", s.secrets_dir);
  add(out, "cache-dir", s.cache_dir);
  add(out, "cache-ttl", s.cache_ttl);
  add(out, "timeout", s.timeout);
  add(out, "parallel", s.parallel);
  return out;
}

} // namespace common::render
