#include "common/credentials/resolver.hpp"

#include <array>

#include "common/credentials/dockerconfig.hpp"

namespace common::credentials {

namespace {

using util::ErrorKind;

std::string join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  while (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  if (out.empty() || out.back() != '/') {
    out += '/';
  }
  out += name;
  return out;
}

struct Found {
  std::string path;
  std::string content;
  std::string version; // Environment::file_version, taken before the read
};

// Reads <dir>/<ns>/<name>/<file>, else <dir>/<name>/<file>. `what` names the secret.
util::Result<Found> read_secret_file(Environment& env, const ResolverOptions& options,
                                     const std::string& what, const std::string& ns,
                                     const std::string& name, const std::string& file) {
  if (options.secrets_dir.empty()) {
    return util::fail(ErrorKind::not_found,
                      what + ": no secrets directory is configured to read it from");
  }
  const std::array<std::string, 2> paths{join(join(join(options.secrets_dir, ns), name), file),
                                         join(join(options.secrets_dir, name), file)};
  for (const auto& path : paths) {
    std::string version = env.file_version(path);
    auto content = env.read_file(path, options.max_secret_bytes);
    if (content) {
      return Found{path, std::move(*content), std::move(version)};
    }
    if (content.error().kind != ErrorKind::not_found) {
      return util::fail(content.error().kind, what + ": " + content.error().message);
    }
  }
  return util::fail(ErrorKind::not_found, what + ": no file " + paths[0] + " or " + paths[1] +
                                              " (is the secret mounted under " +
                                              options.secrets_dir + "?)");
}

} // namespace

util::Result<Credential> split_user_pass(std::string_view value, std::string_view what) {
  const std::string where(what);
  if (value.ends_with("\r\n")) {
    value.remove_suffix(2);
  } else if (value.ends_with('\n')) {
    value.remove_suffix(1);
  }
  const std::string size = std::to_string(value.size()) + " bytes";
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    return util::fail(ErrorKind::invalid_input,
                      where + ": want one line <user>:<password>, got several lines (" + size +
                          ")");
  }
  auto colon = value.find(':');
  if (colon == std::string_view::npos) {
    return util::fail(ErrorKind::invalid_input,
                      where + ": want <user>:<password>, found no ':' (" + size + ")");
  }
  if (colon == 0) {
    return util::fail(ErrorKind::invalid_input, where + ": the user name before ':' is empty");
  }
  if (colon + 1 == value.size()) {
    return util::fail(ErrorKind::invalid_input, where + ": the password after ':' is empty");
  }
  return Credential{std::string(value.substr(0, colon)), std::string(value.substr(colon + 1))};
}

Resolver::Resolver(Environment& env, util::Clock& clock, ResolverOptions options)
    : m_env(env), m_clock(clock), m_options(std::move(options)) {}

util::Result<Resolved> Resolver::resolve(std::string_view source, std::string_view registry,
                                         std::string_view repository,
                                         std::optional<std::chrono::seconds> expire) {
  auto parsed = parse_source(source, m_options.default_namespace);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  return resolve(*parsed, registry, repository, expire);
}

util::Result<Resolved> Resolver::resolve(const Source& source, std::string_view registry,
                                         std::string_view repository,
                                         std::optional<std::chrono::seconds> expire) {
  if (!applies_to(source, registry)) {
    return util::fail(ErrorKind::invalid_input, "credential source \"" + to_string(source) +
                                                    "\" is for registry " + source.registry +
                                                    ", not " + std::string(registry));
  }
  // Only a pull secret's answer depends on the registry and repository.
  std::string scope;
  if (std::holds_alternative<PullSecret>(source.what)) {
    scope = normalize_registry(registry).host + "\n" + std::string(repository);
  }
  return cached({to_string(source), std::move(scope)}, expire,
                [&] { return fetch(source, registry, repository); });
}

util::Result<Resolved> Resolver::resolve_default(std::string_view registry,
                                                 std::string_view repository,
                                                 std::optional<std::chrono::seconds> expire) {
  return cached({std::string(), normalize_registry(registry).host + "\n" + std::string(repository)},
                expire, [&] { return fetch_default(registry, repository); });
}

void Resolver::invalidate(std::string_view source) {
  std::string canonical;
  if (!source.empty()) {
    auto parsed = parse_source(source, m_options.default_namespace);
    if (!parsed) {
      return; // never cached
    }
    canonical = to_string(*parsed);
  }
  std::lock_guard lock(m_mutex);
  auto it = m_cache.lower_bound({canonical, std::string()});
  while (it != m_cache.end() && it->first.first == canonical) {
    it = m_cache.erase(it);
  }
}

void Resolver::invalidate_all() {
  std::lock_guard lock(m_mutex);
  m_cache.clear();
}

std::string Resolver::docker_config_path() const {
  if (m_options.docker_config) {
    return *m_options.docker_config;
  }
  if (auto dir = m_env.getenv("DOCKER_CONFIG"); dir && !dir->empty()) {
    return join(*dir, "config.json");
  }
  if (auto home = m_env.getenv("HOME"); home && !home->empty()) {
    return join(join(*home, ".docker"), "config.json");
  }
  return {};
}

bool Resolver::unchanged(const Resolved& value) const {
  return value.file.empty() || m_env.file_version(value.file) == value.file_version;
}

bool Resolver::current(const Resolved& resolved) const {
  return m_clock.steady_now() < resolved.expires && unchanged(resolved);
}

util::Result<Resolved> Resolver::cached(Key key, std::optional<std::chrono::seconds> expire,
                                        const std::function<util::Result<Resolved>()>& fetch_fn) {
  const std::chrono::seconds ttl = expire.value_or(m_options.default_expire);
  const auto answer = [ttl](const Entry& entry) {
    Resolved out = entry.value;
    out.expires = entry.fetched + ttl;
    return out;
  };
  std::optional<Entry> hit;
  {
    std::lock_guard lock(m_mutex);
    // The age is checked against this call's expiry, so a caller asking for fresher
    // credentials gets them whatever an earlier caller allowed.
    if (auto it = m_cache.find(key); it != m_cache.end()) {
      if (m_clock.steady_now() < it->second.fetched + ttl) {
        hit = it->second;
      } else {
        m_cache.erase(it);
      }
    }
  }
  // The file is looked at without the lock (a stat, but on a network volume it may be slow).
  if (hit) {
    if (unchanged(hit->value)) {
      return answer(*hit);
    }
    std::lock_guard lock(m_mutex);
    if (auto it = m_cache.find(key); it != m_cache.end() && it->second.fetched == hit->fetched) {
      m_cache.erase(it); // rotated: read it again below
    }
  }
  // One fetch per key at a time: a second caller waits for the first's answer (one helper run,
  // one file read), callers for other keys are not held up.
  std::promise<util::Result<Entry>> promise;
  std::shared_future<util::Result<Entry>> flight;
  std::optional<Entry> landed;
  bool leader = false;
  {
    std::lock_guard lock(m_mutex);
    // A fetch that finished since the cache was looked at above left its answer there (it
    // stores the answer and ends its flight under this lock): use it, or this caller would
    // run the helper a second time.
    if (auto cached_now = m_cache.find(key);
        cached_now != m_cache.end() && m_clock.steady_now() < cached_now->second.fetched + ttl &&
        (!hit || cached_now->second.fetched != hit->fetched)) {
      landed = cached_now->second;
    } else if (auto it = m_flights.find(key); it != m_flights.end()) {
      flight = it->second;
    } else {
      flight = promise.get_future().share();
      m_flights.emplace(key, flight);
      leader = true;
    }
  }
  if (landed) {
    return answer(*landed);
  }
  if (!leader) {
    const util::Result<Entry>& shared = flight.get();
    if (!shared) {
      return std::unexpected(shared.error());
    }
    return answer(*shared);
  }
  util::Result<Entry> result = [&]() -> util::Result<Entry> {
    try {
      auto fetched = fetch_fn();
      if (!fetched) {
        return std::unexpected(fetched.error());
      }
      return Entry{std::move(*fetched), m_clock.steady_now()};
    } catch (const std::exception& e) {
      // Waiters must get an answer, never a broken promise.
      return util::fail(ErrorKind::internal, std::string("credentials: ") + e.what());
    }
  }();
  {
    std::lock_guard lock(m_mutex);
    if (result && ttl > std::chrono::seconds::zero()) {
      m_cache.insert_or_assign(key, *result);
    }
    m_flights.erase(key);
  }
  promise.set_value(result);
  if (!result) {
    return std::unexpected(result.error());
  }
  return answer(*result);
}

util::Result<Resolved> Resolver::fetch(const Source& source, std::string_view registry,
                                       std::string_view repository) {
  if (const auto* pull = std::get_if<PullSecret>(&source.what)) {
    const std::string what =
        "pull secret " + pull->ns + "/" + pull->name + " for " + normalize_registry(registry).host;
    auto file = read_secret_file(m_env, m_options, what, pull->ns, pull->name, ".dockerconfigjson");
    if (!file) {
      return std::unexpected(file.error());
    }
    auto config = parse_docker_config(file->content, file->path);
    if (!config) {
      return std::unexpected(config.error());
    }
    auto match = find_credential(*config, registry, repository, file->path);
    if (!match) {
      return std::unexpected(match.error());
    }
    Resolved out{std::move(match->credential), file->path + " (auths \"" + match->key + "\")"};
    out.file = file->path;
    out.file_version = file->version;
    return out;
  }
  if (const auto* secret = std::get_if<SecretField>(&source.what)) {
    const std::string what =
        "secret " + secret->ns + "/" + secret->name + " field " + secret->field;
    auto file = read_secret_file(m_env, m_options, what, secret->ns, secret->name, secret->field);
    if (!file) {
      return std::unexpected(file.error());
    }
    auto credential = split_user_pass(file->content, what + " (" + file->path + ")");
    if (!credential) {
      return std::unexpected(credential.error());
    }
    Resolved out{std::move(*credential), file->path};
    out.file = file->path;
    out.file_version = file->version;
    return out;
  }
  if (const auto* env = std::get_if<EnvVar>(&source.what)) {
    const std::string what = "env:" + env->name;
    auto value = m_env.getenv(env->name);
    if (!value || value->empty()) {
      return util::fail(ErrorKind::not_found, what + ": the environment variable " + env->name +
                                                  (value ? " is empty" : " is not set"));
    }
    auto credential = split_user_pass(*value, what);
    if (!credential) {
      return std::unexpected(credential.error());
    }
    return Resolved{std::move(*credential), what};
  }
  const auto& script = std::get<ExtScript>(source.what);
  const std::string what = "ext:" + script.path;
  auto output = m_env.run_script(script.path, m_options.script);
  if (!output) {
    return std::unexpected(output.error());
  }
  auto credential = split_user_pass(*output, what + " output");
  if (!credential) {
    return std::unexpected(credential.error());
  }
  return Resolved{std::move(*credential), what};
}

util::Result<Resolved> Resolver::fetch_default(std::string_view registry,
                                               std::string_view repository) {
  const std::string path = docker_config_path();
  if (path.empty()) {
    return Resolved{{}, "no docker config (no $DOCKER_CONFIG or $HOME)"};
  }
  // Watched like a mounted secret: a docker config that appears, changes or goes is read again.
  Resolved out;
  out.file = path;
  out.file_version = m_env.file_version(path);
  auto content = m_env.read_file(path, m_options.max_secret_bytes);
  if (!content) {
    if (content.error().kind == ErrorKind::not_found) {
      out.origin = "no docker config at " + path;
      return out;
    }
    return std::unexpected(content.error());
  }
  auto config = parse_docker_config(*content, path);
  if (!config) {
    return std::unexpected(config.error());
  }
  auto match = find_credential(*config, registry, repository, path);
  if (!match) {
    if (match.error().kind == ErrorKind::not_found) {
      out.origin = match.error().message;
      return out;
    }
    return std::unexpected(match.error());
  }
  out.credential = std::move(match->credential);
  out.origin = path + " (auths \"" + match->key + "\")";
  return out;
}

} // namespace common::credentials
