#include "tests/integration/services_env.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/http/poco_client.hpp"
#include "common/http/url.hpp"

#include "tests/support/process.hpp"

namespace it {

namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <class Map>
std::string lookup(const Map& map, std::string_view key, const char* file) {
  auto it = map.find(key);
  if (it == map.end()) {
    ADD_FAILURE() << "no key " << key << " in the harness's " << file << " file";
    return {};
  }
  return it->second;
}

} // namespace

std::map<std::string, std::string> parse_env_text(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    out[std::string(line.substr(0, eq))] = std::string(value);
  }
  return out;
}

std::optional<Kube> Kube::load(std::string& why, bool& skip) {
  Kube k;
  k.m_dir = std::string(IU_BINARY_DIR) + "/it-kube";
  auto text = slurp(k.m_dir + "/env");
  if (!text) {
    why = "no " + k.m_dir + "/env: run through ctest (fixture kube, tests/harness/kube.sh)";
    skip = std::getenv("IU_SERVICES_ENV") == nullptr;
    return std::nullopt;
  }
  for (auto& [key, value] : parse_env_text(*text)) {
    k.m_env.emplace(key, value);
  }
  if (auto s = k.m_env.find("KUBE_SKIP"); s != k.m_env.end()) {
    why = s->second;
    skip = true;
    return std::nullopt;
  }
  return k;
}

std::string Kube::env(std::string_view key) const {
  auto it = m_env.find(key);
  if (it == m_env.end()) {
    ADD_FAILURE() << "no " << key << " in " << m_dir << "/env";
    return "";
  }
  return it->second;
}

std::optional<Services> Services::load(std::string& why) {
  const char* path = std::getenv("IU_SERVICES_ENV");
  if (path == nullptr || *path == '\0') {
    why = "IU_SERVICES_ENV is not set (run through ctest -L integration)";
    return std::nullopt;
  }
  auto env_text = slurp(path);
  if (!env_text) {
    why = std::string("cannot read the services env file ") + path;
    return std::nullopt;
  }
  Services s;
  for (auto& [k, v] : parse_env_text(*env_text)) {
    s.m_env.emplace(k, v);
  }
  auto expected_path = s.m_env.find("EXPECTED");
  if (expected_path == s.m_env.end()) {
    why = std::string("no EXPECTED in ") + path;
    return std::nullopt;
  }
  auto expected_text = slurp(expected_path->second);
  if (!expected_text) {
    why = "cannot read the expected file " + expected_path->second;
    return std::nullopt;
  }
  for (auto& [k, v] : parse_env_text(*expected_text)) {
    s.m_expected.emplace(k, v);
  }
  return s;
}

std::string Services::env(std::string_view key) const {
  return lookup(m_env, key, "env");
}

std::string Services::expected(std::string_view key) const {
  return lookup(m_expected, key, "expected");
}

std::string host_of(std::string_view url) {
  if (auto p = url.find("://"); p != std::string_view::npos) {
    url.remove_prefix(p + 3);
  }
  return std::string(url.substr(0, url.find('/')));
}

std::vector<std::string> read_lines(const std::string& path) {
  auto text = slurp(path);
  if (!text) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::vector<std::string> out;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::string read_text(const std::string& path) {
  return slurp(path).value_or("");
}

std::optional<std::string> http_get(const std::string& url) {
  auto parsed = common::http::parse_url(url);
  if (!parsed || parsed->scheme != "http" || !parsed->host.starts_with("127.")) {
    ADD_FAILURE() << "refusing to GET " << url << ": not a loopback http URL";
    return std::nullopt;
  }
  auto client = common::http::PocoClient::create({});
  if (!client) {
    ADD_FAILURE() << client.error().message;
    return std::nullopt;
  }
  common::http::Request request;
  request.url = url;
  auto response = (*client)->send(request, {});
  if (!response) {
    ADD_FAILURE() << "GET " << url << ": " << response.error().message;
    return std::nullopt;
  }
  if (response->status != 200) {
    ADD_FAILURE() << "GET " << url << ": HTTP " << response->status << ": " << response->body;
    return std::nullopt;
  }
  return response->body;
}

std::string unique_repo(std::string_view what) {
  return "rit" + std::to_string(::getpid()) + "/" + std::string(what);
}

ScopedEnv::ScopedEnv(std::string name, const std::string& value) : m_name(std::move(name)) {
  ::setenv(m_name.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  ::unsetenv(m_name.c_str());
}

std::string updater_yaml(std::string_view name, const std::vector<std::string>& images,
                         std::string_view argocd_extra) {
  std::string y = "apiVersion: gitops.kubesphere.io/v1alpha1\n"
                  "kind: ImageUpdater\n"
                  "metadata: {name: " +
                  std::string(name) +
                  ", namespace: demo}\n"
                  "spec:\n"
                  "  kind: argocd\n"
                  "  images:\n";
  for (const auto& image : images) {
    y += "  - \"" + image + "\"\n";
  }
  y += "  argocd:\n    app: {name: demo}\n";
  while (!argocd_extra.empty()) {
    auto nl = argocd_extra.find('\n');
    y += "    " + std::string(argocd_extra.substr(0, nl)) + "\n";
    argocd_extra.remove_prefix(nl == std::string_view::npos ? argocd_extra.size() : nl + 1);
  }
  return y;
}

const Outcome& ResolveRun::of(std::string_view alias) const {
  for (const auto& o : outcomes) {
    if (o.alias == alias) {
      return o;
    }
  }
  ADD_FAILURE() << "no result for alias " << alias << "\n" << dump();
  static const Outcome k_none;
  return k_none;
}

std::string ResolveRun::dump() const {
  return "exit " + std::to_string(exit_code) + (signal ? " signal " + std::to_string(signal) : "") +
         (timed_out ? " (timed out)" : "") + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
}

ResolveRun resolve_cli(const std::string& spec, const std::vector<std::string>& args,
                       int timeout_seconds, const std::string& program) {
  test_support::TempDir dir;
  std::vector<std::string> argv{program.empty() ? test_support::binary("imageupdater-cmp")
                                                : program,
                                "resolve",
                                "-f",
                                dir.write("spec.yaml", spec),
                                "-o",
                                "json"};
  bool cache_dir = false;
  for (const auto& a : args) {
    argv.push_back(a);
    cache_dir = cache_dir || a == "--cache-dir";
  }
  if (!cache_dir) {
    argv.push_back("--no-cache");
  }
  const auto start = std::chrono::steady_clock::now();
  auto p = test_support::run_process(argv, "", timeout_seconds);
  ResolveRun run;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_code = p.exit_code;
  run.signal = p.signal;
  run.timed_out = p.timed_out;
  run.out = std::move(p.out);
  run.err = std::move(p.err);
  if (run.exit_code == 2 || run.signal != 0 || run.timed_out) {
    return run; // bad input or a crash: the caller's assertions say which
  }
  const auto doc = nlohmann::json::parse(run.out, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    ADD_FAILURE() << "resolve -o json did not print a JSON array\n" << run.dump();
    return run;
  }
  static const std::vector<std::string> k_keys{"updater",  "alias",      "image",   "repository",
                                               "strategy", "constraint", "tag",     "digest",
                                               "error",    "reason",     "warnings"};
  for (const auto& j : doc) {
    std::vector<std::string> keys;
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        keys.push_back(it.key());
      }
    }
    // nlohmann::json sorts keys: compare as sets here; resolve_test checks the printed order.
    auto sorted = k_keys;
    std::sort(sorted.begin(), sorted.end());
    if (keys != sorted) {
      ADD_FAILURE() << "unexpected keys in " << j.dump() << "\n" << run.dump();
      run.outcomes.clear();
      return run;
    }
    Outcome o;
    try {
      o.updater = j.at("updater").get<std::string>();
      o.alias = j.at("alias").get<std::string>();
      o.image = j.at("image").get<std::string>();
      o.repository = j.at("repository").get<std::string>();
      o.strategy = j.at("strategy").get<std::string>();
      o.constraint = j.at("constraint").get<std::string>();
      o.tag = j.at("tag").get<std::string>();
      o.digest = j.at("digest").get<std::string>();
      if (!j.at("error").is_null()) {
        o.error = j.at("error").get<std::string>();
      }
      o.reason = j.at("reason").get<std::string>();
      o.warnings = j.at("warnings").get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& e) {
      ADD_FAILURE() << "bad value types in " << j.dump() << ": " << e.what();
      run.outcomes.clear();
      return run;
    }
    run.outcomes.push_back(std::move(o));
  }
  return run;
}

void ServicesTest::SetUp() {
  std::string why;
  m_services = Services::load(why);
  if (!m_services) {
    if (std::getenv("IU_SERVICES_ENV") == nullptr) {
      GTEST_SKIP() << why;
    }
    FAIL() << why;
  }
  // The children inherit this environment: nothing from the caller's may steer them.
  for (const char* var : {"IMAGEUPDATER_CACHE_DIR", "IMAGEUPDATER_CACHE_TTL",
                          "IMAGEUPDATER_REGISTRIES_CONF", "IMAGEUPDATER_SECRETS_DIR"}) {
    ::unsetenv(var);
  }
  m_docker_config_dir = "/tmp/iu-it-no-docker-config-" + std::to_string(::getpid());
  ::setenv("DOCKER_CONFIG", m_docker_config_dir.c_str(), 1);
  ::unsetenv("SSL_CERT_FILE");
}

} // namespace it
