#include "flux-source/serve_cmd.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <system_error>

#include "common/api/api.hpp"
#include "common/server/server.hpp"
#include "common/store/sqlite_store.hpp"
#include "common/util/clock.hpp"

namespace flux_source {

namespace {

int setup_error(const std::string& message) {
  std::fprintf(stderr, "imageupdater-flux-source serve: %s\n", message.c_str());
  return 1;
}

// Written to a temporary name and renamed, so a reader polling for the file never sees it empty.
bool write_port_file(const std::string& path, std::uint16_t port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) {
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  return !ec;
}

} // namespace

int serve(const ServeOptions& options) {
  // Before any thread starts (Poco's workers inherit the mask): the signals are taken by
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

  const auto address = common::server::parse_listen(options.listen);
  if (!address) {
    return setup_error(address.error().message);
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data, ec);
  if (ec) {
    return setup_error("cannot create data directory " + options.data + ": " + ec.message());
  }
  const std::string db_path = (std::filesystem::path(options.data) / "imageupdater.db").string();
  common::util::SystemClock clock;
  auto store = common::store::SqliteStore::open(db_path, clock);
  if (!store) {
    return setup_error("cannot open store " + db_path + ": " + store.error().message);
  }
  common::api::ImageUpdaterApi api(**store, clock);
  common::server::Options server_options;
  server_options.listen = options.listen;
  auto server = common::server::Server::start(server_options, api);
  if (!server) {
    return setup_error(server.error().message);
  }
  if (!options.port_file.empty() && !write_port_file(options.port_file, (*server)->port())) {
    (*server)->stop();
    return setup_error("cannot write port file " + options.port_file);
  }
  std::fprintf(stderr, "imageupdater-flux-source: listening on %s:%u (data %s)\n",
               address->host.c_str(), static_cast<unsigned>((*server)->port()),
               options.data.c_str());

  int signal_number = 0;
  while (sigwait(&wait_set, &signal_number) != 0) {
  }
  std::fprintf(stderr, "imageupdater-flux-source: signal %d, stopping\n", signal_number);
  (*server)->stop();
  std::fprintf(stderr, "imageupdater-flux-source: stopped\n");
  return 0;
}

} // namespace flux_source
