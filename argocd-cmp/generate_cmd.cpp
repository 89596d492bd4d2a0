#include "argocd-cmp/generate_cmd.hpp"

#include <cstdlib>
#include <optional>
#include <unistd.h>
#include <variant>

#include "argocd-cmp/registry_run.hpp"
#include "common/manifest/documents.hpp"
#include "common/manifest/rewrite.hpp"
#include "common/plugin/selection.hpp"
#include "common/plugin/specs.hpp"
#include "common/process/runner.hpp"
#include "common/render/render.hpp"
#include "common/render/settings.hpp"
#include "common/spec/diagnostic.hpp"

extern char** environ; // NOLINT: POSIX; read once, handed to the tools as their environment

namespace argocd_cmp {

namespace {

namespace render = common::render;
namespace plugin = common::plugin;
namespace manifest = common::manifest;

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

int fail(const Io& io, int code, const std::string& message) {
  std::fprintf(io.err, "level=error msg=\"imageupdater-cmp generate: %s\"\n", message.c_str());
  return code;
}

bool is_updater(const manifest::ObjectId& id) {
  return id.kind == "ImageUpdater" && id.api_version.starts_with("gitops.kubesphere.io/");
}

// The specs that apply to this application, or an exit code.
struct Specs {
  std::vector<common::spec::ImageUpdater> updaters;
  std::vector<std::string> files;
};
std::variant<Specs, int> load_specs(const std::string& dir, const render::Settings& settings,
                                    const Io& io) {
  auto found = plugin::find_specs(dir, settings.specs.value);
  if (!found) {
    return fail(io,
                common::util::ErrorKind::invalid_input == found.error().kind ? k_exit_usage
                                                                             : k_exit_render_failed,
                "specs: " + found.error().message);
  }
  for (const auto& d : found->diagnostics) {
    std::fprintf(io.err, "%s\n", common::spec::format(d).c_str());
  }
  if (common::spec::has_errors(found->diagnostics)) {
    return fail(io, k_exit_usage, "the ImageUpdater specs have errors (listed above)");
  }
  auto selected = plugin::select_for_app(std::move(found->updaters),
                                         getenv_string("ARGOCD_APP_NAME").value_or(""));
  for (const auto& s : selected.skipped) {
    std::fprintf(io.err, "level=info msg=\"skipped ImageUpdater %s\"\n", s.c_str());
  }
  return Specs{std::move(selected.updaters), std::move(found->files)};
}

} // namespace

std::string settings_help() {
  std::string out = "Settings (plugin parameter > plugin env ARGOCD_ENV_IMAGEUPDATER_* > "
                    "environment IMAGEUPDATER_* > default):\n";
  for (const auto& s : render::setting_table()) {
    out += "  " + std::string(s.name) + " (" + render::to_string(s.kind) + ", " +
           render::env_variable(s.name) +
           (s.default_text.empty() ? std::string() : ", default " + std::string(s.default_text)) +
           "): " + std::string(s.description) + "\n";
  }
  return out;
}

int run_generate(const GenerateArgs& args, const Io& io) {
  auto settings = render::resolve_settings(getenv_string);
  if (!settings) {
    return fail(io, k_exit_usage, settings.error().message);
  }
  for (const auto& line : render::describe(*settings)) {
    if (line.find("(default") == std::string::npos) {
      std::fprintf(io.err, "level=debug msg=\"setting %s\"\n", line.c_str());
    }
  }
  for (const auto& name : settings->unknown_parameters) {
    std::fprintf(io.err, "level=warn msg=\"unknown plugin parameter %s ignored\"\n", name.c_str());
  }

  auto specs = load_specs(args.path, *settings, io);
  if (const int* code = std::get_if<int>(&specs)) {
    return *code;
  }
  auto& [updaters, spec_files] = std::get<Specs>(specs);

  common::process::SystemRunner runner;
  render::RenderOptions options = render::render_options(*settings);
  options.path_var = getenv_string("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
  options.tool_env = process_environment();
  auto rendered = render::render(args.path, options, runner);
  if (!rendered) {
    return fail(io,
                rendered.error().kind == common::util::ErrorKind::invalid_input
                    ? k_exit_usage
                    : k_exit_render_failed,
                "rendering failed: " + rendered.error().message);
  }
  std::fprintf(io.err, "level=info msg=\"rendered\" mode=%s documents_bytes=%zu\n",
               render::to_string(rendered->mode), rendered->manifests.size());
  for (const auto& s : rendered->skipped) {
    std::fprintf(io.err, "level=warn msg=\"not rendered: %s\"\n", s.c_str());
  }

  std::string stream = std::move(rendered->manifests);
  if (!settings->keep_specs.value) {
    auto filtered = manifest::drop_documents(stream, "rendered manifests", is_updater);
    if (!filtered) {
      return fail(io, k_exit_render_failed, filtered.error().message);
    }
    stream = std::move(filtered->output);
  }

  if (!updaters.empty()) {
    RegistryRun run;
    run.registries_conf = settings->registries_conf.value;
    run.secrets_dir = settings->secrets_dir.value;
    run.cache_dir = settings->cache_dir.value;
    run.cache_ttl = settings->cache_ttl.value;
    run.timeout = settings->timeout.value;
    run.parallel = settings->parallel.value;
    auto results = resolve_images(updaters, run, io.err);
    if (!results) {
      return fail(io, k_exit_usage, results.error().message);
    }
    for (const auto& r : *results) {
      if (!r.error) {
        std::fprintf(io.err, "level=info updater=%s alias=%s image=%s tag=%s msg=\"%s\"\n",
                     r.updater.c_str(), r.alias.c_str(), r.image.c_str(), r.tag.c_str(),
                     r.reason.c_str());
      }
    }
    // The seam for telling Argo CD the render changed without a commit (plugin::fingerprint).
    std::fprintf(io.err, "level=info msg=\"resolved images\" fingerprint=%s\n",
                 plugin::fingerprint(*results).c_str());
    auto overrides = plugin::overrides_from(*results, {.pin_digests = settings->pin_digests.value});
    if (!overrides) {
      return fail(io, k_exit_render_failed, overrides.error().message);
    }
    auto rewriter = manifest::Rewriter::create(std::move(*overrides));
    if (!rewriter) {
      return fail(io, k_exit_render_failed, rewriter.error().message);
    }
    auto rewritten = rewriter->rewrite(stream, "rendered manifests");
    if (!rewritten) {
      return fail(io, k_exit_usage, rewritten.error().message);
    }
    for (const auto& row : manifest::to_rows(rewritten->changes)) {
      std::fprintf(
          io.err, "level=info msg=\"image injected\" object=\"%s %s/%s\" field=%s old=%s new=%s\n",
          row.object.kind.c_str(), row.object.namespace_name.c_str(), row.object.name.c_str(),
          row.change.field.c_str(), row.change.old_value.c_str(), row.change.new_value.c_str());
    }
    stream = std::move(rewritten->output);
  } else {
    std::fprintf(io.err, "level=info msg=\"no ImageUpdater for this application; manifests "
                         "pass through\"\n");
  }

  if (std::fwrite(stream.data(), 1, stream.size(), io.out) != stream.size() ||
      std::fflush(io.out) != 0) {
    return fail(io, k_exit_render_failed, "cannot write the manifests to stdout");
  }
  return k_exit_ok;
}

int run_discover(const GenerateArgs& args, const Io& io) {
  auto settings = render::resolve_settings(getenv_string);
  if (!settings) {
    std::fprintf(io.err, "imageupdater-cmp discover: %s\n", settings.error().message.c_str());
    return k_exit_failed;
  }
  auto found = plugin::find_specs(args.path, settings->specs.value);
  if (!found) {
    std::fprintf(io.err, "imageupdater-cmp discover: %s\n", found.error().message.c_str());
    return k_exit_failed;
  }
  // Specs with errors still match: generate then tells the user what is wrong, in Argo CD's UI.
  const auto selected =
      plugin::select_for_app(found->updaters, getenv_string("ARGOCD_APP_NAME").value_or(""));
  if (!selected.updaters.empty()) {
    for (const auto& f : found->files) {
      std::fprintf(io.out, "%s\n", f.c_str());
    }
  }
  return k_exit_ok;
}

} // namespace argocd_cmp
