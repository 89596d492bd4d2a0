#include "flux-source/app.hpp"

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

namespace flux_source {

namespace {
constexpr const char* k_version = "0.1.0";
} // namespace

int run(int argc, char** argv) {
  try {
    CLI::App app{"imageupdater-flux-source: the ImageUpdater service for Flux (REST API and Flux "
                 "artifacts). The service verbs arrive with the REST API and the Flux source "
                 "generator; this build only reports its version.",
                 "imageupdater-flux-source"};
    app.set_version_flag("--version", k_version);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : 2;
    }
    std::printf("imageupdater-flux-source %s\n", k_version);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "imageupdater-flux-source: internal error: %s\n", e.what());
    return 3;
  }
}

} // namespace flux_source
