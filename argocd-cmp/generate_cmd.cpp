#include "argocd-cmp/generate_cmd.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sys/resource.h>
#include <unistd.h>
#include <variant>

#include "argocd-cmp/registry_run.hpp"
#include "common/log/logger.hpp"
#include "common/manifest/documents.hpp"
#include "common/manifest/rewrite.hpp"
#include "common/plugin/selection.hpp"
#include "common/plugin/specs.hpp"
#include "common/process/runner.hpp"
#include "common/render/confine.hpp"
#include "common/render/jsonnet.hpp"
#include "common/render/render.hpp"
#include "common/render/settings.hpp"
#include "common/resolve/overrides.hpp"
#include "common/spec/diagnostic.hpp"
#include "common/util/clock.hpp"
#include "common/util/outcome.hpp"

extern char** environ; // NOLINT: POSIX; read once, handed to the tools as their environment

namespace argocd_cmp {

namespace {

namespace render = common::render;
namespace plugin = common::plugin;
namespace manifest = common::manifest;
using common::log::Level;
using common::log::Logger;

// Exit codes, as --help states them: 1 rendering, resolving or injecting failed; 2 bad settings,
// specs or repository content (refused before anything is rendered).
constexpr int k_exit_render_failed = 1;

std::optional<std::string> getenv_string(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::nullopt : std::optional<std::string>(v);
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    out.emplace_back(*e);
  }
  return out;
}

// This executable, for the Jsonnet evaluator it runs as a child ("" when unknown).
std::string self_program() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.string();
}

bool is_updater(const manifest::ObjectId& id) {
  return id.kind == "ImageUpdater" && id.api_version.starts_with("gitops.kubesphere.io/");
}

// The specs that apply to this application, or an exit code.
struct Specs {
  std::vector<common::spec::ImageUpdater> updaters;
  std::vector<std::string> files;
};
std::variant<Specs, int> load_specs(const std::string& dir, const std::string& root,
                                    const render::Settings& settings, Logger& log) {
  const auto& app = settings.app;
  auto found = plugin::find_specs(dir, settings.specs.value, root, app.namespace_);
  if (!found) {
    log.error("specs: " + found.error().message);
    // A spec path the settings name that does not exist is a bad setting (2), not the "no" that
    // not_found is for the table; the rest as util::outcome says (bad specs 2, I/O 1).
    const auto kind = found.error().kind;
    return kind == common::util::ErrorKind::not_found ? k_exit_usage
                                                      : common::util::outcome(kind).exit_code;
  }
  for (const auto& d : found->diagnostics) {
    log.log(d.severity == common::spec::Severity::error ? Level::error : Level::warn,
            common::spec::format(d));
  }
  if (common::spec::has_errors(found->diagnostics)) {
    log.error("the ImageUpdater specs have errors (listed above)");
    return k_exit_usage;
  }
  auto selected = plugin::select_for_app(std::move(found->updaters), app.name, app.namespace_);
  for (const auto& s : selected.skipped) {
    log.info("skipped ImageUpdater " + s);
  }
  if (auto ok = plugin::check_credentials(selected.updaters, app.namespace_); !ok) {
    log.error(ok.error().message);
    return k_exit_usage;
  }
  return Specs{std::move(selected.updaters), std::move(found->files)};
}

// Values files and Jsonnet libraries are named by the application: they must lie inside its
// repository (checked again where they are used).
common::util::Result<void> check_named_paths(const render::Settings& s, const std::string& dir,
                                             const std::string& root) {
  for (const auto& file : s.helm_values_files.value) {
    if (auto ok = render::resolve_inside(root, dir, file, "helm-values-files");
        !ok && ok.error().kind != common::util::ErrorKind::not_found) {
      return std::unexpected(ok.error());
    }
  }
  for (const auto& lib : s.jsonnet_libs.value) {
    if (auto ok = render::resolve_inside(root, root, lib, "jsonnet-libs");
        !ok && ok.error().kind != common::util::ErrorKind::not_found) {
      return std::unexpected(ok.error());
    }
  }
  return {};
}

// Resolves and injects; the new stream, or an exit code.
std::variant<std::string, int> inject(const std::vector<common::spec::ImageUpdater>& updaters,
                                      const render::Settings& settings, std::string stream,
                                      Logger& log) {
  RegistryRun run;
  run.registries_conf = settings.registries_conf.value;
  run.secrets_dir = settings.secrets_dir.value;
  run.cache_dir = settings.cache_dir.value;
  run.cache_ttl = settings.cache_ttl.value;
  run.timeout = settings.timeout.value;
  run.parallel = settings.parallel.value;
  auto results = resolve_images(updaters, run, log);
  if (!results) {
    log.error(results.error().message);
    return k_exit_usage; // the operator's registries.conf
  }
  for (const auto& r : *results) {
    if (!r.error) {
      log.info(r.reason, {{"updater", r.updater},
                          {"alias", r.alias},
                          {"image", r.image},
                          {"tag", r.tag},
                          {"digest", r.digest}});
    }
  }
  auto overrides =
      common::resolve::overrides_from(*results, {.pin_digests = settings.pin_digests.value});
  if (!overrides) {
    log.error(overrides.error().message);
    return k_exit_render_failed;
  }
  // Only a complete resolution has a fingerprint worth comparing. It is a debug line: hashing
  // loads libcrypto, about 3 ms of a warm render that otherwise never needs it.
  if (log.enabled(common::log::Level::debug)) {
    log.debug("resolved images", {{"fingerprint", plugin::fingerprint(*results)}});
  }
  auto rewriter = manifest::Rewriter::create(*overrides);
  if (!rewriter) {
    log.error(rewriter.error().message);
    return k_exit_render_failed;
  }
  auto rewritten = rewriter->rewrite(stream, "rendered manifests");
  if (!rewritten) {
    log.error(rewritten.error().message);
    return k_exit_render_failed;
  }
  for (const auto& row : manifest::to_rows(rewritten->changes)) {
    log.info("image injected",
             {{"object", row.object.kind + " " + row.object.namespace_name + "/" + row.object.name},
              {"field", row.change.field},
              {"old", row.change.old_value},
              {"new", row.change.new_value}});
  }
  // A spec that silently does nothing is visible: each governed image must match something.
  std::size_t unmatched = 0;
  for (std::size_t i = 0; i < overrides->images.size(); ++i) {
    if (i < rewritten->matches.size() && rewritten->matches[i] > 0) {
      continue;
    }
    ++unmatched;
    const auto& o = overrides->images[i];
    log.log(settings.strict.value ? Level::error : Level::warn,
            "governed image matches nothing in the rendered manifests",
            {{"image", o.repository}, {"by", o.label}});
  }
  if (unmatched > 0 && settings.strict.value) {
    log.error(std::to_string(unmatched) +
              " governed image(s) match nothing in the rendered manifests (strict)");
    return k_exit_render_failed;
  }
  return std::move(rewritten->output);
}

} // namespace

std::string settings_help() {
  std::string out = "Settings (plugin parameter > plugin env ARGOCD_ENV_IMAGEUPDATER_* > "
                    "environment IMAGEUPDATER_* > default;\noperator settings only from the "
                    "sidecar's environment):\n";
  for (const auto& s : render::setting_table()) {
    out += "  " + std::string(s.name) + " (" + render::to_string(s.kind) + ", " +
           render::env_variable(s.name) +
           (s.default_text.empty() ? std::string() : ", default " + std::string(s.default_text)) +
           (s.scope == render::Scope::operator_only ? ", operator only" : "") +
           "): " + std::string(s.description) + "\n";
  }
  return out;
}

int run_generate(const GenerateArgs& args, const Io& io) {
  common::util::SystemClock clock;
  auto settings = render::resolve_settings(getenv_string);
  if (!settings) {
    Logger log(io.err, clock);
    log.error(settings.error().message);
    return k_exit_usage;
  }
  const Level level = *common::log::parse_level(settings->log_level.value);
  Logger log(io.err, clock, common::log::Format::logfmt, level);
  for (const auto& line : render::describe(*settings)) {
    log.debug("setting " + line);
  }
  for (const auto& name : settings->unknown_parameters) {
    log.warn("unknown plugin parameter ignored", {{"parameter", name}});
  }

  // The repository, refused whole when it holds a symlink that leaves it: from here on every
  // file read is the application's own.
  auto root =
      render::repository_root(args.path, getenv_string("ARGOCD_APP_SOURCE_PATH").value_or(""));
  if (!root) {
    log.error(root.error().message);
    return k_exit_usage;
  }
  if (auto ok = render::check_symlinks(*root); !ok) {
    log.error(ok.error().message);
    return k_exit_usage;
  }
  if (auto ok = check_named_paths(*settings, args.path, *root); !ok) {
    log.error(ok.error().message);
    return k_exit_usage;
  }

  auto specs = load_specs(args.path, *root, *settings, log);
  if (const int* code = std::get_if<int>(&specs)) {
    return *code;
  }
  auto& updaters = std::get<Specs>(specs).updaters;

  common::process::SystemRunner runner;
  render::RenderOptions options = render::render_options(*settings);
  options.repo_root = *root;
  options.symlinks_checked = true;
  options.path_var = getenv_string("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
  options.tool_env = process_environment();
  if (const std::string self = self_program(); !self.empty()) {
    options.jsonnet_program = {self, "jsonnet-eval"};
  }
  auto rendered = render::render(args.path, options, runner);
  if (!rendered) {
    log.error("rendering failed: " + rendered.error().message);
    return k_exit_render_failed;
  }
  log.info("rendered",
           {{"mode", render::to_string(rendered->mode)}, {"bytes", rendered->manifests.size()}});
  for (const auto& w : rendered->warnings) {
    log.warn(w, {{"tool", render::to_string(rendered->mode)}});
  }
  for (const auto& s : rendered->skipped) {
    log.warn("not rendered: " + s);
  }

  // One pass: the specs out (unless keep-specs), and a count of what is left.
  const bool keep_specs = settings->keep_specs.value;
  auto filtered = manifest::drop_documents(
      rendered->manifests, "rendered manifests",
      [keep_specs](const manifest::ObjectId& id) { return !keep_specs && is_updater(id); });
  if (!filtered) {
    log.error(filtered.error().message);
    return k_exit_render_failed;
  }
  std::string stream = std::move(filtered->output);
  // With auto-prune, an empty render deletes everything the application deployed.
  if (!settings->allow_empty.value && filtered->kept == 0) {
    log.error("the application rendered no manifests; refusing to hand Argo CD an empty app "
              "(with auto-prune it would delete everything deployed). Set allow-empty=true if "
              "that is intended");
    return k_exit_render_failed;
  }

  if (!updaters.empty()) {
    auto injected = inject(updaters, *settings, std::move(stream), log);
    if (const int* code = std::get_if<int>(&injected)) {
      return *code;
    }
    stream = std::move(std::get<std::string>(injected));
  } else {
    log.info("no ImageUpdater for this application; manifests pass through",
             {{"app", settings->app.instance}});
  }

  if (std::fwrite(stream.data(), 1, stream.size(), io.out) != stream.size() ||
      std::fflush(io.out) != 0) {
    log.error("cannot write the manifests to stdout");
    return k_exit_render_failed;
  }
  return k_exit_ok;
}

int run_discover(const GenerateArgs& args, const Io& io) {
  common::util::SystemClock clock;
  Logger log(io.err, clock, common::log::Format::logfmt, Level::warn);
  auto settings = render::resolve_settings(getenv_string);
  if (!settings) {
    log.error("discover: " + settings.error().message);
    return k_exit_failed;
  }
  auto root =
      render::repository_root(args.path, getenv_string("ARGOCD_APP_SOURCE_PATH").value_or(""));
  if (!root) {
    log.error("discover: " + root.error().message);
    return k_exit_failed;
  }
  auto found =
      plugin::find_specs(args.path, settings->specs.value, *root, settings->app.namespace_);
  if (!found) {
    log.error("discover: " + found.error().message);
    return k_exit_failed;
  }
  // Specs with errors still match: generate then tells the user what is wrong, in Argo CD's UI.
  const auto selected =
      plugin::select_for_app(found->updaters, settings->app.name, settings->app.namespace_);
  if (!selected.updaters.empty()) {
    for (const auto& f : found->files) {
      std::fprintf(io.out, "%s\n", f.c_str());
    }
  }
  return k_exit_ok;
}

int run_jsonnet_eval(const Io& io) {
#if !defined(__SANITIZE_ADDRESS__)
  // Hostile Jsonnet can allocate without bound; the renderer bounds the time, this the memory.
  // (AddressSanitizer reserves terabytes of address space, so not under it.)
  const rlimit memory{std::size_t{2} << 30, std::size_t{2} << 30};
  ::setrlimit(RLIMIT_AS, &memory);
#endif
  std::string job_text;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, io.in)) > 0;) {
    job_text.append(buf, n);
    if (job_text.size() > (std::size_t{64} << 20)) {
      std::fprintf(io.err, "jsonnet-eval: the job is too large\n");
      return k_exit_usage;
    }
  }
  auto job = render::job_from_json(job_text);
  if (!job) {
    std::fprintf(io.err, "%s\n", job.error().message.c_str());
    return k_exit_usage;
  }
  auto out = render::evaluate_jsonnet(*job);
  if (!out) {
    std::fprintf(io.err, "%s\n", out.error().message.c_str());
    return k_exit_failed;
  }
  std::fwrite(out->data(), 1, out->size(), io.out);
  return std::fflush(io.out) == 0 ? k_exit_ok : k_exit_failed;
}

} // namespace argocd_cmp
