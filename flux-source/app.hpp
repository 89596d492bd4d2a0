// imageupdater-flux-source: the long-running service (REST API, Flux artifacts).
#pragma once

namespace flux_source {

// Parses the command line, runs the verb and returns the process exit code. Never throws.
int run(int argc, char** argv);

} // namespace flux_source
