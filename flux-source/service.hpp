// The service `imageupdater-flux-source serve` runs, as an object that owns its parts: the
// store, the registry wiring, the artifact storage, the sources and the OCI pusher, the REST API
// and its HTTP server, the reconciler and its control loop, and the spec-directory watcher.
// serve() (serve_cmd.hpp) adds the process around it (signals, exit codes); a test starts and
// stops one in-process.
//
// Life cycle: create() checks every option and opens the state (nothing listens and no thread
// runs yet); start() starts the server, then the control loop (every stored object is queued),
// logs "listening", writes the port file (last, so whoever waits for it finds the service set
// up) and starts the watcher; stop() stops the server gracefully (requests in progress finish),
// then the watcher, then the control loop. stop() is idempotent and the destructor calls it.
// start() and stop() are called from one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>

#include "common/log/logger.hpp"
#include "common/util/error.hpp"
#include "flux-source/serve_cmd.hpp"

namespace flux_source {

class Service {
public:
  // Checks the options (durations, bounds, listen address, tokens off loopback, OCI allow
  // entries), makes the data directory (0700) and opens the store, the registry wiring and the
  // artifact storage. invalid_input (or the failing part's kind) with the message serve prints.
  // Logs go to `log_out` (stderr for serve), which must outlive the service.
  static common::util::Result<std::unique_ptr<Service>> create(const ServeOptions& options,
                                                               std::FILE* log_out = stderr);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Fails when the server cannot listen (TLS files, address in use) or the port file cannot be
  // written (the server is stopped again then). Called once.
  common::util::Result<void> start();
  void stop();

  // The bound port once started (0 before).
  std::uint16_t port() const;
  common::log::Logger& logger();

  struct Parts;

private:
  explicit Service(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> m_parts;
};

} // namespace flux_source
