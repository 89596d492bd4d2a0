#include "flux-source/app.hpp"

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "common/api/crd.hpp"
#include "common/api/openapi.hpp"
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
    auto& o = serve_options;
    serve_cmd->add_option("--token-file", o.token_file,
                          "Bearer tokens (YAML: tokens: [{name, token|sha256, namespaces, "
                          "access}]); required when --listen is not loopback");
    serve_cmd->add_flag("--allow-unauthenticated", o.allow_unauthenticated,
                        "Serve a non-loopback address without --token-file (anyone may write)");
    serve_cmd->add_option("--tls-cert", o.tls_cert, "PEM certificate chain: serve TLS only");
    serve_cmd->add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert");
    serve_cmd->add_option("--max-threads", o.max_threads, "Workers running request handlers")
        ->capture_default_str();
    serve_cmd
        ->add_option("--max-queued", o.max_queued,
                     "Requests waiting for a worker (more are answered 503)")
        ->capture_default_str();
    serve_cmd
        ->add_option("--max-connections", o.max_connections,
                     "Open connections at most (more are refused)")
        ->capture_default_str();
    serve_cmd
        ->add_option("--max-connections-per-client", o.max_connections_per_client,
                     "Open connections from one client address at most")
        ->capture_default_str();
    serve_cmd
        ->add_option("--resolve-timeout", o.resolve_timeout,
                     "Bound of one object's registry work per check (Go duration; 0 = none)")
        ->capture_default_str();
    serve_cmd
        ->add_option("--head-timeout", o.head_timeout,
                     "Deadline of a whole request head, TLS handshake included (Go duration)")
        ->capture_default_str();
    serve_cmd->add_option("--max-body", o.max_body_bytes, "Largest request body in bytes (413)")
        ->capture_default_str();
    serve_cmd
        ->add_option("--read-timeout", o.read_timeout,
                     "Deadline of a whole request body (Go duration)")
        ->capture_default_str();
    serve_cmd->add_option("--write-timeout", o.write_timeout, "Deadline of a whole response")
        ->capture_default_str();
    serve_cmd->add_option("--log-level", o.log_level, "debug | info | warn | error")
        ->capture_default_str();
    serve_cmd->add_option("--log-format", o.log_format, "logfmt | json")->capture_default_str();
    serve_cmd->add_option("--artifact-base-url", o.artifact_base_url,
                          "How Flux reaches this service: status.artifact.url = URL/PATH "
                          "[default http(s)://LISTEN]");
    serve_cmd->add_option("--source-root", o.source_roots,
                          "Where file:// sources may read: DIR lets each namespace read DIR/NS; "
                          "NS=DIR gives one namespace DIR (repeatable; none = no local sources)");
    serve_cmd->add_option(
        "--oci-repository-prefix", o.oci_repository_prefix,
        "Push every fluxcd ImageUpdater's artifact to PREFIX/NAMESPACE/NAME:latest; an "
        "oci-repository annotation may name any repository under PREFIX/NAMESPACE/");
    serve_cmd->add_option("--oci-repository-allow", o.oci_allowed,
                          "NS=PREFIX: objects of namespace NS (or * for all) may name OCI "
                          "repositories under PREFIX in their oci-repository annotation "
                          "(repeatable)");
    serve_cmd->add_option("--git-timeout", o.git_timeout, "Bound of one git fetch")
        ->capture_default_str();
    serve_cmd->add_option("--watch", o.watch,
                          "Directory of ImageUpdater YAML files kept in the store (file wins)");
    serve_cmd->add_option("--watch-interval", o.watch_interval, "Between two reads of --watch")
        ->capture_default_str();
    serve_cmd
        ->add_option("--workers", o.workers, "ImageUpdaters checked at once (0: never fill status)")
        ->capture_default_str();
    serve_cmd
        ->add_option("--interval", o.interval,
                     "Between checks of an ImageUpdater without fluxcd.interval")
        ->capture_default_str();
    serve_cmd->add_option("--registries-conf", o.registries_conf,
                          "argocd-image-updater registries.conf");
    serve_cmd->add_option(
        "--secrets-dir", o.secrets_dir,
        "Where pull secrets are mounted: <dir>/<namespace>/<name>/.dockerconfigjson");
    serve_cmd->add_option("--cache-dir", o.cache_dir, "Registry answer cache [default DATA/cache]");
    serve_cmd->add_option("--cache-ttl", o.cache_ttl, "How long tag lists and digests are reused")
        ->capture_default_str();
    serve_cmd->add_flag("--no-cache", o.no_cache, "Do not use the disk cache");
    serve_cmd->add_option("--metrics-listen", o.metrics_listen,
                          "HOST:PORT of /metrics and the probes (then not on --listen)");
    serve_cmd->add_flag("--kubernetes", o.kubernetes,
                        "The cluster is the store: ImageUpdater custom resources");
    serve_cmd->add_option("--kubeconfig", o.kubeconfig,
                          "Kubeconfig file [default $KUBECONFIG, in-cluster, ~/.kube/config]");
    serve_cmd->add_option("--namespace", o.namespace_, "Watch this namespace only [default all]");
    serve_cmd
        ->add_option("--leader-elect", o.leader_elect,
                     "Run the control loop on the elected replica only (Lease)")
        ->capture_default_str();
    serve_cmd->add_option("--leader-election-namespace", o.leader_election_namespace,
                          "Namespace of the Lease [default the configuration's]");
    serve_cmd->add_option("--leader-election-id", o.leader_election_id, "Name of the Lease")
        ->capture_default_str();
    serve_cmd
        ->add_option("--leader-election-lease-duration", o.lease_duration,
                     "How long a leader's Lease holds without renewal")
        ->capture_default_str();
    serve_cmd
        ->add_option("--leader-election-renew-deadline", o.renew_deadline,
                     "How long the leader retries renewing before giving up")
        ->capture_default_str();
    serve_cmd
        ->add_option("--leader-election-retry-period", o.retry_period,
                     "Between two attempts to acquire or renew")
        ->capture_default_str();
    serve_cmd->add_option("--kube-api-qps", o.kube_api_qps, "Requests per second to the API server")
        ->capture_default_str();
    serve_cmd->add_option("--kube-api-burst", o.kube_api_burst, "Burst above --kube-api-qps")
        ->capture_default_str();
    auto* openapi_cmd = app.add_subcommand(
        "openapi", "Print the OpenAPI 3 document of the REST API (as GET /openapi.json serves "
                   "it; docs/openapi.json is this output)");
    auto* crd_cmd = app.add_subcommand(
        "crd", "Print the ImageUpdater CustomResourceDefinition (YAML; kustomize/crd holds this "
               "output)");
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : 2;
    }
    if (openapi_cmd->parsed()) {
      std::printf("%s\n", common::api::openapi_document(2).c_str());
      return 0;
    }
    if (crd_cmd->parsed()) {
      std::fputs(common::api::crd_yaml().c_str(), stdout);
      return 0;
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
