// Kustomize and Helm through process::Runner, and the dispatch between the renderers.
#include <filesystem>

#include "common/render/confine.hpp"
#include "common/render/detail.hpp"
#include "common/util/dir.hpp"
#include "common/util/file.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"
#include "common/yamlscan/scan.hpp"

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

// The non-empty lines of a successful tool's stderr (its warnings), each trimmed.
std::vector<std::string> stderr_lines(const process::Output& out) {
  std::vector<std::string> lines;
  std::string_view rest = out.stderr_data;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = util::trim(rest.substr(0, nl));
    if (!line.empty()) {
      lines.emplace_back(line);
    }
    if (nl == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(nl + 1);
  }
  return lines;
}

// Runs a tool in the app directory: its output whatever its exit status (the runner's own
// failures, such as a timeout, are errors).
util::Result<process::Output> start_tool(const std::string& app_dir, std::vector<std::string> argv,
                                         const std::string& shown, const RenderOptions& options,
                                         process::Runner& runner) {
  process::Command command;
  command.argv = std::move(argv);
  command.cwd = app_dir;
  command.env = options.tool_env;
  command.timeout = options.timeout;
  command.max_stdout = options.max_output;
  command.max_stderr = std::max<std::size_t>(options.max_error_tail, 1) * 4;
  return util::with_context(runner.run(command), shown);
}

// Only a clean exit yields the tool's output; any other is an error quoting its stderr's tail.
util::Result<process::Output> finish_tool(util::Result<process::Output> ran,
                                          const std::string& shown, const RenderOptions& options) {
  if (ran && !ran->success()) {
    return util::fail(ErrorKind::invalid_input, shown + " " + ran->status_text() + ":\n" +
                                                    stderr_tail(*ran, options.max_error_tail));
  }
  return ran;
}

util::Result<process::Output> run_tool(const std::string& app_dir, std::vector<std::string> argv,
                                       const std::string& shown, const RenderOptions& options,
                                       process::Runner& runner) {
  return finish_tool(start_tool(app_dir, std::move(argv), shown, options, runner), shown, options);
}

util::Result<void> check_option_value(const std::string& what, const std::string& value) {
  if (value.starts_with('-')) {
    return util::fail(ErrorKind::invalid_input,
                      what + " " + util::quote(value) + " must not start with '-'");
  }
  return {};
}

// helm's --set splits on unescaped commas; a value's commas are data. Argo CD's
// cleanSetParameters: a "{...}" value is helm's list syntax and stays as it is; otherwise every
// ',' not already preceded by '\\' gets one.
std::string escape_set_value(const std::string& value) {
  if (value.starts_with('{') && value.ends_with('}')) {
    return value;
  }
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == ',' && (i == 0 || value[i - 1] != '\\')) {
      out += '\\';
    }
    out += value[i];
  }
  return out;
}

struct ChartDependency {
  std::string name;
  std::string repository;
};

// Chart.yaml's dependencies (name, repository), read with the position-keeping scanner; none
// when the file has no such list. Fails (invalid_input) when Chart.yaml does not parse.
util::Result<std::vector<ChartDependency>> chart_dependencies(const std::string& app_dir) {
  const std::string text = IU_TRY(util::read_file(app_dir + "/Chart.yaml", std::size_t{4} << 20));
  yamlscan::Scanner scanner(text);
  auto doc = scanner.next();
  if (!doc) {
    return util::fail(ErrorKind::invalid_input, "Chart.yaml: " + doc.error().message);
  }
  std::vector<ChartDependency> out;
  if (!*doc || (*doc)->root == yamlscan::k_no_node) {
    return out;
  }
  const yamlscan::Document& d = **doc;
  const auto scalar = [&](yamlscan::NodeId mapping, std::string_view key) {
    const yamlscan::NodeId v = yamlscan::value_of(d, mapping, key);
    return v != yamlscan::k_no_node && d.nodes[v].kind == yamlscan::NodeKind::scalar
               ? d.nodes[v].value
               : std::string();
  };
  const yamlscan::NodeId deps = yamlscan::value_of(d, d.root, "dependencies");
  if (deps == yamlscan::k_no_node || d.nodes[deps].kind != yamlscan::NodeKind::sequence) {
    return out;
  }
  for (const yamlscan::NodeId id : d.nodes[deps].children) {
    out.push_back(ChartDependency{scalar(id, "name"), scalar(id, "repository")});
  }
  return out;
}

bool missing_dependencies(const std::string& helm_stderr) {
  return helm_stderr.find("found in Chart.yaml, but missing in charts/ directory") !=
             std::string::npos ||
         helm_stderr.find("found in requirements.yaml, but missing in charts") != std::string::npos;
}

// `helm dependency build`, after checking that every file:// dependency lies inside the
// repository (helm would package whatever directory it names into charts/).
util::Result<void> build_dependencies(const std::string& app_dir, const std::string& root,
                                      const std::string& helm, const RenderOptions& options,
                                      process::Runner& runner) {
  const std::vector<ChartDependency> deps = IU_TRY(chart_dependencies(app_dir));
  std::string listed;
  for (const auto& dep : deps) {
    listed += (listed.empty() ? "" : ", ") + dep.name + " (" +
              (dep.repository.empty() ? std::string("no repository") : dep.repository) + ")";
    if (dep.repository.starts_with("file://")) {
      IU_TRY(resolve_inside(root, app_dir, dep.repository.substr(7),
                            "Chart.yaml dependency " + dep.name + " repository"));
    }
  }
  auto built =
      run_tool(app_dir, {helm, "dependency", "build"}, "helm dependency build", options, runner);
  if (!built) {
    return util::fail(
        built.error().kind,
        "Chart.yaml lists dependencies that charts/ lacks (" + listed +
            ") and they could not be built offline or fetched: " + built.error().message);
  }
  return {};
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
  // Operator configuration (argocd-cm's kustomize.buildOptions), after "build <dir>" as Argo CD
  // puts them.
  argv.insert(argv.end(), options.kustomize_build_options.begin(),
              options.kustomize_build_options.end());
  Rendered out;
  out.mode = RenderMode::kustomize;
  out.command = argv;
  auto ran = run_tool(app_dir, std::move(argv), shown, options, runner);
  if (!ran) {
    return std::unexpected(ran.error());
  }
  out.manifests = std::move(ran->stdout_data);
  out.warnings = stderr_lines(*ran);
  return out;
}

util::Result<Rendered> render_helm(const std::string& app_dir, const std::string& root,
                                   const RenderOptions& options, process::Runner& runner) {
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
    IU_TRY(ok);
  }
  // Argo CD's order (util/helm/cmd.go template): name, namespace, kube version, --set,
  // --set-string, values files, API versions, --include-crds.
  std::vector<std::string> argv{*helm, "template", ".", "--name-template",
                                options.helm_release_name};
  if (!options.helm_namespace.empty()) {
    argv.insert(argv.end(), {"--namespace", options.helm_namespace});
  }
  if (!options.kube_version.empty()) {
    argv.insert(argv.end(), {"--kube-version", options.kube_version});
  }
  for (const auto& [flag, params] : {std::pair{"--set", &options.helm_parameters},
                                     std::pair{"--set-string", &options.helm_string_parameters}}) {
    for (const auto& [key, value] : *params) {
      if (auto ok = check_option_value(flag == std::string_view("--set") ? "helm-parameters"
                                                                         : "helm-string-parameters",
                                       key);
          !ok) {
        return std::unexpected(ok.error());
      }
      argv.insert(argv.end(), {flag, key + "=" + escape_set_value(value)});
    }
  }
  for (const auto& file : options.helm_values_files) {
    // Inside the repository, symlinks followed (Argo CD: "resolved to outside repository
    // root"); an absolute path is relative to the repository root.
    argv.insert(argv.end(),
                {"--values", IU_TRY(resolve_inside(root, app_dir, file, "helm-values-files"))});
  }
  for (const auto& api : options.kube_api_versions) {
    IU_TRY(check_option_value("kube-api-versions", api));
    argv.insert(argv.end(), {"--api-versions", api});
  }
  if (!options.helm_skip_crds) {
    argv.emplace_back("--include-crds");
  }
  Rendered out;
  out.mode = RenderMode::helm;
  out.command = argv;
  auto ran = start_tool(app_dir, argv, "helm template", options, runner);
  // helm's own words on stderr (before they become an error message) tell a chart whose
  // dependencies are not vendored.
  if (ran && !ran->success() && missing_dependencies(ran->stderr_data)) {
    // As Argo CD: build them and template again.
    IU_TRY(build_dependencies(app_dir, root, *helm, options, runner));
    out.warnings.push_back("helm dependency build: the chart's dependencies were not in charts/");
    ran = start_tool(app_dir, argv, "helm template", options, runner);
  }
  ran = finish_tool(std::move(ran), "helm template", options);
  if (!ran) {
    return std::unexpected(ran.error());
  }
  out.manifests = std::move(ran->stdout_data);
  for (auto& line : stderr_lines(*ran)) {
    out.warnings.push_back(std::move(line));
  }
  return out;
}

} // namespace detail

RenderOptions render_options(const Settings& s) {
  RenderOptions o;
  o.mode = s.render.value;
  o.include = s.include.value;
  o.exclude = s.exclude.value;
  o.recurse = s.recurse.value;
  o.jsonnet_ext_vars = s.jsonnet_ext_vars.value;
  o.jsonnet_ext_code = s.jsonnet_ext_code.value;
  o.jsonnet_tlas = s.jsonnet_tlas.value;
  o.jsonnet_tla_code = s.jsonnet_tla_code.value;
  o.jsonnet_libs = s.jsonnet_libs.value;
  o.helm_release_name = s.helm_release_name.value;
  o.helm_namespace = s.helm_namespace.value;
  o.helm_values_files = s.helm_values_files.value;
  o.helm_parameters = s.helm_parameters.value;
  o.helm_string_parameters = s.helm_string_parameters.value;
  o.helm_skip_crds = s.helm_skip_crds.value;
  o.kustomize_build_options = util::split_fields(s.kustomize_build_options.value);
  if (s.render_timeout.value.count() > 0) {
    o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s.render_timeout.value);
  }
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
  std::string root = options.repo_root;
  if (root.empty()) {
    root = std::filesystem::canonical(app_dir, ec).string();
  }
  if (!is_within(root, std::filesystem::canonical(app_dir, ec).string())) {
    return util::fail(ErrorKind::invalid_input,
                      app_dir + " is not inside the repository root " + root);
  }
  // Argo CD's repo-server refuses such a repository for every source type: a tool following the
  // link would read the sidecar's files (mounted secrets) into the manifests.
  if (auto ok = options.symlinks_checked ? util::Result<void>{} : check_symlinks(root); !ok) {
    return std::unexpected(ok.error());
  }
  switch (detect_mode(app_dir, options.mode)) {
  case RenderMode::helm:
    return detail::render_helm(app_dir, root, options, runner);
  case RenderMode::kustomize:
    return detail::render_kustomize(app_dir, options, runner);
  case RenderMode::auto_detect:
  case RenderMode::plain:
    break;
  }
  return detail::render_plain(app_dir, root, options, runner);
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
