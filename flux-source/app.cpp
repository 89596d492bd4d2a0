#include "flux-source/app.hpp"

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "flux-source/serve_cmd.hpp"

namespace flux_source {

namespace {
constexpr const char* k_version = "0.1.0";
} // namespace

int run(int argc, char** argv) {
  try {
    CLI::App app{"imageupdater-flux-source: the ImageUpdater service for Flux (REST API and Flux "
                 "artifacts). `serve` runs the REST API; without a verb the version is printed.",
                 "imageupdater-flux-source"};
    app.set_version_flag("--version", k_version);
    ServeOptions serve_options;
    auto* serve_cmd = app.add_subcommand("serve", "Serve the ImageUpdater REST API until SIGTERM");
    serve_cmd->add_option("--listen", serve_options.listen, "HOST:PORT to listen on (port 0: any)")
        ->capture_default_str();
    serve_cmd->add_option("--data", serve_options.data, "Data directory (imageupdater.db)")
        ->capture_default_str();
    serve_cmd->add_option("--port-file", serve_options.port_file,
                          "Write the bound port to this file once listening");
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : 2;
    }
    if (serve_cmd->parsed()) {
      return serve(serve_options);
    }
    std::printf("imageupdater-flux-source %s\n", k_version);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "imageupdater-flux-source: internal error: %s\n", e.what());
    return 3;
  }
}

} // namespace flux_source
