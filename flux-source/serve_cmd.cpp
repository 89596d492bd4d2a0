#include "flux-source/serve_cmd.hpp"

#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <string>
#include <system_error>

#include "flux-source/service.hpp"

namespace flux_source {

namespace {

int setup_error(const std::string& message) {
  std::fprintf(stderr, "imageupdater-flux-source serve: %s\n", message.c_str());
  return 1;
}

} // namespace

int serve(const ServeOptions& options) {
  // Before any thread starts (the server's threads inherit the mask): the signals are taken by
  // sigwait() below only, and SIGPIPE never kills the process on a vanished client.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGTERM);
  sigaddset(&wait_set, SIGINT);
  sigset_t block_set = wait_set;
  sigaddset(&block_set, SIGPIPE);
  if (const int rc = pthread_sigmask(SIG_BLOCK, &block_set, nullptr); rc != 0) {
    return setup_error("cannot block signals: " +
                       std::error_code(rc, std::generic_category()).message());
  }
  auto service = Service::create(options, stderr);
  if (!service) {
    return setup_error(service.error().message);
  }
  if (auto started = (*service)->start(); !started) {
    return setup_error(started.error().message);
  }
  int signal_number = 0;
  while (sigwait(&wait_set, &signal_number) != 0) {
  }
  (*service)->logger().info("stopping", {{"signal", std::to_string(signal_number)}});
  (*service)->stop();
  (*service)->logger().info("stopped");
  return 0;
}

} // namespace flux_source
