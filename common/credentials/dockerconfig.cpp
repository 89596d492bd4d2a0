#include "common/credentials/dockerconfig.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/util/strings.hpp"

namespace common::credentials {

namespace {

using json = nlohmann::json;
using util::ErrorKind;

constexpr std::string_view k_docker_hub = "docker.io";
constexpr std::array<std::string_view, 3> k_docker_hub_hosts{"docker.io", "index.docker.io",
                                                             "registry-1.docker.io"};

using util::to_lower;

using util::starts_with_icase;

std::string_view trim_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == '/') {
    s.remove_suffix(1);
  }
  return s;
}

// "host:port" -> "host"; "[::1]:5000" -> "[::1]"; a bare IPv6 literal has no port here.
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  if (colon == std::string_view::npos || host.find(':') != colon) {
    return host;
  }
  return host.substr(0, colon);
}

bool has_port(std::string_view host) {
  return host_without_port(host).size() != host.size();
}

// "h:443" -> "h": HTTPS's default port is the same registry written either way.
std::string_view default_port_dropped(std::string_view host) {
  if (host.ends_with(":443") && has_port(host)) {
    host.remove_suffix(4);
  }
  return host;
}

// Whether `repository` is `scope` or lies under it ("acme/app" under "acme").
bool within(std::string_view repository, std::string_view scope) {
  if (repository.size() < scope.size() || repository.substr(0, scope.size()) != scope) {
    return false;
  }
  return repository.size() == scope.size() || repository[scope.size()] == '/';
}

// Reads one `auths` entry. Only the kind of problem is recorded, never a value.
AuthEntry read_entry(const std::string& key, const json& value) {
  AuthEntry entry;
  entry.key = key;
  entry.registry = normalize_registry(key);
  if (!value.is_object()) {
    entry.unusable = "the entry is not an object";
    return entry;
  }
  auto string_field = [&](const char* name, std::string& out) {
    auto it = value.find(name);
    if (it == value.end() || it->is_null()) {
      return true;
    }
    if (!it->is_string()) {
      entry.unusable = std::string("'") + name + "' is not a string";
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  std::string auth;
  std::string username;
  std::string password;
  std::string identity_token;
  std::string registry_token;
  if (!string_field("auth", auth) || !string_field("username", username) ||
      !string_field("password", password) || !string_field("identitytoken", identity_token) ||
      !string_field("registrytoken", registry_token)) {
    return entry;
  }
  // As docker does: `auth` overrides username/password, an identity token is used instead of
  // the password (for the OAuth2 refresh-token exchange).
  if (!auth.empty()) {
    auto decoded = decode_base64(auth);
    if (!decoded) {
      entry.unusable = "'auth' is not valid base64";
      return entry;
    }
    auto colon = decoded->find(':');
    if (colon == std::string::npos) {
      entry.unusable = "'auth' does not decode to <user>:<password> (no ':')";
      return entry;
    }
    username = decoded->substr(0, colon);
    password = decoded->substr(colon + 1);
  }
  if (!identity_token.empty()) {
    entry.credential = Credential{"<token>", identity_token};
    return entry;
  }
  if (username.empty() && password.empty()) {
    if (!registry_token.empty()) {
      entry.unusable = "'registrytoken' (a bearer token) is not supported";
    }
    return entry; // a placeholder: no credential
  }
  if (username.empty()) {
    entry.unusable = "the user name is empty";
    return entry;
  }
  if (password.empty()) {
    entry.unusable = "the password is empty";
    return entry;
  }
  entry.credential = Credential{std::move(username), std::move(password)};
  return entry;
}

struct Candidate {
  int rank;                 // 1 best
  std::size_t scope_length; // longer is more specific
  const AuthEntry* entry;
};

} // namespace

RegistryKey normalize_registry(std::string_view key_or_url) {
  std::string_view s = key_or_url;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
    s.remove_suffix(1);
  }
  for (std::string_view scheme : {"https://", "http://"}) {
    if (starts_with_icase(s, scheme)) {
      s.remove_prefix(scheme.size());
      break;
    }
  }
  RegistryKey key;
  std::string_view path;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    path = trim_slashes(s.substr(slash));
    s = s.substr(0, slash);
  }
  key.host = to_lower(s);
  if (std::find(k_docker_hub_hosts.begin(), k_docker_hub_hosts.end(), key.host) !=
      k_docker_hub_hosts.end()) {
    key.host = std::string(k_docker_hub);
  }
  // "/v1/" (docker login's Docker Hub key) and "/v2/" are API paths, not repository scopes.
  if (path == "v1" || path == "v2") {
    path = {};
  }
  key.scope = std::string(path);
  return key;
}

util::Result<DockerConfig> parse_docker_config(std::string_view text, std::string_view origin) {
  const std::string where(origin);
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // e.what() quotes the text around the error ("last read: ..."), which may be a secret.
    return util::fail(ErrorKind::invalid_input,
                      where + ": not valid JSON (error at byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception&) {
    return util::fail(ErrorKind::invalid_input, where + ": not valid JSON");
  }
  if (!root.is_object()) {
    return util::fail(ErrorKind::invalid_input,
                      where + ": a docker config must be a JSON object with \"auths\"");
  }

  DockerConfig config;
  if (auto it = root.find("auths"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) {
      return util::fail(ErrorKind::invalid_input, where + ": \"auths\" is not an object");
    }
    for (const auto& [key, value] : it->items()) {
      config.auths.push_back(read_entry(key, value));
    }
  }
  if (auto it = root.find("credHelpers"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) {
      return util::fail(ErrorKind::invalid_input, where + ": \"credHelpers\" is not an object");
    }
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        return util::fail(ErrorKind::invalid_input,
                          where + ": credHelpers \"" + key + "\" is not a string");
      }
      config.cred_helpers.emplace_back(normalize_registry(key).host, value.get<std::string>());
    }
  }
  if (auto it = root.find("credsStore"); it != root.end() && !it->is_null()) {
    if (!it->is_string()) {
      return util::fail(ErrorKind::invalid_input, where + ": \"credsStore\" is not a string");
    }
    config.creds_store = it->get<std::string>();
  }
  // A legacy .dockercfg has the auths map at the top level; say so rather than find nothing.
  if (!root.contains("auths")) {
    for (const auto& [key, value] : root.items()) {
      if (value.is_object() && value.contains("auth")) {
        return util::fail(ErrorKind::unsupported,
                          where + ": looks like a legacy .dockercfg (registry \"" + key +
                              "\" at the top level); only .dockerconfigjson with \"auths\" is "
                              "supported");
      }
    }
  }
  std::sort(config.auths.begin(), config.auths.end(),
            [](const AuthEntry& a, const AuthEntry& b) { return a.key < b.key; });
  std::sort(config.cred_helpers.begin(), config.cred_helpers.end());
  return config;
}

util::Result<Match> find_credential(const DockerConfig& config, std::string_view registry,
                                    std::string_view repository, std::string_view origin) {
  const RegistryKey wanted = normalize_registry(registry);
  const std::string repo =
      repository.empty() ? wanted.scope : std::string(trim_slashes(repository));
  const std::string where(origin);

  for (const auto& [host, helper] : config.cred_helpers) {
    if (host == wanted.host) {
      return util::fail(ErrorKind::unsupported,
                        where + ": credentials for " + wanted.host +
                            " are delegated to the credential helper \"docker-credential-" +
                            helper +
                            "\" (credHelpers), which is not supported; put the "
                            "credentials in \"auths\" or use an ext: script");
    }
  }

  std::vector<Candidate> candidates;
  for (const auto& entry : config.auths) {
    const RegistryKey& key = entry.registry;
    // The same host and port, as docker matches them; only the HTTPS default port may be left
    // out ("h" is "h:443"). A key without a port never stands for every port of its host: the
    // registry on another port of that host is another service, possibly someone else's.
    const bool same_host = default_port_dropped(key.host) == default_port_dropped(wanted.host);
    if (!same_host) {
      continue;
    }
    if (!key.scope.empty() && !repo.empty() && !within(repo, key.scope)) {
      continue; // scoped to another repository
    }
    int rank = 3;
    if (same_host && key.scope.empty()) {
      rank = 2;
    } else if (same_host && !repo.empty()) {
      rank = 1;
    }
    candidates.push_back({rank, key.scope.size(), &entry});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tuple(a.rank, b.scope_length, a.entry->key) <
           std::tuple(b.rank, a.scope_length, b.entry->key);
  });

  const AuthEntry* placeholder = nullptr;
  for (const auto& c : candidates) {
    if (!c.entry->unusable.empty()) {
      return util::fail(ErrorKind::invalid_input, where + ": auths entry \"" + c.entry->key +
                                                      "\" for " + wanted.host +
                                                      " cannot be used: " + c.entry->unusable);
    }
    if (c.entry->credential) {
      return Match{c.entry->key, *c.entry->credential};
    }
    if (placeholder == nullptr) {
      placeholder = c.entry;
    }
  }
  if (placeholder != nullptr && !config.creds_store.empty()) {
    return util::fail(ErrorKind::unsupported,
                      where + ": credentials for " + wanted.host +
                          " are kept in the credential store \"docker-credential-" +
                          config.creds_store + "\" (credsStore), which is not supported");
  }
  if (placeholder != nullptr) {
    return util::fail(ErrorKind::not_found, where + ": auths entry \"" + placeholder->key +
                                                "\" for " + wanted.host + " holds no credential");
  }
  std::string known;
  std::vector<std::string> hosts;
  for (const auto& entry : config.auths) {
    hosts.push_back(entry.registry.scope.empty()
                        ? entry.registry.host
                        : entry.registry.host + "/" + entry.registry.scope);
  }
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  for (const auto& h : hosts) {
    known += known.empty() ? h : ", " + h;
  }
  std::string message = where + ": no auths entry for " + wanted.host;
  if (!repo.empty()) {
    message += " (repository " + repo + ")";
  }
  message += known.empty() ? "; it has none" : "; it has entries for " + known;
  return util::fail(ErrorKind::not_found, std::move(message));
}

} // namespace common::credentials
