#include "argocd-cmp/app.hpp"

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "argocd-cmp/generate_cmd.hpp"
#include "argocd-cmp/inject_cmd.hpp"
#include "argocd-cmp/io.hpp"
#include "argocd-cmp/policy_cmd.hpp"
#include "argocd-cmp/resolve_cmd.hpp"
#include "argocd-cmp/validate_cmd.hpp"

namespace argocd_cmp {

namespace {

constexpr const char* k_version = "0.1.0";

void add_policy(CLI::App& app, PolicyArgs& a) {
  auto* cmd = app.add_subcommand(
      "policy", "Choose a tag from a list on stdin (one a line, or TAG<TAB>RFC3339-created).\n"
                "Prints the chosen tag. Exit 0: chosen; 1: no tag qualifies; 2: bad input.");
  cmd->add_option("--strategy,-s", a.strategy,
                  "semver | newest-build (alias latest) | alphabetical (alias name) | numerical | "
                  "digest")
      ->capture_default_str();
  cmd->add_option("--constraint,-c", a.constraint,
                  "semver constraint (Masterminds syntax: ^1.2, ~1.2.3, >=1.0 <2, 1.x || 2.x; "
                  "empty = *); for digest: the tag to track");
  cmd->add_option("--allow-tags", a.allow_tags,
                  "'any' or 'regexp:<RE2>' (unanchored): only matching tags are considered");
  cmd->add_option("--ignore-tags", a.ignore_tags,
                  "glob(s) of tags to ignore, comma-separated or repeated (e.g. '*-dev,*-rc*')");
  cmd->add_option("--platforms", a.platforms,
                  "os/arch[/variant][,...]: checked here; used by resolve to filter manifests");
  cmd->add_option("--filter-pattern", a.filter_pattern,
                  "Flux filterTags.pattern: RE2 a tag must match (unanchored)");
  cmd->add_option("--filter-extract", a.filter_extract,
                  "Flux filterTags.extract: what the policy compares, e.g. '$ts' or '${1}'");
  cmd->add_option("--order", a.order, "asc | desc, for alphabetical and numerical")
      ->capture_default_str();
  cmd->add_option("--dialect", a.dialect,
                  "argocd: lenient semver (Argo CD Image Updater); flux: three-part semver "
                  "(Flux ImagePolicy)")
      ->capture_default_str();
  cmd->add_flag("--include-signature-tags", a.include_signature_tags,
                "consider *.sig, *.att and *.sbom tags (dropped by default)");
  cmd->add_flag("--explain", a.explain, "list on stderr why each tag was kept or dropped");
}

void add_validate(CLI::App& app, ValidateArgs& a) {
  auto* cmd = app.add_subcommand(
      "validate", "Check ImageUpdater specs; print every problem as FILE:LINE:COL: error|warning: "
                  "message. Exit 2 when any error.");
  cmd->add_option("-f,--filename,files", a.files,
                  "YAML file(s) with ImageUpdater documents; - = stdin")
      ->required();
}

void add_resolve(CLI::App& app, ResolveArgs& a) {
  auto* cmd = app.add_subcommand(
      "resolve", "Resolve every image of every ImageUpdater in the files against its registry: "
                 "the chosen tag, its digest, the strategy, the constraint and why.\n"
                 "Exit 0: all resolved; 1: some failed (all are printed); 2: bad input.");
  cmd->add_option("-f,--filename,files", a.files,
                  "YAML file(s) with ImageUpdater documents; - = stdin")
      ->required();
  cmd->add_option("-o,--output", a.output, "table | json | yaml")->capture_default_str();
  cmd->add_option("--cache-dir", a.cache_dir,
                  "shared cache directory [env IMAGEUPDATER_CACHE_DIR; default "
                  "$XDG_CACHE_HOME/imageupdater or ~/.cache/imageupdater]");
  cmd->add_option("--cache-ttl", a.cache_ttl,
                  "how long tag lists, tag digests and build times are reused (Go duration) "
                  "[env IMAGEUPDATER_CACHE_TTL; default 2m]");
  cmd->add_flag("--no-cache", a.no_cache, "do not use the disk cache");
  cmd->add_option("--registries-conf", a.registries_conf,
                  "argocd-image-updater registries.conf [env IMAGEUPDATER_REGISTRIES_CONF]");
  cmd->add_option("--secrets-dir", a.secrets_dir,
                  "where pull secrets are mounted: <dir>/<namespace>/<name>/.dockerconfigjson "
                  "or <dir>/<name>/... [env IMAGEUPDATER_SECRETS_DIR]");
  cmd->add_option("--timeout", a.timeout,
                  "deadline for the whole run (Go duration; 0 = none): no request, retry or "
                  "wait goes past it, images left fail with a deadline error "
                  "[env IMAGEUPDATER_TIMEOUT; default 30s]");
  cmd->add_option("--parallel", a.parallel,
                  "images resolved at once, and build times fetched at once per image for "
                  "newest-build (1-64; each registry's rate limit still applies) "
                  "[env IMAGEUPDATER_PARALLEL; default 4]");
}

void add_inject(CLI::App& app, InjectArgs& a) {
  auto* cmd = app.add_subcommand(
      "inject",
      "Put images into manifests: rewrite exactly the governed image values (containers, "
      "Kustomize images:, Flux $imagepolicy markers) of a stream (stdin -> stdout) or of the "
      "YAML files of a directory, every other byte kept.\n"
      "Exit 0: done (also when nothing changed); 2: bad arguments or input (nothing written).");
  cmd->add_option("--image", a.images,
                  "REPO=NEWREF: images named REPO (nginx = docker.io/library/nginx) get NEWREF: "
                  "a full reference (renames), :TAG, @DIGEST or :TAG@DIGEST; repeatable");
  cmd->add_option("--setter", a.setters,
                  "NS:NAME=IMAGE:TAG[@DIGEST]: the value of Flux markers "
                  "# {\"$imagepolicy\": \"NS:NAME[:tag|:name|:digest]\"}; repeatable");
  cmd->add_option("--path", a.path,
                  "edit the *.yaml, *.yml and Kustomization files under this directory instead "
                  "of stdin");
  cmd->add_flag("--in-place", a.in_place, "with --path: rewrite the changed files in place");
  cmd->add_option("--out", a.out,
                  "with --path: write the changed files only, at their relative paths, here");
  cmd->add_option("--changes", a.changes,
                  "write the change record (file, object, field, line, old, new, by) as JSON "
                  "to this file");
}

void add_plugin(CLI::App& app, GenerateArgs& generate, GenerateArgs& discover) {
  auto* gen = app.add_subcommand(
      "generate",
      "Argo CD plugin: render the application directory (plain, Kustomize or Helm), resolve its "
      "ImageUpdater images and inject them; only manifests on stdout, logs on stderr.\n"
      "Exit 0: done (also without ImageUpdater); 1: rendering, resolving or injecting failed "
      "(also: zero manifests without allow-empty, an unmatched image under strict); 2: bad "
      "settings, specs or repository content (refused before rendering).");
  gen->add_option("--path", generate.path, "the application directory")->capture_default_str();
  gen->footer(settings_help());
  auto* dis = app.add_subcommand(
      "discover", "Argo CD plugin discovery: print the files with an ImageUpdater for this "
                  "application (ARGOCD_APP_NAME); print nothing when there is none.");
  dis->add_option("--path", discover.path, "the application directory")->capture_default_str();
  // Internal: the Jsonnet evaluator generate runs as a child process (hidden from --help).
  app.add_subcommand("jsonnet-eval", "evaluate a Jsonnet job read on stdin")->group("");
}

} // namespace

int run(int argc, char** argv) {
  try {
    CLI::App app{"imageupdater-cmp: resolve ImageUpdater specs to the newest acceptable images "
                 "(Argo CD Config Management Plugin and command-line tool)",
                 "imageupdater-cmp"};
    app.set_version_flag("--version", k_version);
    app.require_subcommand(1);
    PolicyArgs policy_args;
    ValidateArgs validate_args;
    ResolveArgs resolve_args;
    InjectArgs inject_args;
    GenerateArgs generate_args;
    GenerateArgs discover_args;
    add_policy(app, policy_args);
    add_validate(app, validate_args);
    add_resolve(app, resolve_args);
    add_inject(app, inject_args);
    add_plugin(app, generate_args, discover_args);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      int code = app.exit(e); // prints help or the error
      return code == 0 ? k_exit_ok : k_exit_usage;
    }
    Io io;
    if (app.got_subcommand("policy")) {
      return run_policy(policy_args, io);
    }
    if (app.got_subcommand("validate")) {
      return run_validate(validate_args, io);
    }
    if (app.got_subcommand("resolve")) {
      return run_resolve(resolve_args, io);
    }
    if (app.got_subcommand("inject")) {
      return run_inject(inject_args, io);
    }
    if (app.got_subcommand("generate")) {
      return run_generate(generate_args, io);
    }
    if (app.got_subcommand("discover")) {
      return run_discover(discover_args, io);
    }
    if (app.got_subcommand("jsonnet-eval")) {
      return run_jsonnet_eval(io);
    }
    return k_exit_usage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "imageupdater-cmp: internal error: %s\n", e.what());
    return k_exit_usage + 1;
  }
}

} // namespace argocd_cmp
