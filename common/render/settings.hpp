// The settings of `imageupdater-cmp generate`, as Argo CD's cmp-server hands them over: each is
// read from the first of plugin parameter (ARGOCD_APP_PARAMETERS, PARAM_*), plugin env
// (ARGOCD_ENV_<VAR>), sidecar environment (<VAR>) and its default. Variables come through an
// injected lookup, so this never reads the process environment itself. Pure otherwise.
//
// Naming: setting "helm-values-files" has the sidecar variable IMAGEUPDATER_HELM_VALUES_FILES
// ("IMAGEUPDATER_" + the escaped name), the plugin env ARGOCD_ENV_IMAGEUPDATER_HELM_VALUES_FILES,
// and the parameter "helm-values-files" (in ARGOCD_APP_PARAMETERS, or PARAM_HELM_VALUES_FILES,
// PARAM_HELM_VALUES_FILES_0, _1, ...). Argo CD escapes parameter names (and map keys) by
// upper-casing them and turning every byte outside [A-Z0-9_] into '_'.
//
// Values: an empty value (and an empty array or map) counts as not set, so the next source is
// asked. Arrays given as a string (a PARAM_<NAME>, a variable) are comma-separated; maps given as
// a string are comma-separated key=value pairs. Map parameters are read from
// ARGOCD_APP_PARAMETERS only: PARAM_<NAME>_<KEY> loses the key's spelling ("image.tag" ->
// IMAGE_TAG). Items are trimmed of ASCII white space; empty items are dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::render {

enum class SettingKind { string, boolean, array, map };
const char* to_string(SettingKind kind) noexcept; // "string", "bool", "array", "map"

// Who may set a setting. In a multi-tenant Argo CD the application's repository, its plugin
// parameters and its plugin env are written by an app team: untrusted. The sidecar's own
// environment belongs to the platform. Operator settings (anything that selects credentials,
// reads outside the application, or spends shared resources) are read from the sidecar's
// environment only; given as a plugin parameter or plugin env they are an error naming them.
enum class Scope { app, operator_only };

struct SettingInfo {
  std::string_view name; // "helm-values-files"
  SettingKind kind;
  std::string_view default_text; // for --help: "false", "$ARGOCD_APP_NAME", "" (none)
  std::string_view description;  // one line
  Scope scope = Scope::app;
};

// Every setting, in the order --help lists them (and plugin.yaml announces them).
std::span<const SettingInfo> setting_table() noexcept;

// Argo CD's escaping: upper case, every byte not in [A-Z0-9_] -> '_' ("image.tag" -> "IMAGE_TAG").
std::string escape_param(std::string_view name);
// "PARAM_" + escape_param(name).
std::string param_variable(std::string_view name);
// "IMAGEUPDATER_" + escape_param(name): the sidecar variable of a setting.
std::string env_variable(std::string_view name);
// "ARGOCD_ENV_" + env_variable(name): the plugin env variable of a setting.
std::string plugin_env_variable(std::string_view name);

enum class Source { parameter, plugin_env, environment, default_value };
const char*
to_string(Source source) noexcept; // "parameter", "plugin env", "environment", "default"

// A resolved value and where it came from, for logs.
template <class T>
struct Value {
  T value{};
  Source source = Source::default_value;
  std::string origin; // the variable read ("PARAM_SPECS_0", "ARGOCD_APP_PARAMETERS",
                      // "IMAGEUPDATER_RENDER"); for a default, the variable it is taken from
                      // ("ARGOCD_APP_NAME") or ""
};

enum class RenderMode { auto_detect, plain, kustomize, helm };
const char* to_string(RenderMode mode) noexcept; // "auto", "plain", "kustomize", "helm"

// The Application being rendered. Argo CD passes ARGOCD_APP_NAME as "<namespace>_<name>" for an
// Application outside its control-plane namespace ("apps in any namespace") and as "<name>"
// inside it (Kubernetes names hold no '_', so the split is unambiguous).
struct AppIdentity {
  std::string name;       // "web"; "" when ARGOCD_APP_NAME is unset (run by hand)
  std::string namespace_; // "team-a", or the control-plane namespace for a plain name
  std::string instance;   // ARGOCD_APP_NAME as given
};

struct Settings {
  // Application settings (plugin parameter > plugin env > sidecar environment > default).
  Value<std::vector<std::string>> specs;   // empty: discover (ImageUpdaters at the top)
  Value<bool> keep_specs;                  // false
  Value<RenderMode> render;                // auto
  Value<std::vector<std::string>> include; // *.yaml, *.yml, *.json (and *.jsonnet)
  Value<std::vector<std::string>> exclude; // none
  Value<bool> recurse;                     // false, as Argo CD's directory.recurse
  Value<std::string> helm_release_name;    // the Application's name (ARGOCD_APP_NAME, bare)
  Value<std::string> helm_namespace;       // $ARGOCD_APP_NAMESPACE
  Value<std::vector<std::string>> helm_values_files;
  Value<std::map<std::string, std::string>> helm_parameters;        // --set, key order
  Value<std::map<std::string, std::string>> helm_string_parameters; // --set-string
  Value<bool> helm_skip_crds;                                       // false: --include-crds
  Value<std::string> kube_version;                                  // $KUBE_VERSION
  Value<std::vector<std::string>> kube_api_versions;                // $KUBE_API_VERSIONS
  Value<std::map<std::string, std::string>> jsonnet_ext_vars;       // std.extVar strings
  Value<std::map<std::string, std::string>> jsonnet_ext_code;       // std.extVar code
  Value<std::map<std::string, std::string>> jsonnet_tlas;           // top-level args, strings
  Value<std::map<std::string, std::string>> jsonnet_tla_code;       // top-level args, code
  Value<std::vector<std::string>> jsonnet_libs; // library dirs, relative to the repository root
  Value<bool> pin_digests;                      // false
  Value<bool> allow_empty;                      // false: zero manifests is an error
  Value<bool> strict;                           // false: an image matching nothing warns
  Value<std::string> log_level;                 // info
  // Operator settings (sidecar environment > default).
  Value<std::string> argocd_namespace;            // argocd: Argo CD's control-plane namespace
  Value<std::string> kustomize_build_options;     // "" (argocd-cm kustomize.buildOptions)
  Value<std::chrono::nanoseconds> render_timeout; // 60s, per tool run
  Value<std::string> registries_conf;             // "" = none
  Value<std::string> secrets_dir;                 // "" = none
  Value<std::string> cache_dir;                   // "" = the caller's default
  Value<std::chrono::nanoseconds> cache_ttl;      // 2m, Go duration, >= 0
  Value<std::chrono::nanoseconds> timeout;        // 30s, Go duration, >= 0
  Value<std::size_t> parallel;                    // 4, from 1 to 64
  // Names in ARGOCD_APP_PARAMETERS that are no setting (sorted, unique): the caller logs them.
  std::vector<std::string> unknown_parameters;
  AppIdentity app; // from ARGOCD_APP_NAME and argocd-namespace
};

// Splits `app_name` (ARGOCD_APP_NAME). Fails (invalid_input, quoting it) when a part is not a
// Kubernetes name (a DNS-1123 label for the namespace, a subdomain for the name).
util::Result<AppIdentity> parse_app_identity(std::string_view app_name,
                                             std::string_view control_plane_namespace);

// Returns a variable's value, nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Resolves every setting. ARGOCD_APP_PARAMETERS that is absent, empty, the JSON text `null` (what
// Argo CD sends for a plugin source without parameters) or `[]` means no parameters.
// Fails with invalid_input naming the setting, the source (variable) and the bad value: a bool
// that is not true/false (any case), an unknown render mode or log level, a bad duration or
// parallel count, a map entry without '=', a collection type that does not fit the setting (an
// array for a string setting), malformed ARGOCD_APP_PARAMETERS JSON (not a list of objects with
// a string "name"), and an operator setting given as a plugin parameter or plugin env (naming the
// setting, where it was given and the sidecar variable that sets it).
util::Result<Settings> resolve_settings(const EnvLookup& env);

// "render=kustomize (plugin env ARGOCD_ENV_IMAGEUPDATER_RENDER)": one line per setting for logs,
// in table order; map and array values comma-joined.
std::vector<std::string> describe(const Settings& settings);

} // namespace common::render
