// `imageupdater-flux-source serve`: the REST API over a SQLite store, until SIGTERM or SIGINT.
#pragma once

#include <string>

namespace flux_source {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080"; // HOST:PORT, port 0 = any free port
  std::string data = "./data";           // created when absent; holds imageupdater.db
  std::string port_file;                 // when set, the bound port is written there
};

// Blocks SIGTERM, SIGINT (and SIGPIPE) in the calling thread before any other thread exists, so
// every thread inherits the mask; opens the store, starts the server, logs "listening on
// HOST:PORT" to stderr and waits in sigwait(). On the signal the server stops gracefully
// (requests in progress finish) and the result is 0. Setup failures (data directory, store,
// listen address, port file) are reported on stderr with exit code 1. Call from the main thread
// only.
int serve(const ServeOptions& options);

} // namespace flux_source
