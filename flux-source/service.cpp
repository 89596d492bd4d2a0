#include "flux-source/service.hpp"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/api/api.hpp"
#include "common/api/status.hpp"
#include "common/api/writes.hpp"
#include "common/artifact/storage.hpp"
#include "common/auth/tokens.hpp"
#include "common/cluster/cluster_store.hpp"
#include "common/cluster/counting_api.hpp"
#include "common/cluster/loop.hpp"
#include "common/cluster/status_events.hpp"
#include "common/controller/controller.hpp"
#include "common/credentials/environment.hpp"
#include "common/generator/oci_pusher.hpp"
#include "common/generator/reconciler.hpp"
#include "common/generator/source.hpp"
#include "common/kube/client.hpp"
#include "common/kube/config.hpp"
#include "common/kube/events.hpp"
#include "common/kube/leader.hpp"
#include "common/metrics/registry.hpp"
#include "common/resolve/wiring.hpp"
#include "common/server/server.hpp"
#include "common/specdir/sync.hpp"
#include "common/store/sqlite_store.hpp"
#include "common/util/clock.hpp"
#include "common/util/duration.hpp"
#include "common/util/try.hpp"

namespace flux_source {

namespace {

using common::util::ErrorKind;
using common::util::Result;

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
    return common::util::fail(ErrorKind::invalid_input,
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

// The request's bearer token, "" when it has none.
std::string bearer_token(const common::api::HttpRequest& request) {
  const std::string value = request.header("Authorization");
  return std::string(common::auth::bearer_token(value).value_or(std::string_view()));
}

// --kubernetes: every request acts as its caller. No bearer token is 401 here; with one, the
// request's store forwards it, so the API server authenticates and authorises the caller (its
// 401 and 403 come back as such) and the service lends none of its own rights.
common::api::Options as_caller(common::api::Options options, const common::kube::Client& kube) {
  options.authorize = [](const common::api::HttpRequest& request, const std::string&, bool,
                         std::string& principal) -> std::optional<common::api::HttpResponse> {
    if (bearer_token(request).empty()) {
      auto r = common::api::status_response(
          401, "Unauthorized",
          "a bearer token is required: the Kubernetes API server authorises each request as its "
          "caller");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"imageupdater\"");
      return r;
    }
    principal = "bearer";
    return std::nullopt;
  };
  options.store_for = [&kube](const common::api::HttpRequest& request)
      -> Result<std::shared_ptr<common::store::Store>> {
    return common::cluster::caller_store(kube, bearer_token(request));
  };
  return options;
}

// Syncs a directory of spec files into the store on an interval, on its own thread.
class SpecWatcher {
public:
  SpecWatcher(const std::string& directory, std::chrono::nanoseconds interval,
              common::api::Writes& writes, common::store::Store& store,
              common::log::Logger& logger)
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

// Every option that is parsed, checked before anything is created.
struct Settings {
  common::server::ListenAddress address;
  common::log::Level level = common::log::Level::info;
  common::log::Format format = common::log::Format::logfmt;
  std::chrono::nanoseconds head_timeout{};
  std::chrono::nanoseconds resolve_timeout{};
  std::chrono::nanoseconds read_timeout{};
  std::chrono::nanoseconds write_timeout{};
  std::chrono::nanoseconds interval{};
  std::chrono::nanoseconds cache_ttl{};
  std::chrono::nanoseconds watch_interval{};
  std::chrono::nanoseconds git_timeout{};
  std::chrono::nanoseconds lease_duration{};
  std::chrono::nanoseconds renew_deadline{};
  std::chrono::nanoseconds retry_period{};
  std::map<std::string, std::vector<std::string>> oci_allowed;
};

Result<Settings> check(const ServeOptions& options) {
  Settings s;
  auto address = common::server::parse_listen(options.listen);
  if (!address) {
    return std::unexpected(address.error());
  }
  s.address = *address;
  if (!options.metrics_listen.empty()) {
    auto metrics_address = common::server::parse_listen(options.metrics_listen);
    if (!metrics_address) {
      return common::util::fail(ErrorKind::invalid_input,
                                "--metrics-listen: " + metrics_address.error().message);
    }
  }
  auto level = common::log::parse_level(options.log_level);
  if (!level) {
    return std::unexpected(level.error());
  }
  s.level = *level;
  auto format = common::log::parse_format(options.log_format);
  if (!format) {
    return std::unexpected(format.error());
  }
  s.format = *format;
  struct Flag {
    const char* name;
    const std::string& value;
    bool allow_zero;
    std::chrono::nanoseconds& out;
  };
  // In the order serve has always reported them.
  for (const Flag& f :
       {Flag{"--read-timeout", options.read_timeout, false, s.read_timeout},
        Flag{"--head-timeout", options.head_timeout, false, s.head_timeout},
        Flag{"--resolve-timeout", options.resolve_timeout, true, s.resolve_timeout},
        Flag{"--write-timeout", options.write_timeout, false, s.write_timeout},
        Flag{"--interval", options.interval, false, s.interval},
        Flag{"--cache-ttl", options.cache_ttl, true, s.cache_ttl},
        Flag{"--watch-interval", options.watch_interval, false, s.watch_interval},
        Flag{"--git-timeout", options.git_timeout, false, s.git_timeout},
        Flag{"--leader-election-lease-duration", options.lease_duration, false, s.lease_duration},
        Flag{"--leader-election-renew-deadline", options.renew_deadline, false, s.renew_deadline},
        Flag{"--leader-election-retry-period", options.retry_period, false, s.retry_period}}) {
    auto parsed = duration_flag(f.name, f.value, f.allow_zero);
    if (!parsed) {
      return std::unexpected(parsed.error());
    }
    f.out = *parsed;
  }
  if (options.max_threads < 1 || options.max_queued < 1 || options.max_body_bytes < 1 ||
      options.max_connections < 1 || options.max_connections_per_client < 1) {
    return common::util::fail(ErrorKind::invalid_input,
                              "--max-threads, --max-queued, --max-body, --max-connections and "
                              "--max-connections-per-client must be at least 1");
  }
  if (options.kubernetes && options.leader_elect) {
    common::kube::LeaderElectionOptions lease;
    lease.namespace_ = "-"; // known once the configuration is read
    lease.name = options.leader_election_id;
    lease.lease_duration = millis(s.lease_duration);
    lease.renew_deadline = millis(s.renew_deadline);
    lease.retry_period = millis(s.retry_period);
    if (auto valid = common::kube::validate(lease); !valid) {
      return std::unexpected(valid.error());
    }
  }
  if (options.kubernetes) {
    // The API server authenticates and authorises every caller in this mode; a token file of
    // our own would be a second, disagreeing authority.
    if (!options.token_file.empty() || options.allow_unauthenticated) {
      return common::util::fail(ErrorKind::invalid_input,
                                "--token-file and --allow-unauthenticated do not apply with "
                                "--kubernetes: the API server authenticates each caller's token");
    }
    if (!options.watch.empty()) {
      return common::util::fail(ErrorKind::invalid_input,
                                "--watch does not apply with --kubernetes: apply the files to the "
                                "cluster (kubectl apply, a GitOps tool)");
    }
    if (options.kube_api_burst < 1) {
      return common::util::fail(ErrorKind::invalid_input, "--kube-api-burst must be at least 1");
    }
  } else if (!options.kubeconfig.empty() || !options.namespace_.empty()) {
    return common::util::fail(ErrorKind::invalid_input,
                              "--kubeconfig and --namespace need --kubernetes");
  }
  for (const auto& entry : options.oci_allowed) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      return common::util::fail(ErrorKind::invalid_input,
                                "--oci-repository-allow " + entry + ": want NS=PREFIX");
    }
    s.oci_allowed[entry.substr(0, eq)].push_back(entry.substr(eq + 1));
  }
  return s;
}

} // namespace

// Declared in the order they are built; destroyed in reverse (the watcher and the control loop
// before the server, the server before the API and the store).
struct Service::Parts {
  ServeOptions options;
  Settings settings;
  common::util::SystemClock clock;
  std::unique_ptr<common::log::Logger> logger;
  std::optional<common::auth::TokenAuthenticator> tokens;
  std::unique_ptr<common::store::SqliteStore> sqlite; // the embedded mode's store
  common::store::Store* store = nullptr;              // what the API and the loop use
  // Kubernetes mode (--kubernetes): the cluster is the store.
  common::credentials::SystemEnvironment env;
  std::unique_ptr<common::kube::Client> kube;
  std::unique_ptr<common::cluster::CountingApi> kube_api; // the service account's requests
  std::unique_ptr<common::kube::Client> kube_events;      // the same account, for Events
  std::unique_ptr<common::cluster::CountingApi> kube_events_api;
  std::unique_ptr<common::kube::EventRecorder> events;
  std::unique_ptr<common::cluster::ClusterStore> cluster_store; // reads from the loop's cache
  std::unique_ptr<common::cluster::StatusEvents> controller_store;
  std::unique_ptr<common::cluster::Loop> loop;
  std::string identity; // the Lease holder's name: $POD_NAME, else <hostname>_<uuid>
  common::metrics::Registry metrics;
  std::unique_ptr<common::resolve::RegistryWiring> registries;
  std::unique_ptr<common::artifact::Storage> storage;
  std::unique_ptr<common::generator::Sources> sources;
  std::unique_ptr<common::generator::RegistryPusher> pusher;
  // The API's change hook enqueues here once the control loop runs; changes before that are
  // covered by the start-up listing.
  std::atomic<common::controller::Controller*> running_controller{nullptr};
  std::unique_ptr<common::api::Writes> spec_writes; // --watch: the API's writes, no HTTP, no tokens
  std::unique_ptr<common::api::ImageUpdaterApi> api;
  std::unique_ptr<common::server::Server> server;
  std::unique_ptr<common::server::Server> metrics_server; // --metrics-listen
  std::unique_ptr<common::generator::GeneratorReconciler> reconciler;
  std::unique_ptr<common::controller::Controller> controller;
  std::unique_ptr<SpecWatcher> watcher;
  bool started = false;
  bool stopped = false;

  void start_control_loop();
  void start_cluster_loop(const common::controller::ControllerOptions& workers);
};

namespace {

// --kubernetes: the configuration (flag, $KUBECONFIG, in-cluster, ~/.kube/config), the service
// account's client with its request counters, the Event recorder and the controller's store
// (reads from the loop's cache, status writes through the API server, Events on Ready changes).
Result<void> open_cluster(Service::Parts& p) {
  const ServeOptions& options = p.options;
  auto config = common::kube::load(options.kubeconfig, p.env);
  if (!config) {
    return std::unexpected(common::util::with_context(config.error(), "--kubernetes"));
  }
  common::kube::ClientOptions client_options;
  client_options.qps = options.kube_api_qps;
  client_options.burst = options.kube_api_burst;
  client_options.user_agent = "imageupdater-flux-source";
  auto client = common::kube::Client::create(*config, p.env, p.clock, client_options);
  if (!client) {
    return std::unexpected(common::util::with_context(client.error(), "--kubernetes"));
  }
  p.kube = std::move(*client);
  common::metrics::Counter& requests = common::cluster::CountingApi::register_counter(p.metrics);
  p.kube_api = std::make_unique<common::cluster::CountingApi>(*p.kube, requests);
  // Events get a client (and token bucket) of their own, as controller-runtime's recorder does:
  // they never slow the status writes down.
  auto event_client = common::kube::Client::create(*config, p.env, p.clock, client_options);
  if (!event_client) {
    return std::unexpected(common::util::with_context(event_client.error(), "--kubernetes"));
  }
  p.kube_events = std::move(*event_client);
  p.kube_events_api = std::make_unique<common::cluster::CountingApi>(*p.kube_events, requests);
  const auto pod = p.env.getenv("POD_NAME");
  p.identity = pod && !pod->empty() ? *pod : common::kube::default_identity();
  common::kube::EventRecorderOptions event_options;
  event_options.component = "imageupdater-flux-source";
  event_options.instance = p.identity;
  p.events = std::make_unique<common::kube::EventRecorder>(*p.kube_events_api, event_options,
                                                           p.clock, p.logger.get());
  p.cluster_store = std::make_unique<common::cluster::ClusterStore>(
      *p.kube_api, [parts = &p](const common::store::Key& key) -> std::optional<std::string> {
        return parts->loop ? parts->loop->cached(key) : std::nullopt;
      });
  p.controller_store = std::make_unique<common::cluster::StatusEvents>(*p.cluster_store, *p.events);
  p.store = p.controller_store.get();
  p.logger->info("kubernetes",
                 {{"server", p.kube->server()},
                  {"config", config->source},
                  {"namespace", options.namespace_.empty() ? "(all)" : options.namespace_},
                  {"identity", p.identity}});
  return {};
}

} // namespace

Result<std::unique_ptr<Service>> Service::create(const ServeOptions& options, std::FILE* log_out) {
  auto settings = check(options);
  if (!settings) {
    return std::unexpected(settings.error());
  }
  auto parts = std::make_unique<Parts>();
  parts->options = options;
  parts->settings = std::move(*settings);
  const Settings& s = parts->settings;
  if (!options.token_file.empty()) {
    auto loaded = common::auth::TokenAuthenticator::load(options.token_file);
    if (!loaded) {
      return std::unexpected(loaded.error());
    }
    parts->tokens = std::move(*loaded);
  } else if (!options.kubernetes && !common::auth::is_loopback_host(s.address.host) &&
             !options.allow_unauthenticated) {
    return common::util::fail(ErrorKind::invalid_input,
                              "listening on " + options.listen +
                                  " (not loopback) needs --token-file (or, knowingly, "
                                  "--allow-unauthenticated)");
  }
  parts->logger = std::make_unique<common::log::Logger>(log_out, parts->clock, s.format, s.level);

  // ---- state ----
  std::error_code ec;
  std::filesystem::create_directories(options.data, ec);
  if (ec) {
    return common::util::fail(ErrorKind::invalid_input,
                              "cannot create data directory " + options.data + ": " + ec.message());
  }
  // Every tenant's objects, artifacts and cached registry answers live here: the service's user
  // only.
  std::filesystem::permissions(options.data, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) {
    return common::util::fail(ErrorKind::invalid_input, "cannot make data directory " +
                                                            options.data +
                                                            " private (0700): " + ec.message());
  }
  const std::filesystem::path data(options.data);
  if (options.kubernetes) {
    IU_TRY(open_cluster(*parts));
  } else {
    const std::string db_path = (data / "imageupdater.db").string();
    auto store = common::store::SqliteStore::open(db_path, parts->clock);
    if (!store) {
      return common::util::fail(store.error().kind,
                                "cannot open store " + db_path + ": " + store.error().message);
    }
    parts->sqlite = std::move(*store);
    parts->store = parts->sqlite.get();
  }

  // ---- the control loop's parts ----
  common::resolve::RegistrySettings registry_settings;
  registry_settings.registries_conf = options.registries_conf;
  registry_settings.secrets_dir = options.secrets_dir;
  registry_settings.cache_dir =
      options.cache_dir.empty() ? (data / "cache").string() : options.cache_dir;
  registry_settings.use_cache = !options.no_cache;
  registry_settings.cache_ttl = s.cache_ttl;
  std::vector<std::string> notes;
  auto registries = common::resolve::RegistryWiring::open(registry_settings, parts->clock, notes);
  if (!registries) {
    return std::unexpected(registries.error());
  }
  parts->registries = std::move(*registries);
  for (const std::string& note : notes) {
    parts->logger->warn(note);
  }
  parts->storage =
      std::make_unique<common::artifact::Storage>((data / "artifacts").string(), parts->clock);
  common::generator::SourceSettings source_settings;
  source_settings.git_cache_dir = (data / "git").string();
  source_settings.secrets_dir = options.secrets_dir;
  source_settings.local_roots = options.source_roots;
  source_settings.timeout = millis(s.git_timeout);
  parts->sources = common::generator::make_sources(source_settings);
  parts->pusher = std::make_unique<common::generator::RegistryPusher>(*parts->registries);

  // ---- the API ----
  common::api::Options api_options;
  api_options.max_body_bytes = options.max_body_bytes;
  api_options.on_change = [p = parts.get()](const common::store::Key& key) {
    if (auto* c = p->running_controller.load()) {
      c->enqueue(key);
    }
  };
  // The spec files' writes go through the API's write service: the same validation and
  // notifications, no tokens.
  parts->spec_writes = std::make_unique<common::api::Writes>(*parts->store, api_options.on_change);
  if (parts->tokens) {
    api_options = with_tokens(std::move(api_options), *parts->tokens);
  }
  if (parts->kube) {
    api_options = as_caller(std::move(api_options), *parts->kube);
  }
  parts->api = std::make_unique<common::api::ImageUpdaterApi>(*parts->store, parts->clock,
                                                              std::move(api_options));
  return std::unique_ptr<Service>(new Service(std::move(parts)));
}

Service::Service(std::unique_ptr<Parts> parts) : m_parts(std::move(parts)) {}

Service::~Service() {
  stop();
}

Result<void> Service::start() {
  Parts& p = *m_parts;
  if (p.started) {
    return common::util::fail(ErrorKind::internal, "the service was started before");
  }
  p.started = true;
  const ServeOptions& options = p.options;
  const Settings& s = p.settings;
  common::server::Options server_options;
  server_options.listen = options.listen;
  server_options.max_threads = options.max_threads;
  server_options.max_queued = options.max_queued;
  server_options.max_body_bytes = options.max_body_bytes;
  server_options.head_timeout = millis(s.head_timeout);
  server_options.read_timeout = millis(s.read_timeout);
  server_options.max_connections = options.max_connections;
  server_options.max_connections_per_client = options.max_connections_per_client;
  server_options.write_timeout = millis(s.write_timeout);
  server_options.tls_cert_file = options.tls_cert;
  server_options.tls_key_file = options.tls_key;
  server_options.files_prefix = "/externalartifact/";
  server_options.files = [storage = p.storage.get()](
                             std::string_view rest) -> std::optional<common::api::HttpResponse> {
    auto file = storage->open("externalartifact/" + std::string(rest));
    if (!file) {
      return std::nullopt;
    }
    auto bytes = file->read_all();
    if (!bytes) {
      return std::nullopt;
    }
    return common::api::HttpResponse{200, "application/gzip", std::move(*bytes), {}, {}};
  };
  server_options.metrics = &p.metrics;
  server_options.logger = p.logger.get();
  server_options.expose_metrics = options.metrics_listen.empty();
  auto server = common::server::Server::start(server_options, *p.api);
  if (!server) {
    return std::unexpected(server.error());
  }
  p.server = std::move(*server);
  if (!options.metrics_listen.empty()) {
    common::server::Options metrics_options;
    metrics_options.listen = options.metrics_listen;
    metrics_options.serve_api = false;
    metrics_options.metrics = &p.metrics;
    metrics_options.logger = p.logger.get();
    metrics_options.max_threads = 2;
    auto metrics_server = common::server::Server::start(metrics_options, *p.api);
    if (!metrics_server) {
      p.server->stop();
      return common::util::fail(metrics_server.error().kind,
                                "--metrics-listen: " + metrics_server.error().message);
    }
    p.metrics_server = std::move(*metrics_server);
    p.logger->info(
        "metrics listening",
        {{"address", options.metrics_listen.substr(0, options.metrics_listen.rfind(':')) + ":" +
                         std::to_string(p.metrics_server->port())}});
  }
  if (options.workers > 0) {
    p.start_control_loop();
  }
  p.logger->info("listening", {{"address", s.address.host + ":" + std::to_string(p.server->port())},
                               {"tls", p.server->tls() ? "true" : "false"},
                               {"auth", p.tokens ? "tokens" : "none"},
                               {"data", options.data}});
  // Last: whoever waits for the port file finds the service set up and its log line written.
  if (!options.port_file.empty() && !write_port_file(options.port_file, p.server->port())) {
    stop();
    return common::util::fail(ErrorKind::invalid_input,
                              "cannot write port file " + options.port_file);
  }
  if (p.tokens && !p.server->tls() && !common::auth::is_loopback_host(s.address.host)) {
    p.logger->warn("bearer tokens travel in clear text: serve TLS (--tls-cert, --tls-key) or put "
                   "a TLS-terminating proxy in front");
  }
  if (!options.watch.empty()) {
    p.watcher = std::make_unique<SpecWatcher>(options.watch, s.watch_interval, *p.spec_writes,
                                              *p.store, *p.logger);
  }
  return {};
}

// Made once the server listens: the default artifact URL needs the bound port.
void Service::Parts::start_control_loop() {
  common::generator::GeneratorOptions generator_options;
  generator_options.default_interval = settings.interval;
  const std::string& host = settings.address.host;
  generator_options.artifact_base_url =
      !options.artifact_base_url.empty()
          ? options.artifact_base_url
          : std::string(server->tls() ? "https://" : "http://") +
                (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                std::to_string(server->port());
  while (generator_options.artifact_base_url.ends_with('/')) {
    generator_options.artifact_base_url.pop_back();
  }
  generator_options.external_artifacts_dir =
      (std::filesystem::path(options.data) / "externalartifacts").string();
  generator_options.oci_repository_prefix = options.oci_repository_prefix;
  generator_options.resolve_timeout = settings.resolve_timeout;
  generator_options.oci_allowed = settings.oci_allowed;
  reconciler = std::make_unique<common::generator::GeneratorReconciler>(
      *store, registries->source(), *sources, *storage, pusher.get(), clock, logger.get(),
      generator_options);
  common::controller::ControllerOptions controller_options;
  controller_options.workers = options.workers;
  if (kube_api) {
    start_cluster_loop(controller_options);
    return;
  }
  controller = std::make_unique<common::controller::Controller>(*reconciler, controller_options,
                                                                &metrics, logger.get());
  running_controller.store(controller.get());
  // Every stored object gets a check now; later ones come on their intervals.
  common::store::ListOptions all;
  std::size_t queued = 0;
  while (true) {
    auto page = store->list("", all);
    if (!page) {
      logger->error("cannot list stored objects", {{"error", page.error().message}});
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
  logger->info("control loop started",
               {{"workers", std::to_string(options.workers)}, {"objects", std::to_string(queued)}});
}

// --kubernetes: the informer, the election and the controller (cluster/loop.hpp). A failure
// here is a bug in the options' checks (they were validated in create()): it is logged.
void Service::Parts::start_cluster_loop(const common::controller::ControllerOptions& workers) {
  common::cluster::LoopOptions loop_options;
  loop_options.namespace_ = options.namespace_;
  loop_options.leader_elect = options.leader_elect;
  loop_options.lease.namespace_ = !options.leader_election_namespace.empty()
                                      ? options.leader_election_namespace
                                      : kube->default_namespace();
  loop_options.lease.name = options.leader_election_id;
  loop_options.lease.identity = identity;
  loop_options.lease.lease_duration = millis(settings.lease_duration);
  loop_options.lease.renew_deadline = millis(settings.renew_deadline);
  loop_options.lease.retry_period = millis(settings.retry_period);
  loop_options.controller = workers;
  auto created = common::cluster::Loop::create(*kube_api, std::move(loop_options), *reconciler,
                                               clock, &metrics, logger.get());
  if (!created) {
    logger->error("cannot start the control loop", {{"error", created.error().message}});
    return;
  }
  loop = std::move(*created);
  loop->start();
}

void Service::stop() {
  Parts& p = *m_parts;
  if (!p.started || p.stopped) {
    return;
  }
  p.stopped = true;
  if (p.server) {
    p.server->stop();
  }
  p.watcher.reset();
  p.running_controller.store(nullptr);
  if (p.controller) {
    p.controller->stop();
  }
  if (p.loop) {
    p.loop->stop(); // releases the Lease: a standby takes over at its next try
  }
  if (p.events) {
    p.events->stop();
  }
  if (p.metrics_server) {
    p.metrics_server->stop();
  }
}

std::uint16_t Service::port() const {
  return m_parts->server ? m_parts->server->port() : 0;
}

common::log::Logger& Service::logger() {
  return *m_parts->logger;
}

} // namespace flux_source
