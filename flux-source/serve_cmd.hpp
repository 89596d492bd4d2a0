// `imageupdater-flux-source serve`: the REST API over a SQLite store, the control loop that fills
// each ImageUpdater's status and generates and publishes the Flux artifacts of fluxcd ones,
// /metrics and request logs, until SIGTERM or SIGINT.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace flux_source {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080"; // HOST:PORT, port 0 = any free port
  std::string data = "./data";           // created when absent; holds imageupdater.db
  std::string port_file;                 // when set, the bound port is written there

  // Security.
  std::string token_file; // bearer tokens (common/auth/tokens.hpp); required off loopback
  bool allow_unauthenticated = false; // serve a non-loopback address without tokens anyway
  std::string tls_cert;               // PEM chain; with tls_key: TLS only
  std::string tls_key;

  // Server bounds.
  int max_threads = 16; // workers running handlers (connections need none)
  int max_queued = 64;  // requests waiting for a worker (more: 503)
  std::size_t max_body_bytes = 1u << 20;
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_client = 256;
  std::string head_timeout = "10s"; // Go durations
  std::string resolve_timeout = "60s";
  std::string read_timeout = "30s";
  std::string write_timeout = "30s";

  // Logs.
  std::string log_level = "info";    // debug | info | warn | error
  std::string log_format = "logfmt"; // logfmt | json

  // Spec files (GitOps-only setups): ImageUpdater YAML under this directory, synced into the
  // store every watch_interval (common/specdir).
  std::string watch;
  std::string watch_interval = "10s";

  // The Flux source generator (kind fluxcd): artifacts in DATA/artifacts, served under
  // /externalartifact/; git mirrors in DATA/git; ExternalArtifact files in
  // DATA/externalartifacts.
  std::string artifact_base_url;         // "" = http(s)://<listen address>
  std::vector<std::string> source_roots; // file:// sources must be inside one of these
  std::string oci_repository_prefix;     // "" = OCI artifacts only where annotated
  std::vector<std::string> oci_allowed;  // "NS=PREFIX" (NS may be "*")
  std::string git_timeout = "60s";

  // Resolving images for status.
  std::size_t workers = 4;     // objects checked at once; 0 = the status is never filled
  std::string interval = "5m"; // between checks of an object without fluxcd.interval
  std::string registries_conf;
  std::string secrets_dir;
  std::string cache_dir; // "" = DATA/cache
  std::string cache_ttl = "2m";
  bool no_cache = false;

  // Metrics on their own HOST:PORT (probes too, no API): Prometheus scrapes there and the API
  // port has no /metrics. "" = /metrics on the API port.
  std::string metrics_listen;

  // Kubernetes mode: the cluster is the store (ImageUpdater custom resources), the control loop
  // runs on the elected leader only, the REST API acts as its caller.
  bool kubernetes = false;
  std::string kubeconfig; // "" = $KUBECONFIG, else in-cluster, else ~/.kube/config
  std::string namespace_; // the one namespace watched; "" = all
  bool leader_elect = true;
  std::string leader_election_namespace; // "" = the configuration's namespace
  std::string leader_election_id = "imageupdater-flux-source";
  std::string lease_duration = "15s"; // client-go's defaults
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
  double kube_api_qps = 50; // Flux's controllers' defaults (client-go's own: 5 and 10)
  int kube_api_burst = 300;
};

// Blocks SIGTERM, SIGINT (and SIGPIPE) in the calling thread before any other thread exists, so
// every thread inherits the mask; creates and starts a Service (service.hpp: the options are
// checked, the store opened, the server and the control loop started; every stored object is
// checked at start, then on its interval and after each change through the API), which logs
// "listening" to stderr, and waits in sigwait(). On the signal the service stops (the server
// gracefully, requests in progress finish; then the control loop), and the result is 0. Setup
// failures (options, data directory, store, token file, TLS files, listen address, port file) are
// reported on stderr with exit code 1. Call from the main thread only.
int serve(const ServeOptions& options);

} // namespace flux_source
