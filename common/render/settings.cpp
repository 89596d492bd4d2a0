#include "common/render/settings.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

#include "common/util/duration.hpp"
#include "common/util/strings.hpp"

namespace common::render {

namespace {

using util::ErrorKind;

constexpr Scope k_operator = Scope::operator_only;

constexpr std::array k_settings{
    SettingInfo{"specs", SettingKind::array, "",
                "files holding the ImageUpdater specs, relative to the app directory and inside "
                "the repository (default: every ImageUpdater in the YAML/JSON files at its top)"},
    SettingInfo{"keep-specs", SettingKind::boolean, "false",
                "keep the ImageUpdater documents in the output"},
    SettingInfo{"render", SettingKind::string, "auto",
                "how to render the app directory: auto (Chart.yaml: helm, kustomization.yaml: "
                "kustomize, else plain), plain, kustomize or helm"},
    SettingInfo{"include", SettingKind::string, "*.yaml,*.yml,*.json,*.jsonnet",
                "plain directories: globs of the files to read (Argo CD's directory.include; "
                "comma-separated, {a,b} braces)"},
    SettingInfo{"exclude", SettingKind::string, "",
                "plain directories: globs of the files to leave out (directory.exclude)"},
    SettingInfo{"recurse", SettingKind::boolean, "false",
                "plain directories: read subdirectories too (directory.recurse)"},
    SettingInfo{"helm-release-name", SettingKind::string, "the Application's name",
                "helm: the release name"},
    SettingInfo{"helm-namespace", SettingKind::string, "$ARGOCD_APP_NAMESPACE",
                "helm: the release namespace"},
    SettingInfo{"helm-values-files", SettingKind::array, "",
                "helm: values files, relative to the app directory, inside the repository"},
    SettingInfo{"helm-parameters", SettingKind::map, "", "helm: --set key=value parameters"},
    SettingInfo{"helm-string-parameters", SettingKind::map, "",
                "helm: --set-string key=value parameters (Argo CD's forceString)"},
    SettingInfo{"helm-skip-crds", SettingKind::boolean, "false",
                "helm: leave out the chart's crds/ (default: --include-crds, as Argo CD)"},
    SettingInfo{"kube-version", SettingKind::string, "$KUBE_VERSION",
                "helm: the Kubernetes version templates see"},
    SettingInfo{"kube-api-versions", SettingKind::array, "$KUBE_API_VERSIONS",
                "helm: the API versions templates see"},
    SettingInfo{"jsonnet-ext-vars", SettingKind::map, "",
                "plain directories: Jsonnet external variables (strings)"},
    SettingInfo{"jsonnet-ext-code", SettingKind::map, "",
                "plain directories: Jsonnet external variables (Jsonnet code)"},
    SettingInfo{"jsonnet-tlas", SettingKind::map, "",
                "plain directories: Jsonnet top-level arguments (strings)"},
    SettingInfo{"jsonnet-tla-code", SettingKind::map, "",
                "plain directories: Jsonnet top-level arguments (Jsonnet code)"},
    SettingInfo{"jsonnet-libs", SettingKind::array, "",
                "plain directories: Jsonnet library directories, relative to the repository root"},
    SettingInfo{"pin-digests", SettingKind::boolean, "false",
                "write tag@digest for every update strategy, not only digest"},
    SettingInfo{"allow-empty", SettingKind::boolean, "false",
                "accept a render with no manifests (otherwise an error: with auto-prune, an "
                "empty render deletes everything the app deployed)"},
    SettingInfo{"strict", SettingKind::boolean, "false",
                "a governed image that matches nothing in the rendered manifests is an error, "
                "not a warning"},
    SettingInfo{"log-level", SettingKind::string, "info", "debug, info, warn or error"},
    SettingInfo{"argocd-namespace", SettingKind::string, "argocd",
                "Argo CD's control-plane namespace: the namespace of Applications whose "
                "ARGOCD_APP_NAME has no namespace part",
                k_operator},
    SettingInfo{"kustomize-build-options", SettingKind::string, "",
                "extra kustomize build flags, as argocd-cm's kustomize.buildOptions", k_operator},
    SettingInfo{"render-timeout", SettingKind::string, "60s",
                "bound on each rendering tool run (helm, kustomize, Jsonnet); Argo CD's own exec "
                "timeout is 90s",
                k_operator},
    SettingInfo{"registries-conf", SettingKind::string, "", "argocd-image-updater registries.conf",
                k_operator},
    SettingInfo{"secrets-dir", SettingKind::string, "", "directory of mounted pull secrets",
                k_operator},
    SettingInfo{"cache-dir", SettingKind::string, "", "shared registry cache directory",
                k_operator},
    SettingInfo{"cache-ttl", SettingKind::string, "2m",
                "how long cached registry answers are fresh", k_operator},
    SettingInfo{"timeout", SettingKind::string, "30s", "bound on all registry requests",
                k_operator},
    SettingInfo{"parallel", SettingKind::string, "4", "registry requests at once (1 to 64)",
                k_operator},
};

enum class Form { string, array, map };

// A value as found, before it is typed.
struct Raw {
  Form form = Form::string;
  std::string text;
  std::vector<std::string> items;
  std::map<std::string, std::string> entries;
  Source source = Source::default_value;
  std::string origin;
};

struct Parameter {
  Form form = Form::string;
  std::string text;
  std::vector<std::string> items;
  std::map<std::string, std::string> entries;
};

const SettingInfo& info(std::string_view name) {
  for (const auto& s : k_settings) {
    if (s.name == name) {
      return s;
    }
  }
  return k_settings.front(); // unreachable: names below are the table's
}

std::string where(const Raw& raw) {
  std::string s = to_string(raw.source);
  if (!raw.origin.empty()) {
    s += " " + raw.origin;
  }
  return s;
}

std::string shown(const Raw& raw) {
  switch (raw.form) {
  case Form::string:
    return util::quote(raw.text);
  case Form::array:
    return "an array";
  case Form::map:
    return "a map";
  }
  return {};
}

std::unexpected<util::Error> bad(std::string_view name, const Raw& raw, const std::string& why) {
  return util::fail(ErrorKind::invalid_input, "setting " + std::string(name) + " from " +
                                                  where(raw) + ": " + shown(raw) + " " + why);
}

// The first ',' outside {braces} (a glob's alternatives, "{*.yml,*.yaml}"), npos when none.
std::size_t top_level_comma(std::string_view text) {
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    } else if (text[i] == '{') {
      ++depth;
    } else if (text[i] == '}' && depth > 0) {
      --depth;
    } else if (text[i] == ',' && depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t comma = top_level_comma(text);
    const std::string_view item = util::trim(text.substr(0, comma));
    if (!item.empty()) {
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      return out;
    }
    text.remove_prefix(comma + 1);
  }
}

// ARGOCD_APP_PARAMETERS: [{"name": n, "string": s | "array": [..] | "map": {..}}, ...].
util::Result<std::map<std::string, Parameter>> parse_parameters(const std::string& text,
                                                                std::vector<std::string>& unknown) {
  std::map<std::string, Parameter> out;
  const auto malformed = [&](const std::string& why) {
    return util::fail(ErrorKind::invalid_input,
                      "ARGOCD_APP_PARAMETERS: " + why + ": " + util::quote(text));
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return malformed(std::string("not JSON (") + e.what() + ")");
  }
  if (doc.is_null()) {
    return out; // Argo CD marshals a plugin source without parameters as `null`
  }
  if (!doc.is_array()) {
    return malformed("not a JSON list");
  }
  for (const auto& entry : doc) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
      return malformed("an entry without a string \"name\"");
    }
    const std::string name = entry["name"].get<std::string>();
    Parameter p;
    if (auto it = entry.find("map"); it != entry.end() && !it->is_null()) {
      if (!it->is_object()) {
        return malformed("\"map\" of " + name + " is not an object");
      }
      p.form = Form::map;
      for (auto kv = it->begin(); kv != it->end(); ++kv) {
        if (!kv.value().is_string()) {
          return malformed("map entry " + kv.key() + " of " + name + " is not a string");
        }
        p.entries.emplace(kv.key(), kv.value().get<std::string>());
      }
    } else if (auto arr = entry.find("array"); arr != entry.end() && !arr->is_null()) {
      if (!arr->is_array()) {
        return malformed("\"array\" of " + name + " is not a list");
      }
      p.form = Form::array;
      for (const auto& item : *arr) {
        if (!item.is_string()) {
          return malformed("an item of " + name + " is not a string");
        }
        p.items.push_back(item.get<std::string>());
      }
    } else if (auto str = entry.find("string"); str != entry.end() && !str->is_null()) {
      if (!str->is_string()) {
        return malformed("\"string\" of " + name + " is not a string");
      }
      p.text = str->get<std::string>();
    }
    const bool known = std::any_of(k_settings.begin(), k_settings.end(),
                                   [&](const SettingInfo& s) { return s.name == name; });
    if (!known) {
      unknown.push_back(name);
    }
    out.emplace(name, std::move(p)); // the first of duplicate names wins
  }
  std::sort(unknown.begin(), unknown.end());
  unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
  return out;
}

bool empty(const Raw& raw) {
  switch (raw.form) {
  case Form::string:
    return raw.text.empty();
  case Form::array:
    return std::none_of(raw.items.begin(), raw.items.end(),
                        [](const std::string& s) { return !util::trim(s).empty(); });
  case Form::map:
    return raw.entries.empty();
  }
  return true;
}

class Finder {
public:
  Finder(const EnvLookup& env, const std::map<std::string, Parameter>& params)
      : m_env(env), m_params(params) {}

  // The first non-empty value of the setting: for an application setting from parameters,
  // plugin env, environment; for an operator setting from the environment only (an application
  // giving one is refused).
  util::Result<std::optional<Raw>> find(const SettingInfo& s) const {
    std::optional<Raw> from_app = find_app(s);
    if (from_app && s.scope == Scope::operator_only) {
      return util::fail(ErrorKind::invalid_input,
                        "setting " + std::string(s.name) + " is operator configuration: it is " +
                            "read only from the sidecar's environment (" + env_variable(s.name) +
                            "), not from the Application's " + where(*from_app) +
                            " (the application's repository and plugin parameters are not "
                            "trusted to choose it)");
    }
    if (from_app) {
      return from_app;
    }
    return variable(env_variable(s.name), Source::environment);
  }

  std::string get(const std::string& name) const { return m_env(name).value_or(""); }

private:
  // From the Application: its plugin parameters (ARGOCD_APP_PARAMETERS, PARAM_*) or plugin env
  // (ARGOCD_ENV_*).
  std::optional<Raw> find_app(const SettingInfo& s) const {
    if (auto it = m_params.find(std::string(s.name)); it != m_params.end()) {
      Raw raw{it->second.form,    it->second.text,   it->second.items,
              it->second.entries, Source::parameter, "ARGOCD_APP_PARAMETERS"};
      if (!empty(raw)) {
        return raw;
      }
    }
    const std::string param = param_variable(s.name);
    if (s.kind == SettingKind::array) {
      Raw raw{Form::array, {}, {}, {}, Source::parameter, param + "_0"};
      for (std::size_t i = 0;; ++i) {
        auto item = m_env(param + "_" + std::to_string(i));
        if (!item) {
          break;
        }
        raw.items.push_back(*item);
      }
      if (!empty(raw)) {
        return raw;
      }
    }
    if (s.kind != SettingKind::map) { // PARAM_<NAME>_<KEY> loses the keys' spelling
      if (auto r = variable(param, Source::parameter)) {
        return r;
      }
    }
    return variable(plugin_env_variable(s.name), Source::plugin_env);
  }

  std::optional<Raw> variable(const std::string& name, Source source) const {
    auto value = m_env(name);
    if (!value || value->empty()) {
      return std::nullopt;
    }
    return Raw{Form::string, *value, {}, {}, source, name};
  }

  const EnvLookup& m_env;
  const std::map<std::string, Parameter>& m_params;
};

Raw default_raw(const std::string& text, std::string origin = {}) {
  return Raw{Form::string, text, {}, {}, Source::default_value, std::move(origin)};
}

template <class T>
Value<T> value_of(T v, const Raw& raw) {
  return Value<T>{std::move(v), raw.source, raw.origin};
}

util::Result<Value<std::string>> as_string(std::string_view name, const Raw& raw) {
  if (raw.form != Form::string) {
    return bad(name, raw, "is not a string");
  }
  return value_of(raw.text, raw);
}

util::Result<Value<bool>> as_bool(std::string_view name, const Raw& raw) {
  auto s = as_string(name, raw);
  if (!s) {
    return std::unexpected(s.error());
  }
  const std::string_view text = util::trim(s->value);
  if (util::iequals(text, "true") || util::iequals(text, "false")) {
    return value_of(util::iequals(text, "true"), raw);
  }
  return bad(name, raw, "is not true or false");
}

util::Result<Value<std::vector<std::string>>> as_list(std::string_view name, const Raw& raw) {
  switch (raw.form) {
  case Form::string:
    return value_of(split_list(raw.text), raw);
  case Form::array: {
    std::vector<std::string> items;
    for (const auto& item : raw.items) {
      if (const auto t = util::trim(item); !t.empty()) {
        items.emplace_back(t);
      }
    }
    return value_of(std::move(items), raw);
  }
  case Form::map:
    break;
  }
  return bad(name, raw, "is not a list");
}

util::Result<Value<std::map<std::string, std::string>>> as_map(std::string_view name,
                                                               const Raw& raw) {
  if (raw.form == Form::map) {
    return value_of(raw.entries, raw);
  }
  if (raw.form == Form::array) {
    return bad(name, raw, "is not a map");
  }
  std::map<std::string, std::string> entries;
  for (const auto& item : split_list(raw.text)) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return bad(name, raw, "has an entry that is not key=value: " + util::quote(item));
    }
    entries.emplace(std::string(util::trim(item.substr(0, eq))), item.substr(eq + 1));
  }
  return value_of(std::move(entries), raw);
}

util::Result<Value<RenderMode>> as_mode(std::string_view name, const Raw& raw) {
  auto s = as_string(name, raw);
  if (!s) {
    return std::unexpected(s.error());
  }
  const std::string text = util::to_lower(util::trim(s->value));
  for (RenderMode m :
       {RenderMode::auto_detect, RenderMode::plain, RenderMode::kustomize, RenderMode::helm}) {
    if (text == to_string(m)) {
      return value_of(m, raw);
    }
  }
  return bad(name, raw, "is not auto, plain, kustomize or helm");
}

util::Result<Value<std::string>> as_level(std::string_view name, const Raw& raw) {
  auto s = as_string(name, raw);
  if (!s) {
    return std::unexpected(s.error());
  }
  const std::string text = util::to_lower(util::trim(s->value));
  for (const char* level : {"debug", "info", "warn", "error"}) {
    if (text == level) {
      return value_of(text, raw);
    }
  }
  return bad(name, raw, "is not debug, info, warn or error");
}

util::Result<Value<std::chrono::nanoseconds>> as_duration(std::string_view name, const Raw& raw) {
  auto s = as_string(name, raw);
  if (!s) {
    return std::unexpected(s.error());
  }
  auto d = util::parse_go_duration(util::trim(s->value));
  if (!d) {
    return bad(name, raw, "is not a duration such as 30s or 2m");
  }
  if (d->count() < 0) {
    return bad(name, raw, "is negative");
  }
  return value_of(*d, raw);
}

util::Result<Value<std::size_t>> as_parallel(std::string_view name, const Raw& raw) {
  auto s = as_string(name, raw);
  if (!s) {
    return std::unexpected(s.error());
  }
  const std::string_view text = util::trim(s->value);
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > 64) {
    return bad(name, raw, "is not a number from 1 to 64");
  }
  return value_of(n, raw);
}

// Resolves one setting into `out` with `convert`, from the sources or else from `fallback`.
template <class T, class Convert>
util::Result<void> resolve_one(const Finder& finder, std::string_view name, const Raw& fallback,
                               Convert convert, Value<T>& out) {
  const auto found = finder.find(info(name));
  if (!found) {
    return std::unexpected(found.error());
  }
  auto converted = convert(name, *found ? **found : fallback);
  if (!converted) {
    return std::unexpected(converted.error());
  }
  out = std::move(*converted);
  return {};
}

} // namespace

const char* to_string(SettingKind kind) noexcept {
  switch (kind) {
  case SettingKind::string:
    return "string";
  case SettingKind::boolean:
    return "bool";
  case SettingKind::array:
    return "array";
  case SettingKind::map:
    return "map";
  }
  return "string";
}

const char* to_string(Source source) noexcept {
  switch (source) {
  case Source::parameter:
    return "parameter";
  case Source::plugin_env:
    return "plugin env";
  case Source::environment:
    return "environment";
  case Source::default_value:
    return "default";
  }
  return "default";
}

const char* to_string(RenderMode mode) noexcept {
  switch (mode) {
  case RenderMode::auto_detect:
    return "auto";
  case RenderMode::plain:
    return "plain";
  case RenderMode::kustomize:
    return "kustomize";
  case RenderMode::helm:
    return "helm";
  }
  return "auto";
}

std::span<const SettingInfo> setting_table() noexcept {
  return k_settings;
}

std::string escape_param(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    const char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const bool keep = (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_';
    out += keep ? u : '_';
  }
  return out;
}

std::string param_variable(std::string_view name) {
  return "PARAM_" + escape_param(name);
}

std::string env_variable(std::string_view name) {
  return "IMAGEUPDATER_" + escape_param(name);
}

std::string plugin_env_variable(std::string_view name) {
  return "ARGOCD_ENV_" + env_variable(name);
}

namespace {

// DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63.
bool dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// DNS-1123 subdomain: labels joined by '.', at most 253.
bool dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  while (true) {
    const std::size_t dot = s.find('.');
    if (!dns_label(s.substr(0, dot))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    s.remove_prefix(dot + 1);
  }
}

} // namespace

util::Result<AppIdentity> parse_app_identity(std::string_view app_name,
                                             std::string_view control_plane_namespace) {
  AppIdentity out;
  out.instance = std::string(app_name);
  if (app_name.empty()) {
    out.namespace_ = std::string(control_plane_namespace);
    return out;
  }
  const std::size_t cut = app_name.find('_');
  const std::string_view ns =
      cut == std::string_view::npos ? control_plane_namespace : app_name.substr(0, cut);
  const std::string_view name = cut == std::string_view::npos ? app_name : app_name.substr(cut + 1);
  if (!dns_label(ns)) {
    return util::fail(ErrorKind::invalid_input,
                      "ARGOCD_APP_NAME " + util::quote(app_name) + ": the namespace " +
                          util::quote(ns) + " is not a Kubernetes namespace name" +
                          (cut == std::string_view::npos ? " (it is the argocd-namespace setting)"
                                                         : " (the part before '_')"));
  }
  if (!dns_subdomain(name)) {
    return util::fail(ErrorKind::invalid_input, "ARGOCD_APP_NAME " + util::quote(app_name) +
                                                    ": the application name " + util::quote(name) +
                                                    " is not a Kubernetes object name");
  }
  out.namespace_ = std::string(ns);
  out.name = std::string(name);
  return out;
}

util::Result<Settings> resolve_settings(const EnvLookup& env) {
  Settings s;
  std::map<std::string, Parameter> params;
  if (auto json = env("ARGOCD_APP_PARAMETERS"); json && !util::trim(*json).empty()) {
    auto parsed = parse_parameters(*json, s.unknown_parameters);
    if (!parsed) {
      return std::unexpected(parsed.error());
    }
    params = std::move(*parsed);
  }
  const Finder f(env, params);
  const Raw none = default_raw("");
  util::Result<void> r;
  // Chained so that the first bad setting is the error.
  const auto step = [&r](util::Result<void> next) {
    if (r) {
      r = std::move(next);
    }
  };
  step(resolve_one(f, "argocd-namespace", default_raw("argocd"), as_string, s.argocd_namespace));
  if (r) {
    auto app = parse_app_identity(f.get("ARGOCD_APP_NAME"), s.argocd_namespace.value);
    if (!app) {
      return std::unexpected(app.error());
    }
    s.app = std::move(*app);
  }
  step(resolve_one(f, "specs", none, as_list, s.specs));
  step(resolve_one(f, "keep-specs", default_raw("false"), as_bool, s.keep_specs));
  step(resolve_one(f, "render", default_raw("auto"), as_mode, s.render));
  step(resolve_one(f, "include", default_raw("*.yaml,*.yml,*.json,*.jsonnet"), as_list, s.include));
  step(resolve_one(f, "exclude", none, as_list, s.exclude));
  step(resolve_one(f, "recurse", default_raw("false"), as_bool, s.recurse));
  // Argo CD names the release after the Application, without the namespace part of
  // "<namespace>_<name>" ("team-a_web" is no valid release name).
  step(resolve_one(f, "helm-release-name", default_raw(s.app.name, "ARGOCD_APP_NAME"), as_string,
                   s.helm_release_name));
  step(resolve_one(f, "helm-namespace",
                   default_raw(f.get("ARGOCD_APP_NAMESPACE"), "ARGOCD_APP_NAMESPACE"), as_string,
                   s.helm_namespace));
  step(resolve_one(f, "helm-values-files", none, as_list, s.helm_values_files));
  step(resolve_one(f, "helm-parameters", none, as_map, s.helm_parameters));
  step(resolve_one(f, "helm-string-parameters", none, as_map, s.helm_string_parameters));
  step(resolve_one(f, "helm-skip-crds", default_raw("false"), as_bool, s.helm_skip_crds));
  step(resolve_one(f, "kube-version", default_raw(f.get("KUBE_VERSION"), "KUBE_VERSION"), as_string,
                   s.kube_version));
  step(resolve_one(f, "kube-api-versions",
                   default_raw(f.get("KUBE_API_VERSIONS"), "KUBE_API_VERSIONS"), as_list,
                   s.kube_api_versions));
  step(resolve_one(f, "jsonnet-ext-vars", none, as_map, s.jsonnet_ext_vars));
  step(resolve_one(f, "jsonnet-ext-code", none, as_map, s.jsonnet_ext_code));
  step(resolve_one(f, "jsonnet-tlas", none, as_map, s.jsonnet_tlas));
  step(resolve_one(f, "jsonnet-tla-code", none, as_map, s.jsonnet_tla_code));
  step(resolve_one(f, "jsonnet-libs", none, as_list, s.jsonnet_libs));
  step(resolve_one(f, "pin-digests", default_raw("false"), as_bool, s.pin_digests));
  step(resolve_one(f, "allow-empty", default_raw("false"), as_bool, s.allow_empty));
  step(resolve_one(f, "strict", default_raw("false"), as_bool, s.strict));
  step(resolve_one(f, "log-level", default_raw("info"), as_level, s.log_level));
  step(resolve_one(f, "kustomize-build-options", none, as_string, s.kustomize_build_options));
  step(resolve_one(f, "render-timeout", default_raw("60s"), as_duration, s.render_timeout));
  step(resolve_one(f, "registries-conf", none, as_string, s.registries_conf));
  step(resolve_one(f, "secrets-dir", none, as_string, s.secrets_dir));
  step(resolve_one(f, "cache-dir", none, as_string, s.cache_dir));
  step(resolve_one(f, "cache-ttl", default_raw("2m"), as_duration, s.cache_ttl));
  step(resolve_one(f, "timeout", default_raw("30s"), as_duration, s.timeout));
  step(resolve_one(f, "parallel", default_raw("4"), as_parallel, s.parallel));
  if (!r) {
    return std::unexpected(r.error());
  }
  return s;
}

} // namespace common::render
