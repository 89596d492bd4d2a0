// Where the Kubernetes API server is and how to authenticate to it: loaded from a kubeconfig
// file (kubectl's format) or from the pod's service account (in-cluster), as client-go does.
//
// Precedence of load(): the --kubeconfig flag, then $KUBECONFIG (a ':'-separated list merged
// first-wins like kubectl: the first file that names a cluster, user or context, or sets
// current-context, wins; files that do not exist are skipped), then in-cluster (when
// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set), then ~/.kube/config.
//
// Kubeconfig support: clusters (server, certificate-authority[-data],
// insecure-skip-tls-verify), users (token, tokenFile, client-certificate[-data],
// client-key[-data]) and contexts (cluster, user, namespace); the current context or a named
// one. Relative paths are relative to the directory of the file that holds them. Not supported
// (unsupported, naming the user or cluster): exec and auth-provider plugins, basic auth,
// impersonation, proxy-url, tls-server-name. Unknown fields are ignored (as kubectl does).
//
// Errors name the file and the field ("/k/config: users[alice].user.client-key-data: not valid
// base64"), with the field in Error::where. Nothing here logs, and no message holds a token or a
// key.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::credentials {
class Environment;
} // namespace common::credentials

namespace common::kube {

struct Config {
  std::string server;           // "https://10.96.0.1:443" or with a path prefix; no trailing '/'
  std::string ca_file;          // PEM file of CAs trusted for the server (plus the system bundle)
  std::string ca_data;          // the same as PEM text (certificate-authority-data, decoded)
  bool insecure = false;        // insecure-skip-tls-verify: no certificate verification at all
  std::string token;            // a static bearer token
  std::string token_file;       // a bearer token re-read when the file changes; wins over `token`
  std::string client_cert_file; // client certificate, as a PEM file or PEM text (not both)
  std::string client_cert_data;
  std::string client_key_file; // its key, likewise
  std::string client_key_data;
  std::string namespace_ = "default"; // the context's or the service account's namespace
  std::string source; // where this came from, for messages: "in-cluster", "<file> context <c>"
};

inline constexpr std::string_view k_service_account_dir =
    "/var/run/secrets/kubernetes.io/serviceaccount";

// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host in
// brackets), token_file <dir>/token (must be readable now), ca_file <dir>/ca.crt (must exist),
// namespace from <dir>/namespace when it exists. Fails with not_found when the variables are
// unset ("not running in a cluster") or a file is missing, naming it.
util::Result<Config>
load_in_cluster(credentials::Environment& env,
                const std::string& service_account_dir = std::string(k_service_account_dir));

// The kubeconfig files `files`, merged first-wins; `context` "" = current-context. Files that
// do not exist are skipped; fails with not_found when none exists or the context, its cluster
// or a referenced file (CA, certificate, key, token file) is missing; invalid_input for
// malformed YAML, a missing server, bad base64 or a context that names no cluster;
// unsupported for exec/auth-provider users and the other unsupported fields.
util::Result<Config> load_kubeconfig(credentials::Environment& env,
                                     const std::vector<std::string>& files,
                                     std::string_view context = {});

struct LoadOptions {
  std::string context; // "" = the kubeconfig's current-context
  std::string service_account_dir = std::string(k_service_account_dir);
};

// The precedence in the file comment. `kubeconfig_flag` "" = not given. Fails like the
// loaders; not_found when nothing applies, saying what was tried.
util::Result<Config> load(std::string_view kubeconfig_flag, credentials::Environment& env,
                          const LoadOptions& options = {});

// The bearer token to send: the static token, or the token file's content (trimmed), re-read
// when the file's version (credentials::Environment::file_version: inode, size, times) changes,
// checked at most once per `check_interval` (projected service-account tokens rotate; client-go
// re-reads at most once a minute). When a re-read fails the last good token is kept. Thread-safe.
class TokenSource {
public:
  // The environment and the clock must outlive the source.
  TokenSource(std::string token, std::string token_file, credentials::Environment& env,
              util::Clock& clock,
              std::chrono::milliseconds check_interval = std::chrono::seconds(5));
  // The config's token source (token_file wins over token).
  static std::shared_ptr<TokenSource> of(const Config& config, credentials::Environment& env,
                                         util::Clock& clock);

  // "" when there is no token at all. Fails (auth, naming the file) only when the token file
  // was never read successfully.
  util::Result<std::string> get();

private:
  std::string m_static;
  std::string m_file;
  credentials::Environment& m_env;
  util::Clock& m_clock;
  std::chrono::milliseconds m_interval;
  std::mutex m_mutex;
  std::string m_token;
  std::string m_version;
  bool m_read = false;
  std::chrono::steady_clock::time_point m_checked{};
};

} // namespace common::kube
