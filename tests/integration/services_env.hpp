// What the integration tests need from the services of tests/harness (README.md there): the env
// file named by $IU_SERVICES_ENV and the expected answers it points to, a loopback-only HTTP GET
// for the servers' /_stats, and a fixture that skips when the services are not running.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace it {

// KEY=VALUE lines as services.sh writes them: '#' lines and blank lines skipped, one pair of
// surrounding single quotes stripped from a value.
std::map<std::string, std::string> parse_env_text(std::string_view text);

class Services {
public:
  // The env file of $IU_SERVICES_ENV and the file its EXPECTED names; nullopt with `why` set when
  // the variable is unset (a test binary run by hand) or a file cannot be read.
  static std::optional<Services> load(std::string& why);

  // The value of an env key ("REGISTRY_PLAIN"); records a test failure and returns "" when the
  // key is missing.
  std::string env(std::string_view key) const;
  // The value of an expected key ("APP_HIGHEST_SEMVER"), the same way.
  std::string expected(std::string_view key) const;

private:
  std::map<std::string, std::string, std::less<>> m_env;
  std::map<std::string, std::string, std::less<>> m_expected;
};

// The Kubernetes control plane of tests/harness/kube.sh (fixture `kube`): <build>/it-kube/env.
// load() fails with `why` when the file is missing (not run through ctest) or says KUBE_SKIP
// (Go and the binaries missing); `skip` tells the two apart: true = GTEST_SKIP, false = FAIL.
class Kube {
public:
  static std::optional<Kube> load(std::string& why, bool& skip);
  // KUBE_SERVER, KUBE_CA, KUBE_ADMIN_TOKEN, ...; a test failure and "" when missing.
  std::string env(std::string_view key) const;
  // The directory of the control plane (for kube.sh restart-apiserver).
  std::string dir() const { return m_dir; }

private:
  std::map<std::string, std::string, std::less<>> m_env;
  std::string m_dir;
};

// "http://127.0.0.1:P" -> "127.0.0.1:P" (for image references).
std::string host_of(std::string_view url);

// The lines of a file (no trailing empty line); records a failure when it cannot be read.
std::vector<std::string> read_lines(const std::string& path);
// The content of a file, "" when it does not exist.
std::string read_text(const std::string& path);

// GET of a loopback URL (127.0.0.0/8 only, else a test failure): the body on 200, else nullopt
// with a test failure naming the URL and status.
std::optional<std::string> http_get(const std::string& url);

// A repository name unique to this process and `what` ("rit12345/ratelimited-1"), so the fault
// server's per-repository counters start fresh for every test, also under ctest -j.
std::string unique_repo(std::string_view what);

// Sets an environment variable for the child processes of a test; unset again at scope exit.
class ScopedEnv {
public:
  ScopedEnv(std::string name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  std::string m_name;
};

// ---- imageupdater-cmp resolve as a black box

// One ImageUpdater document (apiVersion, kind, metadata {name, namespace demo}, spec.kind argocd,
// spec.images quoted, spec.argocd.app {name: demo}) plus `argocd_extra`: YAML lines of
// spec.argocd, written unindented ("update-strategy: {nb: newest-build}").
std::string updater_yaml(std::string_view name, const std::vector<std::string>& images,
                         std::string_view argocd_extra = {});

// One element of `resolve -o json`.
struct Outcome {
  std::string updater, alias, image, repository, strategy, constraint, tag, digest;
  std::optional<std::string> error;
  std::string reason;
  std::vector<std::string> warnings;
};

struct ResolveRun {
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;
  std::string out, err;
  std::vector<Outcome> outcomes; // empty when stdout was not the documented JSON (a failure)
  double seconds = 0;            // wall time of the run

  // The outcome of `alias` (the first one), else a test failure and an empty Outcome.
  const Outcome& of(std::string_view alias) const;
  // Everything a failure message needs.
  std::string dump() const;
};

// Writes `spec` to a temp file and runs `imageupdater-cmp resolve -f FILE -o json ARGS...`
// (plus --no-cache unless ARGS has --cache-dir). Checks that stdout is a JSON array of objects
// with exactly the documented keys, in order, and records a test failure if not. `program`
// replaces the built imageupdater-cmp (an installed copy, say).
ResolveRun resolve_cli(const std::string& spec, const std::vector<std::string>& args = {},
                       int timeout_seconds = 60, const std::string& program = {});

// Base fixture: the services (skips when IU_SERVICES_ENV is unset) and a hermetic environment
// for the child processes (no docker config, no IMAGEUPDATER_* variables from the caller).
class ServicesTest : public ::testing::Test {
protected:
  void SetUp() override;
  const Services& services() const { return *m_services; }
  std::string env(std::string_view key) const { return m_services->env(key); }
  std::string expected(std::string_view key) const { return m_services->expected(key); }

private:
  std::optional<Services> m_services;
  std::string m_docker_config_dir;
};

} // namespace it
