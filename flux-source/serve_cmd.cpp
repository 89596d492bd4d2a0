#include "flux-source/serve_cmd.hpp"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <system_error>
#include <thread>

#include "common/api/api.hpp"
#include "common/api/status.hpp"
#include "common/artifact/storage.hpp"
#include "common/auth/tokens.hpp"
#include "common/controller/controller.hpp"
#include "common/generator/oci_pusher.hpp"
#include "common/generator/reconciler.hpp"
#include "common/generator/source.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/registry.hpp"
#include "common/resolve/wiring.hpp"
#include "common/server/server.hpp"
#include "common/specdir/sync.hpp"
#include "common/store/sqlite_store.hpp"
#include "common/util/clock.hpp"
#include "common/util/duration.hpp"

namespace flux_source {

namespace {

using common::util::Result;

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

Result<std::chrono::nanoseconds> duration_flag(const std::string& flag, const std::string& value,
                                               bool allow_zero) {
  auto parsed = common::util::parse_go_duration(value);
  if (!parsed) {
    return common::util::fail(parsed.error().kind, flag + ": " + parsed.error().message);
  }
  if (parsed->count() < 0 || (!allow_zero && parsed->count() == 0)) {
    return common::util::fail(common::util::ErrorKind::invalid_input,
                              flag + ": " + value + " must be " +
                                  (allow_zero ? "zero or more" : "more than zero"));
  }
  return *parsed;
}

std::chrono::milliseconds millis(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

// The API's authorisation hook over a token file: 401 with a WWW-Authenticate challenge, 403.
common::api::Options with_tokens(common::api::Options options,
                                 const common::auth::TokenAuthenticator& tokens) {
  options.authorize =
      [&tokens](const common::api::HttpRequest& request, const std::string& namespace_, bool write,
                std::string& principal) -> std::optional<common::api::HttpResponse> {
    using Outcome = common::auth::Decision::Outcome;
    const auto decision = tokens.check(request.header("Authorization"), namespace_, write);
    principal = decision.principal;
    if (decision.outcome == Outcome::allowed) {
      return std::nullopt;
    }
    if (decision.outcome == Outcome::unauthenticated) {
      auto r = common::api::status_response(401, "Unauthorized", decision.message);
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"imageupdater\"");
      return r;
    }
    return common::api::status_response(403, "Forbidden", decision.message);
  };
  return options;
}

// Syncs a directory of spec files into the store on an interval, on its own thread.
class SpecWatcher {
public:
  SpecWatcher(const std::string& directory, std::chrono::nanoseconds interval,
              common::api::Writes& writes, common::store::Store& store, common::log::Logger& logger)
      : m_sync(directory, writes, store), m_interval(interval), m_logger(logger),
        m_directory(directory), m_thread([this] { run(); }) {}
  ~SpecWatcher() {
    {
      const std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
  }
  SpecWatcher(const SpecWatcher&) = delete;
  SpecWatcher& operator=(const SpecWatcher&) = delete;

private:
  void run() {
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
      lock.unlock();
      sync_once();
      lock.lock();
      m_wake.wait_for(lock, m_interval, [this] { return m_stop; });
    }
  }
  void sync_once() {
    auto result = m_sync.sync();
    if (!result) {
      m_logger.error("cannot read the spec directory",
                     {{"dir", m_directory}, {"error", result.error().message}});
      return;
    }
    for (const std::string& e : result->errors) {
      m_logger.error("spec file not applied", {{"dir", m_directory}, {"error", e}});
    }
    if (result->created + result->updated + result->deleted > 0) {
      m_logger.info("spec files applied", {{"dir", m_directory},
                                           {"created", std::to_string(result->created)},
                                           {"updated", std::to_string(result->updated)},
                                           {"deleted", std::to_string(result->deleted)},
                                           {"unchanged", std::to_string(result->unchanged)}});
    }
  }

  common::specdir::SpecDirectory m_sync;
  std::chrono::nanoseconds m_interval;
  common::log::Logger& m_logger;
  std::string m_directory;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;
  std::thread m_thread; // last: starts once everything above is ready
};

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

  // ---- options, checked before anything is created ----
  const auto address = common::server::parse_listen(options.listen);
  if (!address) {
    return setup_error(address.error().message);
  }
  const auto level = common::log::parse_level(options.log_level);
  const auto format = common::log::parse_format(options.log_format);
  const auto head_timeout = duration_flag("--head-timeout", options.head_timeout, false);
  const auto resolve_timeout = duration_flag("--resolve-timeout", options.resolve_timeout, true);
  const auto read_timeout = duration_flag("--read-timeout", options.read_timeout, false);
  const auto write_timeout = duration_flag("--write-timeout", options.write_timeout, false);
  const auto interval = duration_flag("--interval", options.interval, false);
  const auto cache_ttl = duration_flag("--cache-ttl", options.cache_ttl, true);
  const auto watch_interval = duration_flag("--watch-interval", options.watch_interval, false);
  const auto git_timeout = duration_flag("--git-timeout", options.git_timeout, false);
  for (const auto* e :
       {level ? nullptr : &level.error(), format ? nullptr : &format.error(),
        read_timeout ? nullptr : &read_timeout.error(),
        head_timeout ? nullptr : &head_timeout.error(),
        resolve_timeout ? nullptr : &resolve_timeout.error(),
        write_timeout ? nullptr : &write_timeout.error(), interval ? nullptr : &interval.error(),
        cache_ttl ? nullptr : &cache_ttl.error(),
        watch_interval ? nullptr : &watch_interval.error(),
        git_timeout ? nullptr : &git_timeout.error()}) {
    if (e != nullptr) {
      return setup_error(e->message);
    }
  }
  if (options.max_threads < 1 || options.max_queued < 1 || options.max_body_bytes < 1 ||
      options.max_connections < 1 || options.max_connections_per_client < 1) {
    return setup_error("--max-threads, --max-queued, --max-body, --max-connections and "
                       "--max-connections-per-client must be at least 1");
  }
  std::optional<common::auth::TokenAuthenticator> tokens;
  if (!options.token_file.empty()) {
    auto loaded = common::auth::TokenAuthenticator::load(options.token_file);
    if (!loaded) {
      return setup_error(loaded.error().message);
    }
    tokens = std::move(*loaded);
  } else if (!common::auth::is_loopback_host(address->host) && !options.allow_unauthenticated) {
    return setup_error("listening on " + options.listen +
                       " (not loopback) needs --token-file (or, knowingly, "
                       "--allow-unauthenticated)");
  }

  common::util::SystemClock clock;
  common::log::Logger logger(stderr, clock, *format, *level);

  // ---- state ----
  std::error_code ec;
  std::filesystem::create_directories(options.data, ec);
  if (ec) {
    return setup_error("cannot create data directory " + options.data + ": " + ec.message());
  }
  // Every tenant's objects, artifacts and cached registry answers live here: the service's user
  // only.
  std::filesystem::permissions(options.data, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) {
    return setup_error("cannot make data directory " + options.data +
                       " private (0700): " + ec.message());
  }
  const std::string db_path = (std::filesystem::path(options.data) / "imageupdater.db").string();
  auto store = common::store::SqliteStore::open(db_path, clock);
  if (!store) {
    return setup_error("cannot open store " + db_path + ": " + store.error().message);
  }
  common::metrics::Registry metrics;

  // ---- the control loop ----
  common::resolve::RegistrySettings registry_settings;
  registry_settings.registries_conf = options.registries_conf;
  registry_settings.secrets_dir = options.secrets_dir;
  registry_settings.cache_dir = options.cache_dir.empty()
                                    ? (std::filesystem::path(options.data) / "cache").string()
                                    : options.cache_dir;
  registry_settings.use_cache = !options.no_cache;
  registry_settings.cache_ttl = *cache_ttl;
  std::vector<std::string> notes;
  auto registries = common::resolve::RegistryWiring::open(registry_settings, clock, notes);
  if (!registries) {
    return setup_error(registries.error().message);
  }
  for (const std::string& note : notes) {
    logger.warn(note);
  }
  const std::filesystem::path data(options.data);
  common::artifact::Storage storage((data / "artifacts").string(), clock);
  common::generator::SourceSettings source_settings;
  source_settings.git_cache_dir = (data / "git").string();
  source_settings.secrets_dir = options.secrets_dir;
  source_settings.local_roots = options.source_roots;
  source_settings.timeout = millis(*git_timeout);
  auto sources = common::generator::make_sources(source_settings);
  common::generator::RegistryPusher pusher(**registries);
  // Made once the server listens (the default artifact URL needs the bound port); changes
  // through the API before that are covered by the start-up listing.
  std::unique_ptr<common::generator::GeneratorReconciler> reconciler;
  std::unique_ptr<common::controller::Controller> controller;
  std::atomic<common::controller::Controller*> running_controller{nullptr};

  // ---- the API and the server ----
  common::api::Options api_options;
  api_options.max_body_bytes = options.max_body_bytes;
  api_options.on_change = [&running_controller](const common::store::Key& key) {
    if (auto* c = running_controller.load()) {
      c->enqueue(key);
    }
  };
  // The spec files' writes go through the service the handlers use: the same validation and
  // notifications, no tokens.
  common::api::Writes spec_writes(**store, api_options.on_change);
  if (tokens) {
    api_options = with_tokens(std::move(api_options), *tokens);
  }
  common::api::ImageUpdaterApi api(**store, clock, std::move(api_options));
  common::server::Options server_options;
  server_options.listen = options.listen;
  server_options.max_threads = options.max_threads;
  server_options.max_queued = options.max_queued;
  server_options.max_body_bytes = options.max_body_bytes;
  server_options.head_timeout = millis(*head_timeout);
  server_options.read_timeout = millis(*read_timeout);
  server_options.max_connections = options.max_connections;
  server_options.max_connections_per_client = options.max_connections_per_client;
  server_options.write_timeout = millis(*write_timeout);
  server_options.tls_cert_file = options.tls_cert;
  server_options.tls_key_file = options.tls_key;
  server_options.files_prefix = "/externalartifact/";
  server_options.files =
      [&storage](std::string_view rest) -> std::optional<common::api::HttpResponse> {
    auto file = storage.open("externalartifact/" + std::string(rest));
    if (!file) {
      return std::nullopt;
    }
    auto bytes = file->read_all();
    if (!bytes) {
      return std::nullopt;
    }
    return common::api::HttpResponse{200, "application/gzip", std::move(*bytes), {}, {}};
  };
  server_options.metrics = &metrics;
  server_options.logger = &logger;
  auto server = common::server::Server::start(server_options, api);
  if (!server) {
    return setup_error(server.error().message);
  }
  if (options.workers > 0) {
    common::generator::GeneratorOptions generator_options;
    generator_options.default_interval = *interval;
    generator_options.artifact_base_url =
        !options.artifact_base_url.empty()
            ? options.artifact_base_url
            : std::string((*server)->tls() ? "https://" : "http://") +
                  (address->host.find(':') != std::string::npos ? "[" + address->host + "]"
                                                                : address->host) +
                  ":" + std::to_string((*server)->port());
    while (generator_options.artifact_base_url.ends_with('/')) {
      generator_options.artifact_base_url.pop_back();
    }
    generator_options.external_artifacts_dir = (data / "externalartifacts").string();
    generator_options.oci_repository_prefix = options.oci_repository_prefix;
    generator_options.resolve_timeout = *resolve_timeout;
    for (const auto& entry : options.oci_allowed) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
        return setup_error("--oci-repository-allow " + entry + ": want NS=PREFIX");
      }
      generator_options.oci_allowed[entry.substr(0, eq)].push_back(entry.substr(eq + 1));
    }
    reconciler = std::make_unique<common::generator::GeneratorReconciler>(
        **store, (*registries)->source(), *sources, storage, &pusher, clock, &logger,
        generator_options);
    common::controller::ControllerOptions controller_options;
    controller_options.workers = options.workers;
    controller = std::make_unique<common::controller::Controller>(*reconciler, controller_options,
                                                                  &metrics, &logger);
    running_controller.store(controller.get());
    // Every stored object gets a check now; later ones come on their intervals.
    common::store::ListOptions all;
    std::size_t queued = 0;
    while (true) {
      auto page = (*store)->list("", all);
      if (!page) {
        logger.error("cannot list stored objects", {{"error", page.error().message}});
        break;
      }
      for (const auto& object : page->items) {
        controller->enqueue(object.key);
        ++queued;
      }
      if (page->continue_token.empty()) {
        break;
      }
      all.continue_token = page->continue_token;
    }
    controller->start();
    logger.info("control loop started", {{"workers", std::to_string(options.workers)},
                                         {"objects", std::to_string(queued)}});
  }
  logger.info("listening", {{"address", address->host + ":" + std::to_string((*server)->port())},
                            {"tls", (*server)->tls() ? "true" : "false"},
                            {"auth", tokens ? "tokens" : "none"},
                            {"data", options.data}});
  // Last: whoever waits for the port file finds the service set up and its log line written.
  if (!options.port_file.empty() && !write_port_file(options.port_file, (*server)->port())) {
    (*server)->stop();
    return setup_error("cannot write port file " + options.port_file);
  }
  if (tokens && !(*server)->tls() && !common::auth::is_loopback_host(address->host)) {
    logger.warn("bearer tokens travel in clear text: serve TLS (--tls-cert, --tls-key) or put "
                "a TLS-terminating proxy in front");
  }

  std::unique_ptr<SpecWatcher> watcher;
  if (!options.watch.empty()) {
    watcher =
        std::make_unique<SpecWatcher>(options.watch, *watch_interval, spec_writes, **store, logger);
  }

  int signal_number = 0;
  while (sigwait(&wait_set, &signal_number) != 0) {
  }
  logger.info("stopping", {{"signal", std::to_string(signal_number)}});
  (*server)->stop();
  watcher.reset();
  running_controller.store(nullptr);
  if (controller) {
    controller->stop();
  }
  logger.info("stopped");
  return 0;
}

} // namespace flux_source
