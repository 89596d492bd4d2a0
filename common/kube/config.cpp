#include "common/kube/config.hpp"

#include <filesystem>
#include <map>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "common/credentials/environment.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::kube {
namespace {

using util::ErrorKind;

constexpr std::size_t k_max_kubeconfig = std::size_t{4} << 20;
constexpr std::size_t k_max_token = std::size_t{64} << 10;

// A field of a kubeconfig, named for messages: "<file>: <field>: <what>".
util::Error field_error(ErrorKind kind, const std::string& file, const std::string& field,
                        std::string_view what) {
  return util::in_file(util::located(kind, util::at_field(field), what), file);
}

// One named entry (cluster, user or context) and the file that defined it first.
struct Entry {
  YAML::Node body; // the "cluster" / "user" / "context" map
  std::string file;
  std::string field; // "clusters[name]"
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::vector<std::string> files; // read, in order
};

util::Result<void> merge_section(const YAML::Node& doc, const std::string& file,
                                 const char* section, const char* inner,
                                 std::map<std::string, Entry>& into) {
  const YAML::Node list = doc[section];
  if (!list || list.IsNull()) {
    return {};
  }
  if (!list.IsSequence()) {
    return std::unexpected(field_error(ErrorKind::invalid_input, file, section, "want a list"));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string at = std::string(section) + "[" + std::to_string(i) + "]";
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) {
      return std::unexpected(
          field_error(ErrorKind::invalid_input, file, at, "want a map with a name"));
    }
    const std::string name = item["name"].as<std::string>();
    YAML::Node body = item[inner];
    if (body && !body.IsNull() && !body.IsMap()) {
      return std::unexpected(field_error(ErrorKind::invalid_input, file,
                                         std::string(section) + "[" + name + "]." + inner,
                                         "want a map"));
    }
    into.try_emplace(name, Entry{body, file, std::string(section) + "[" + name + "]." + inner});
  }
  return {};
}

util::Result<void> merge_file(const std::string& file, const std::string& text, Merged& merged) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return util::fail_at(ErrorKind::invalid_input, util::at_line(file, e.mark.line + 1),
                         "not valid YAML: " + e.msg);
  }
  if (doc.IsNull()) {
    return {}; // an empty kubeconfig merges nothing, as in kubectl
  }
  if (!doc.IsMap()) {
    return util::fail(ErrorKind::invalid_input, file + ": not a kubeconfig (want a map)");
  }
  IU_TRY(merge_section(doc, file, "clusters", "cluster", merged.clusters));
  IU_TRY(merge_section(doc, file, "users", "user", merged.users));
  IU_TRY(merge_section(doc, file, "contexts", "context", merged.contexts));
  if (merged.current_context.empty() && doc["current-context"] &&
      doc["current-context"].IsScalar()) {
    merged.current_context = doc["current-context"].as<std::string>();
  }
  return {};
}

// A string field of an entry ("" when absent); invalid_input when it is not a scalar.
util::Result<std::string> scalar(const Entry& entry, const char* key) {
  const YAML::Node node = entry.body ? entry.body[key] : YAML::Node();
  if (!node || node.IsNull()) {
    return std::string();
  }
  if (!node.IsScalar()) {
    return std::unexpected(field_error(ErrorKind::invalid_input, entry.file,
                                       entry.field + "." + key, "want a string"));
  }
  return node.as<std::string>();
}

bool present(const Entry& entry, const char* key) {
  return entry.body && entry.body[key] && !entry.body[key].IsNull();
}

// A path field, made absolute against the directory of the file that holds it, and checked to
// exist.
util::Result<std::string> path_field(credentials::Environment& env, const Entry& entry,
                                     const char* key) {
  std::string value = IU_TRY(scalar(entry, key));
  if (value.empty()) {
    return value;
  }
  std::filesystem::path path(value);
  if (path.is_relative()) {
    path = std::filesystem::path(entry.file).parent_path() / path;
  }
  value = path.lexically_normal().string();
  if (env.file_version(value).empty()) {
    return std::unexpected(field_error(ErrorKind::not_found, entry.file, entry.field + "." + key,
                                       "no such file " + value));
  }
  return value;
}

util::Result<std::string> base64_field(const Entry& entry, const char* key) {
  const std::string value = IU_TRY(scalar(entry, key));
  if (value.empty()) {
    return value;
  }
  auto decoded = util::decode_base64(util::trim(value));
  if (!decoded) {
    return std::unexpected(field_error(ErrorKind::invalid_input, entry.file,
                                       entry.field + "." + key, "not valid base64"));
  }
  return *decoded;
}

util::Result<void> apply_cluster(credentials::Environment& env, const Entry& cluster,
                                 Config& config) {
  for (const char* key : {"proxy-url", "tls-server-name"}) {
    if (present(cluster, key)) {
      return std::unexpected(field_error(ErrorKind::unsupported, cluster.file,
                                         cluster.field + "." + key, "not supported"));
    }
  }
  std::string server = IU_TRY(scalar(cluster, "server"));
  while (!server.empty() && server.back() == '/') {
    server.pop_back();
  }
  if (!server.starts_with("https://") && !server.starts_with("http://")) {
    return std::unexpected(field_error(ErrorKind::invalid_input, cluster.file,
                                       cluster.field + ".server",
                                       server.empty() ? "missing" : "want an http(s) URL"));
  }
  config.server = std::move(server);
  config.ca_file = IU_TRY(path_field(env, cluster, "certificate-authority"));
  config.ca_data = IU_TRY(base64_field(cluster, "certificate-authority-data"));
  const std::string insecure = IU_TRY(scalar(cluster, "insecure-skip-tls-verify"));
  if (!insecure.empty() && insecure != "true" && insecure != "false") {
    return std::unexpected(field_error(ErrorKind::invalid_input, cluster.file,
                                       cluster.field + ".insecure-skip-tls-verify",
                                       "want true or false"));
  }
  config.insecure = insecure == "true";
  return {};
}

util::Result<void> apply_user(credentials::Environment& env, const std::string& name,
                              const Entry& user, Config& config) {
  for (const char* key : {"exec", "auth-provider", "username", "password", "as", "as-groups"}) {
    if (present(user, key)) {
      return std::unexpected(field_error(ErrorKind::unsupported, user.file, user.field + "." + key,
                                         "user \"" + name + "\": " + key +
                                             " is not supported (use a token, a token file or a " +
                                             "client certificate)"));
    }
  }
  config.token = IU_TRY(scalar(user, "token"));
  config.token_file = IU_TRY(path_field(env, user, "tokenFile"));
  config.client_cert_file = IU_TRY(path_field(env, user, "client-certificate"));
  config.client_cert_data = IU_TRY(base64_field(user, "client-certificate-data"));
  config.client_key_file = IU_TRY(path_field(env, user, "client-key"));
  config.client_key_data = IU_TRY(base64_field(user, "client-key-data"));
  const bool cert = !config.client_cert_file.empty() || !config.client_cert_data.empty();
  const bool key = !config.client_key_file.empty() || !config.client_key_data.empty();
  if (cert != key) {
    return std::unexpected(field_error(ErrorKind::invalid_input, user.file, user.field,
                                       cert ? "a client certificate without its client-key"
                                            : "a client-key without its client-certificate"));
  }
  return {};
}

} // namespace

util::Result<Config> load_in_cluster(credentials::Environment& env,
                                     const std::string& service_account_dir) {
  const auto host = env.getenv("KUBERNETES_SERVICE_HOST");
  const auto port = env.getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return util::fail(ErrorKind::not_found, "not running in a cluster: KUBERNETES_SERVICE_HOST and "
                                            "KUBERNETES_SERVICE_PORT must both be set");
  }
  Config config;
  config.source = "in-cluster";
  const bool ipv6 = host->find(':') != std::string::npos && !host->starts_with("[");
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  const std::filesystem::path dir(service_account_dir);
  config.token_file = (dir / "token").string();
  auto token = env.read_file(config.token_file, k_max_token);
  if (!token) {
    return std::unexpected(
        util::with_context(std::move(token.error()), "in-cluster service account token"));
  }
  config.ca_file = (dir / "ca.crt").string();
  if (env.file_version(config.ca_file).empty()) {
    return util::fail(ErrorKind::not_found,
                      "in-cluster CA certificate " + config.ca_file + " does not exist");
  }
  if (auto ns = env.read_file((dir / "namespace").string(), 4096); ns && !util::trim(*ns).empty()) {
    config.namespace_ = std::string(util::trim(*ns));
  }
  return config;
}

util::Result<Config> load_kubeconfig(credentials::Environment& env,
                                     const std::vector<std::string>& files,
                                     std::string_view context) {
  Merged merged;
  std::string tried;
  for (const std::string& file : files) {
    if (file.empty()) {
      continue;
    }
    tried += (tried.empty() ? "" : ", ") + file;
    auto text = env.read_file(file, k_max_kubeconfig);
    if (!text && text.error().kind == ErrorKind::not_found) {
      continue; // kubectl skips missing entries of KUBECONFIG
    }
    if (!text) {
      return std::unexpected(util::with_context(std::move(text.error()), "kubeconfig"));
    }
    try {
      IU_TRY(merge_file(file, *text, merged));
    } catch (const YAML::Exception& e) {
      return util::fail(ErrorKind::invalid_input, file + ": " + e.msg);
    }
    merged.files.push_back(file);
  }
  if (merged.files.empty()) {
    return util::fail(ErrorKind::not_found,
                      "no kubeconfig file found (tried: " + (tried.empty() ? "none" : tried) + ")");
  }
  std::string all;
  for (const auto& f : merged.files) {
    all += (all.empty() ? "" : ":") + f;
  }
  const std::string name = context.empty() ? merged.current_context : std::string(context);
  if (name.empty()) {
    return util::fail(ErrorKind::invalid_input,
                      all + ": no current-context is set and no context was given");
  }
  const auto ctx = merged.contexts.find(name);
  if (ctx == merged.contexts.end()) {
    return util::fail(ErrorKind::not_found, all + ": no context named \"" + name + "\"");
  }
  try {
    const Entry& c = ctx->second;
    const std::string cluster_name = IU_TRY(scalar(c, "cluster"));
    const std::string user_name = IU_TRY(scalar(c, "user"));
    if (cluster_name.empty()) {
      return std::unexpected(
          field_error(ErrorKind::invalid_input, c.file, c.field + ".cluster", "missing"));
    }
    const auto cluster = merged.clusters.find(cluster_name);
    if (cluster == merged.clusters.end()) {
      return std::unexpected(field_error(ErrorKind::not_found, c.file, c.field + ".cluster",
                                         "no cluster named \"" + cluster_name + "\" in " + all));
    }
    Config config;
    config.source = all + " context " + name;
    IU_TRY(apply_cluster(env, cluster->second, config));
    if (!user_name.empty()) {
      const auto user = merged.users.find(user_name);
      if (user == merged.users.end()) {
        return std::unexpected(field_error(ErrorKind::not_found, c.file, c.field + ".user",
                                           "no user named \"" + user_name + "\" in " + all));
      }
      IU_TRY(apply_user(env, user_name, user->second, config));
    }
    if (const std::string ns = IU_TRY(scalar(c, "namespace")); !ns.empty()) {
      config.namespace_ = ns;
    }
    return config;
  } catch (const YAML::Exception& e) {
    return util::fail(ErrorKind::invalid_input, all + ": " + e.msg);
  }
}

util::Result<Config> load(std::string_view kubeconfig_flag, credentials::Environment& env,
                          const LoadOptions& options) {
  if (!kubeconfig_flag.empty()) {
    return load_kubeconfig(env, {std::string(kubeconfig_flag)}, options.context);
  }
  if (const auto list = env.getenv("KUBECONFIG"); list && !list->empty()) {
    std::vector<std::string> files;
    for (std::size_t start = 0; start <= list->size();) {
      const std::size_t end = std::min(list->find(':', start), list->size());
      files.push_back(list->substr(start, end - start));
      start = end + 1;
    }
    return load_kubeconfig(env, files, options.context);
  }
  const auto host = env.getenv("KUBERNETES_SERVICE_HOST");
  const auto port = env.getenv("KUBERNETES_SERVICE_PORT");
  if (host && !host->empty() && port && !port->empty()) {
    return load_in_cluster(env, options.service_account_dir);
  }
  const auto home = env.getenv("HOME");
  if (home && !home->empty()) {
    const std::string file = (std::filesystem::path(*home) / ".kube" / "config").string();
    if (!env.file_version(file).empty()) {
      return load_kubeconfig(env, {file}, options.context);
    }
  }
  return util::fail(ErrorKind::not_found,
                    "no Kubernetes configuration: no --kubeconfig, KUBECONFIG is unset, not in a "
                    "cluster (KUBERNETES_SERVICE_HOST is unset) and no ~/.kube/config");
}

TokenSource::TokenSource(std::string token, std::string token_file, credentials::Environment& env,
                         util::Clock& clock, std::chrono::milliseconds check_interval)
    : m_static(std::move(token)), m_file(std::move(token_file)), m_env(env), m_clock(clock),
      m_interval(check_interval) {}

std::shared_ptr<TokenSource> TokenSource::of(const Config& config, credentials::Environment& env,
                                             util::Clock& clock) {
  return std::make_shared<TokenSource>(config.token, config.token_file, env, clock);
}

util::Result<std::string> TokenSource::get() {
  if (m_file.empty()) {
    return m_static;
  }
  const std::lock_guard lock(m_mutex);
  const auto now = m_clock.steady_now();
  if (m_read && now - m_checked < m_interval) {
    return m_token;
  }
  m_checked = now;
  const std::string version = m_env.file_version(m_file);
  if (m_read && version == m_version) {
    return m_token;
  }
  auto text = m_env.read_file(m_file, k_max_token);
  if (text && !util::trim(*text).empty()) {
    m_token = std::string(util::trim(*text));
    m_version = version;
    m_read = true;
    return m_token;
  }
  if (m_read) {
    return m_token; // keep the last good token; the file is checked again next interval
  }
  if (!text) {
    return util::fail(ErrorKind::auth, "bearer token file: " + text.error().message);
  }
  return util::fail(ErrorKind::auth, "bearer token file " + m_file + " is empty");
}

} // namespace common::kube
