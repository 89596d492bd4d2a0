// Rendering an Argo CD application directory into one manifest stream, as Argo CD itself would:
// plain YAML/JSON files, Kustomize or Helm. Tools are found on a given PATH (process::
// find_program) and run through process::Runner, so tests substitute a fake runner. Nothing is
// returned on failure: a caller never sees partial output.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "common/process/runner.hpp"
#include "common/render/settings.hpp"
#include "common/util/error.hpp"

namespace common::render {

struct RenderOptions {
  RenderMode mode = RenderMode::auto_detect;
  // The repository the application lives in (canonical): every file an application setting
  // names must resolve inside it, and a symlink leaving it fails the render. "" = the app
  // directory itself.
  std::string repo_root;
  bool symlinks_checked = false; // the caller ran check_symlinks(repo_root) already
  // Plain directories, as Argo CD's directory source: files named *.yaml, *.yml, *.json or
  // *.jsonnet; `exclude` then `include` globs (gobwas/glob without separators: '*' also matches
  // '/'; {a,b} alternatives) matched against each file's path relative to the app directory;
  // empty include = every manifest file.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool recurse = false;
  // Jsonnet (plain directories): evaluated by `jsonnet_program` (argv prefix, e.g.
  // {"/usr/bin/imageupdater-cmp", "jsonnet-eval"}) in a child process; empty: a .jsonnet file
  // is an error.
  std::vector<std::string> jsonnet_program;
  std::map<std::string, std::string> jsonnet_ext_vars, jsonnet_ext_code, jsonnet_tlas,
      jsonnet_tla_code;
  std::vector<std::string> jsonnet_libs; // relative to the repository root
  // Helm.
  std::string helm_release_name; // required for helm
  std::string helm_namespace;    // "" = no --namespace
  std::vector<std::string> helm_values_files;
  std::map<std::string, std::string> helm_parameters;        // --set
  std::map<std::string, std::string> helm_string_parameters; // --set-string
  bool helm_skip_crds = false;                               // false: --include-crds
  std::string kube_version;
  std::vector<std::string> kube_api_versions;
  // Kustomize: extra build flags (operator configuration, whitespace-separated as Argo CD's
  // kustomize.buildOptions).
  std::vector<std::string> kustomize_build_options;
  // Tools: looked up on path_var, run with exactly tool_env as their environment, with the app
  // directory as working directory.
  std::string path_var;
  std::vector<std::string> tool_env;
  std::chrono::milliseconds timeout{60000};        // per tool run (Argo CD's exec timeout is 90 s)
  std::size_t max_output = std::size_t{256} << 20; // the stream, whatever produced it
  std::size_t max_error_tail = 4096;               // bytes of a failing tool's stderr reported
};

// The options a Settings asks for (mode, include/exclude, recurse, helm-*, kube-*); the caller
// fills path_var, tool_env and the bounds.
RenderOptions render_options(const Settings& settings);

struct Rendered {
  std::string manifests;
  RenderMode mode = RenderMode::plain; // what was used (never auto_detect)
  std::vector<std::string> files;      // plain: the files read, relative, in output order
  std::vector<std::string> skipped;    // plain: "relative: why" for symlinks not followed
  std::vector<std::string> command;    // kustomize/helm: the argv run (the last one)
  std::vector<std::string> warnings;   // what a successful tool said on stderr, a line each;
                                       // "helm dependency build" when it had to run
};

// auto: Chart.yaml -> helm, else kustomization.yaml, kustomization.yml or Kustomization ->
// kustomize, else plain. Other modes are returned as they are.
RenderMode detect_mode(const std::string& app_dir, RenderMode requested);

// Renders `app_dir`, first refusing a repository (options.repo_root, else app_dir) that holds a
// symlink leaving it (confine.hpp).
// Plain: the selected files, sorted by relative path (byte order), hidden directories skipped,
// each file's documents after a "---" line (none before the first; a file that starts with
// "---" or is empty gets none), a UTF-8 BOM dropped; a .jsonnet file gives its objects as JSON
// documents (jsonnet.hpp). Kustomize: `kustomize build . [options]` when kustomize is on the
// PATH, else `kubectl kustomize . [options]`. Helm, as Argo CD builds it: `helm template .
// --name-template RELEASE [--namespace NS] [--kube-version V] [--set K=V]... [--set-string
// K=V]... [--values FILE]... [--api-versions A]... [--include-crds]` (commas in values escaped
// as Argo CD does, values files resolved inside the repository); when helm reports dependencies
// missing from charts/, `helm dependency build` (file:// dependencies must lie inside the
// repository) and the template again.
// Fails with: not_found (the directory; a missing tool, naming it and how to install it; a
// values file or Jsonnet library that does not exist), invalid_input (a file that is not UTF-8
// text or holds a NUL, naming it; a bad glob; a helm release name that is empty or an option
// value starting with '-'; a path or symlink leaving the repository; a tool that failed: its
// exit status and the tail of its stderr; Jsonnet errors), too_large (more than max_output),
// transient (a tool's timeout), internal (the runner could not start the tool).
util::Result<Rendered> render(const std::string& app_dir, const RenderOptions& options,
                              process::Runner& runner);

// The files at the top of `app_dir` (not in subdirectories) named *.yaml, *.yml or *.json,
// sorted: where ImageUpdater specs are looked for by default. Relative names. Fails like
// util::list_files.
util::Result<std::vector<std::string>> top_level_manifest_files(const std::string& app_dir);

} // namespace common::render
