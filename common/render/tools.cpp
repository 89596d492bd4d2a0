// Kustomize and Helm through process::Runner, and the dispatch between the renderers.
#include <filesystem>

#include "common/render/detail.hpp"
#include "common/util/dir.hpp"
#include "common/util/strings.hpp"

namespace common::render {

namespace {

using util::ErrorKind;

bool is_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

// The last `max` bytes of a tool's stderr, trimmed, starting at a line when one starts in the
// cut; "(no output on stderr)" when there is none.
std::string stderr_tail(const process::Output& out, std::size_t max) {
  std::string_view s = util::trim(out.stderr_data);
  bool cut = out.stderr_dropped > 0;
  if (s.size() > max) {
    s.remove_prefix(s.size() - max);
    cut = true;
    if (const std::size_t nl = s.find('\n'); nl != std::string_view::npos && nl + 1 < s.size()) {
      s.remove_prefix(nl + 1);
    }
  }
  if (s.empty()) {
    return "(no output on stderr)";
  }
  return (cut ? "...\n" : "") + std::string(s);
}

// Runs a tool in the app directory; only a clean exit yields its stdout.
util::Result<std::string> run_tool(const std::string& app_dir, std::vector<std::string> argv,
                                   const std::string& shown, const RenderOptions& options,
                                   process::Runner& runner) {
  process::Command command;
  command.argv = std::move(argv);
  command.cwd = app_dir;
  command.env = options.tool_env;
  command.timeout = options.timeout;
  command.max_stdout = options.max_output;
  command.max_stderr = std::max<std::size_t>(options.max_error_tail, 1) * 4;
  auto ran = runner.run(command);
  if (!ran) {
    return util::fail(ran.error().kind, shown + ": " + ran.error().message);
  }
  if (!ran->success()) {
    return util::fail(ErrorKind::invalid_input, shown + " " + ran->status_text() + ":\n" +
                                                    stderr_tail(*ran, options.max_error_tail));
  }
  return std::move(ran->stdout_data);
}

util::Result<void> check_option_value(const std::string& what, const std::string& value) {
  if (value.starts_with('-')) {
    return util::fail(ErrorKind::invalid_input,
                      what + " " + util::quote(value) + " must not start with '-'");
  }
  return {};
}

// helm's --set splits on unescaped commas; a value's commas are data (as Argo CD escapes them).
std::string escape_set_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ',') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

} // namespace

namespace detail {

util::Result<Rendered> render_kustomize(const std::string& app_dir, const RenderOptions& options,
                                        process::Runner& runner) {
  std::vector<std::string> argv;
  std::string shown;
  if (auto kustomize = process::find_program("kustomize", options.path_var)) {
    argv = {*kustomize, "build", "."};
    shown = "kustomize build";
  } else if (auto kubectl = process::find_program("kubectl", options.path_var)) {
    argv = {*kubectl, "kustomize", "."};
    shown = "kubectl kustomize";
  } else {
    return util::fail(ErrorKind::not_found,
                      app_dir +
                          " is a Kustomize directory, but neither kustomize nor kubectl is "
                          "on the PATH (" +
                          options.path_var +
                          "): install kustomize (https://kubectl.docs.kubernetes.io/installation/"
                          "kustomize/) or kubectl in the plugin's image");
  }
  Rendered out;
  out.mode = RenderMode::kustomize;
  out.command = argv;
  auto manifests = run_tool(app_dir, std::move(argv), shown, options, runner);
  if (!manifests) {
    return std::unexpected(manifests.error());
  }
  out.manifests = std::move(*manifests);
  return out;
}

util::Result<Rendered> render_helm(const std::string& app_dir, const RenderOptions& options,
                                   process::Runner& runner) {
  if (options.helm_release_name.empty()) {
    return util::fail(ErrorKind::invalid_input,
                      app_dir + " is a Helm chart, but the release name is empty (set "
                                "helm-release-name, or ARGOCD_APP_NAME)");
  }
  auto helm = process::find_program("helm", options.path_var);
  if (!helm) {
    return util::fail(ErrorKind::not_found,
                      app_dir + " is a Helm chart, but helm is not on the PATH (" +
                          options.path_var +
                          "): install helm v3 (https://helm.sh/docs/intro/install/) in the "
                          "plugin's image");
  }
  for (auto ok : {check_option_value("helm-release-name", options.helm_release_name),
                  check_option_value("helm-namespace", options.helm_namespace),
                  check_option_value("kube-version", options.kube_version)}) {
    if (!ok) {
      return std::unexpected(ok.error());
    }
  }
  std::vector<std::string> argv{*helm, "template", options.helm_release_name, "."};
  if (!options.helm_namespace.empty()) {
    argv.insert(argv.end(), {"--namespace", options.helm_namespace});
  }
  for (const auto& file : options.helm_values_files) {
    if (auto ok = check_option_value("helm-values-files", file); !ok) {
      return std::unexpected(ok.error());
    }
    argv.insert(argv.end(), {"-f", file});
  }
  for (const auto& [key, value] : options.helm_parameters) {
    if (auto ok = check_option_value("helm-parameters", key); !ok) {
      return std::unexpected(ok.error());
    }
    argv.insert(argv.end(), {"--set", key + "=" + escape_set_value(value)});
  }
  if (!options.kube_version.empty()) {
    argv.insert(argv.end(), {"--kube-version", options.kube_version});
  }
  for (const auto& api : options.kube_api_versions) {
    if (auto ok = check_option_value("kube-api-versions", api); !ok) {
      return std::unexpected(ok.error());
    }
    argv.insert(argv.end(), {"--api-versions", api});
  }
  Rendered out;
  out.mode = RenderMode::helm;
  out.command = argv;
  auto manifests = run_tool(app_dir, std::move(argv), "helm template", options, runner);
  if (!manifests) {
    return std::unexpected(manifests.error());
  }
  out.manifests = std::move(*manifests);
  return out;
}

} // namespace detail

RenderOptions render_options(const Settings& s) {
  RenderOptions o;
  o.mode = s.render.value;
  o.include = s.include.value;
  o.exclude = s.exclude.value;
  o.recurse = s.recurse.value;
  o.helm_release_name = s.helm_release_name.value;
  o.helm_namespace = s.helm_namespace.value;
  o.helm_values_files = s.helm_values_files.value;
  o.helm_parameters = s.helm_parameters.value;
  o.kube_version = s.kube_version.value;
  o.kube_api_versions = s.kube_api_versions.value;
  return o;
}

RenderMode detect_mode(const std::string& app_dir, RenderMode requested) {
  if (requested != RenderMode::auto_detect) {
    return requested;
  }
  if (is_file(app_dir + "/Chart.yaml")) {
    return RenderMode::helm;
  }
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    if (is_file(app_dir + "/" + name)) {
      return RenderMode::kustomize;
    }
  }
  return RenderMode::plain;
}

util::Result<Rendered> render(const std::string& app_dir, const RenderOptions& options,
                              process::Runner& runner) {
  std::error_code ec;
  if (!std::filesystem::is_directory(app_dir, ec)) {
    return util::fail(ErrorKind::not_found, app_dir + ": no such directory");
  }
  switch (detect_mode(app_dir, options.mode)) {
  case RenderMode::helm:
    return detail::render_helm(app_dir, options, runner);
  case RenderMode::kustomize:
    return detail::render_kustomize(app_dir, options, runner);
  case RenderMode::auto_detect:
  case RenderMode::plain:
    break;
  }
  return detail::render_plain(app_dir, options);
}

util::Result<std::vector<std::string>> top_level_manifest_files(const std::string& app_dir) {
  util::ListOptions list;
  list.select = [](std::string_view name) {
    return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
  };
  auto listed = util::list_files(app_dir, list);
  if (!listed) {
    return std::unexpected(listed.error());
  }
  std::vector<std::string> out;
  for (const auto& file : *listed) {
    if (file.skipped.empty() && file.relative.find('/') == std::string::npos) {
      out.push_back(file.relative);
    }
  }
  return out;
}

} // namespace common::render
