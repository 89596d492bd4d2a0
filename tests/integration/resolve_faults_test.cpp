// Registry faults (tests/harness/faults.py): through `imageupdater-cmp resolve` where the CLI's
// fixed limits make that quick (429, 5xx, garbage, huge bodies, redirects), and through
// common::registry::Client with small ClientOptions limits where they would not (a hanging or
// stalling server: the CLI's per-request defaults take a minute; only its --timeout is
// exercised through the CLI). Every fault
// repository is named per process (unique_repo), so its counters start at zero.
#include <chrono>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http/poco_client.hpp"
#include "common/registry/client.hpp"
#include "common/registry/config.hpp"
#include "common/util/clock.hpp"
#include "common/util/time.hpp"

#include "tests/integration/services_env.hpp"
#include "tests/support/process.hpp"

namespace it {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

class Faults : public ServicesTest {
protected:
  std::string image(const std::string& alias, const std::string& repo,
                    const std::string& constraint = "^1.0") const {
    return alias + "=" + env("REGISTRY_FAULTS_HOST") + "/" + repo + ":" + constraint;
  }

  // The fault server's record of one repository: {"fault", "count", "requests": [...]}.
  nlohmann::json stats(const std::string& repo) const {
    auto body = http_get(env("REGISTRY_FAULTS") + "/_stats?repo=" + repo);
    if (!body) {
      return nlohmann::json::object();
    }
    auto j = nlohmann::json::parse(*body, nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }

  // The other host's (127.0.0.2) records of requests whose path names `repo`.
  std::vector<nlohmann::json> other_host_requests(const std::string& repo) const {
    std::vector<nlohmann::json> out;
    auto body = http_get(env("REGISTRY_FAULTS") + "/_stats");
    if (!body) {
      return out;
    }
    auto j = nlohmann::json::parse(*body, nullptr, false);
    for (const auto& r : j.value("other", nlohmann::json::array())) {
      if (contains(r.value("path", ""), "/" + repo + "/")) {
        out.push_back(r);
      }
    }
    return out;
  }

  // The requests of a repository for one kind of path ("tags/list", "manifests/").
  static std::vector<nlohmann::json> requests_for(const nlohmann::json& stats,
                                                  std::string_view kind) {
    std::vector<nlohmann::json> out;
    for (const auto& r : stats.value("requests", nlohmann::json::array())) {
      if (contains(r.value("path", ""), kind)) {
        out.push_back(r);
      }
    }
    return out;
  }
};

// ------------------------------------------------------------------------------ through the CLI

TEST_F(Faults, RateLimitedResolvesAfterHonouringRetryAfter) {
  const std::string repo = unique_repo("rl/ratelimited-1");
  const auto run =
      resolve_cli(updater_yaml("rl", {image("rl", repo), image("ok", unique_repo("rl/ok"))}));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  const Outcome& o = run.of("rl");
  EXPECT_EQ(o.error, std::nullopt) << run.dump();
  EXPECT_EQ(o.tag, "1.1.0"); // highest of FAULT_TAGS satisfying ^1.0
  EXPECT_EQ(o.digest, run.of("ok").digest);
  EXPECT_TRUE(o.digest.starts_with("sha256:")) << o.digest;

  const auto tags = requests_for(stats(repo), "/tags/list");
  ASSERT_EQ(tags.size(), 2u) << stats(repo).dump();
  EXPECT_EQ(tags[0]["status"], 429);
  EXPECT_EQ(tags[1]["status"], 200);
  // Retry-After: 1. The server rounds its clock to milliseconds.
  EXPECT_GE(tags[1]["t"].get<double>() - tags[0]["t"].get<double>(), 0.999) << stats(repo).dump();
}

TEST_F(Faults, FlakyServerResolvesAfterRetries) {
  const std::string repo = unique_repo("flaky/flaky-2");
  const auto run = resolve_cli(updater_yaml("flaky", {image("f", repo)}));
  ASSERT_EQ(run.exit_code, 0) << run.dump();
  EXPECT_EQ(run.of("f").error, std::nullopt);
  EXPECT_EQ(run.of("f").tag, "1.1.0");
  const auto tags = requests_for(stats(repo), "/tags/list");
  ASSERT_EQ(tags.size(), 3u) << stats(repo).dump();
  EXPECT_EQ(tags[0]["status"], 500);
  EXPECT_EQ(tags[1]["status"], 500);
  EXPECT_EQ(tags[2]["status"], 200);
  // Backoff between attempts (0.5 s base, up to 20 % jitter removed).
  EXPECT_GE(tags[1]["t"].get<double>() - tags[0]["t"].get<double>(), 0.39);
}

TEST_F(Faults, GarbageIsAClearError) {
  const std::string repo = unique_repo("garbage/garbage");
  const auto run = resolve_cli(updater_yaml("garbage", {image("g", repo)}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("g");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "not a JSON")) << *o.error;
  EXPECT_TRUE(contains(*o.error, repo + "/tags/list")) << *o.error;
  EXPECT_EQ(stats(repo)["count"], 1) << "garbage is not worth a retry";
}

TEST_F(Faults, DeniedIsAnAuthError) {
  const std::string repo = unique_repo("denied/denied");
  const auto run = resolve_cli(updater_yaml("denied", {image("d", repo)}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("d");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "denied access")) << *o.error;
  EXPECT_TRUE(contains(*o.error, "403")) << *o.error;
}

class HugeBody : public Faults, public ::testing::WithParamInterface<const char*> {};

TEST_P(HugeBody, IsTooLargeWithoutHoldingItInMemory) {
  const std::string repo = unique_repo(std::string("huge/") + GetParam());
  const auto run = resolve_cli(updater_yaml("huge", {image("h", repo)}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  EXPECT_EQ(run.signal, 0) << run.dump();
  const Outcome& o = run.of("h");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "over the limit of 16777216 bytes")) << *o.error;
  EXPECT_LT(run.seconds, 15);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // The body is 64 MiB; a client that buffered it (or its 16 MiB cap several times over) would
  // have a far larger peak than one that stops at the cap. Children of this process only.
  rusage usage{};
  ASSERT_EQ(::getrusage(RUSAGE_CHILDREN, &usage), 0);
  EXPECT_LT(usage.ru_maxrss, 60L * 1024) << "peak RSS of the resolve process, KiB";
#endif
}

INSTANTIATE_TEST_SUITE_P(Bodies, HugeBody, ::testing::Values("huge", "huge-chunked"));

// An error from the HTTP layer names the request once ("registry \"h\": GET <url>: why").
TEST_F(Faults, TransportErrorNamesTheRequestOnce) {
  const std::string repo = unique_repo("once/huge-chunked");
  const auto run = resolve_cli(updater_yaml("once", {image("h", repo)}));
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("h");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  const std::string request = "GET " + env("REGISTRY_FAULTS") + "/v2/" + repo +
                              "/tags/list?..."; // the query is never shown
  const auto first = o.error->find(request);
  ASSERT_NE(first, std::string::npos) << *o.error;
  EXPECT_EQ(o.error->find(request, first + 1), std::string::npos) << *o.error;
}

// A hanging registry under the run's --timeout: the image fails with the deadline named, when
// the deadline comes (not after four 15 s read timeouts and the backoff).
TEST_F(Faults, TimeoutBoundsTheWholeRunAgainstAHangingRegistry) {
  const std::string repo = unique_repo("deadline/hang-20");
  const auto run = resolve_cli(updater_yaml("deadline", {image("h", repo)}), {"--timeout", "2s"});
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("h");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "deadline")) << *o.error;
  EXPECT_FALSE(run.timed_out);
  EXPECT_LT(run.seconds, 10.0) << "the 2 s deadline was not honoured: " << *o.error;

  test_support::TempDir dir;
  const auto bad = test_support::run_process(
      {test_support::binary("imageupdater-cmp"), "resolve", "-f",
       dir.write("spec.yaml", updater_yaml("deadline", {image("h", repo)})), "--timeout", "2x"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(contains(bad.err, "--timeout")) << bad.err;
}

// auth-redirect: credentials are required, then the tag list redirects to 127.0.0.2. The tag
// list must not follow it (another origin), and nothing with our Authorization may reach there.
TEST_F(Faults, RedirectToAnotherHostGetsNoAuthorization) {
  const std::string repo = unique_repo("redir/auth-redirect");
  ScopedEnv creds("IU_IT_FAULTS_CREDS", env("FAULTS_USER") + ":" + env("FAULTS_PASS"));
  // env: credentials are operator configuration: registries.conf, never a spec.
  test_support::TempDir dir;
  const std::string host = env("REGISTRY_FAULTS_HOST");
  const auto conf = dir.write("registries.conf", "registries:\n- name: f\n  api_url: http://" +
                                                     host + "\n  prefix: " + host +
                                                     "\n  credentials: env:IU_IT_FAULTS_CREDS\n");
  const auto run =
      resolve_cli(updater_yaml("redir", {image("r", repo)}), {"--registries-conf", conf});
  EXPECT_EQ(run.exit_code, 1) << run.dump();
  const Outcome& o = run.of("r");
  ASSERT_TRUE(o.error.has_value()) << run.dump();
  EXPECT_TRUE(contains(*o.error, "refusing to follow a redirect")) << *o.error;
  EXPECT_TRUE(contains(*o.error, host_of(env("FAULTS_OTHER")))) << *o.error;
  // The credentials went to the registry itself...
  const auto own = stats(repo);
  bool authorized = false;
  for (const auto& r : own.value("requests", nlohmann::json::array())) {
    authorized = authorized || (r["authorization"].is_string() && r["status"] == 302);
  }
  EXPECT_TRUE(authorized) << own.dump();
  // ...and nothing at all to the other host: the redirect is refused before it is followed.
  const auto other = other_host_requests(repo);
  EXPECT_TRUE(other.empty()) << other.size() << " request(s) reached " << env("FAULTS_OTHER");
  for (const auto& r : other) {
    EXPECT_TRUE(r["authorization"].is_null()) << "credentials leaked: " << r.dump();
  }
}

// ------------------------------------------------------------------------------ through the client

class FaultsClient : public Faults {
protected:
  void SetUp() override {
    Faults::SetUp();
    if (IsSkipped() || HasFailure()) {
      return;
    }
    auto http = common::http::PocoClient::create({});
    ASSERT_TRUE(http.has_value()) << http.error().message;
    m_http = std::move(*http);
    m_endpoint = common::registry::inferred_endpoint(env("REGISTRY_FAULTS_HOST"));
    m_endpoint.rate_limit = 0;
    m_options.max_retries = 1;
    m_options.backoff_base = 50ms;
    m_options.limits.connect_timeout = 1000ms;
    m_options.limits.read_timeout = 700ms;
  }

  common::registry::Client client(std::optional<common::credentials::Credential> credential = {}) {
    return common::registry::Client(m_endpoint, *m_http, m_clock, std::move(credential), m_options);
  }

  common::util::SystemClock m_clock;
  std::unique_ptr<common::http::PocoClient> m_http;
  common::registry::Endpoint m_endpoint;
  common::registry::ClientOptions m_options;
};

class SlowServer : public FaultsClient, public ::testing::WithParamInterface<const char*> {};

// hang: no answer; stall: half the body, then nothing; trickle: a byte every 0.5 s (beats a
// per-read timeout, not a whole-body one). Each must fail within the client's bounds:
// (1 + max_retries) attempts of about read_timeout, plus the backoff.
TEST_P(SlowServer, FailsWithinTheClientsBoundedTime) {
  const std::string repo = unique_repo(std::string("slow/") + GetParam());
  auto c = client();
  const auto start = std::chrono::steady_clock::now();
  auto tags = c.list_tags(repo);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(tags.has_value()) << "got " << tags->size() << " tags";
  EXPECT_EQ(tags.error().kind, common::util::ErrorKind::transient) << tags.error().message;
  EXPECT_TRUE(contains(tags.error().message, repo + "/tags/list")) << tags.error().message;
  EXPECT_GE(seconds, 0.6);
  EXPECT_LT(seconds, 4.0) << tags.error().message;
  EXPECT_EQ(stats(repo)["count"], 2) << "one attempt and max_retries = 1 retry";
}

// drip-head: the status line and headers a byte every 0.5 s (issue 13: ran past --timeout).
INSTANTIATE_TEST_SUITE_P(Faults, SlowServer,
                         ::testing::Values("hang-4", "stall-4", "trickle-4", "drip-head-8"));

// Blob redirects are followed to any host (blob storage lives elsewhere), but without the
// registry's Authorization.
TEST_F(FaultsClient, BlobRedirectToAnotherHostCarriesNoAuthorization) {
  auto anonymous = client();
  auto manifest = anonymous.get_manifest(unique_repo("blob/ok"), "1.0.0");
  ASSERT_TRUE(manifest.has_value()) << manifest.error().message;
  ASSERT_TRUE(manifest->config.has_value());
  const std::string config = manifest->config->digest;

  const std::string repo = unique_repo("blob/auth-redirect");
  auto authed = client(common::credentials::Credential{env("FAULTS_USER"), env("FAULTS_PASS")});
  auto created = authed.get_config_created(repo, config);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(common::util::format_rfc3339(*created), "2024-01-01T00:00:00Z");

  const auto own = stats(repo);
  const auto blob = requests_for(own, "/blobs/");
  ASSERT_FALSE(blob.empty()) << own.dump();
  EXPECT_EQ(blob.back()["status"], 302) << own.dump();
  EXPECT_TRUE(blob.back()["authorization"].is_string()) << own.dump();

  const auto other = other_host_requests(repo);
  ASSERT_EQ(other.size(), 1u) << "the redirect was not followed once";
  EXPECT_EQ(other[0]["path"], "/v2/" + repo + "/blobs/" + config);
  EXPECT_TRUE(other[0]["authorization"].is_null()) << other[0].dump();
}

// A tag list redirected to another host is refused before anything is sent there.
TEST_F(FaultsClient, TagListRedirectToAnotherHostIsRefused) {
  const std::string repo = unique_repo("tagredir/redirect");
  auto c = client();
  auto tags = c.list_tags(repo);
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, common::util::ErrorKind::invalid_input) << tags.error().message;
  EXPECT_TRUE(other_host_requests(repo).empty());
}

} // namespace
} // namespace it
