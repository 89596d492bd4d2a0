// The cache shared by resolve processes (common/cache through common/resolve): a warm run asks
// the registry nothing, one image shared by many ImageUpdaters is listed once, and concurrent
// processes with an empty cache coalesce on one registry request. Counted on the fault server's
// `ok` repositories (tests/harness/faults.py), which record every request per repository.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/services_env.hpp"
#include "tests/support/process.hpp"

namespace it {
namespace {

using test_support::TempDir;

class Cache : public ServicesTest {
protected:
  std::string image(const std::string& alias, const std::string& repo,
                    const std::string& constraint = "^1.0") const {
    return alias + "=" + env("REGISTRY_FAULTS_HOST") + "/" + repo +
           (constraint.empty() ? "" : ":" + constraint);
  }

  // Requests the fault server saw for `repo` whose path contains `kind` ("" = all).
  int requests(const std::string& repo, std::string_view kind = "") const {
    auto body = http_get(env("REGISTRY_FAULTS") + "/_stats?repo=" + repo);
    if (!body) {
      return -1;
    }
    auto j = nlohmann::json::parse(*body, nullptr, false);
    int n = 0;
    for (const auto& r : j.value("requests", nlohmann::json::array())) {
      n += r.value("path", "").find(kind) != std::string::npos ? 1 : 0;
    }
    return n;
  }

  // The spec with `count` ImageUpdaters, each with the same image.
  std::string many_updaters(int count, const std::string& repo) const {
    std::string y;
    for (int i = 0; i < count; ++i) {
      y += "---\n" + updater_yaml("u" + std::to_string(i), {image("x", repo)});
    }
    return y;
  }
};

TEST_F(Cache, WarmRunAsksTheRegistryNothing) {
  TempDir cache;
  const std::string tags_repo = unique_repo("warm/ok");
  const std::string nb_repo = unique_repo("warm/nb/ok");
  const std::string spec =
      updater_yaml("warm", {image("semver", tags_repo), image("nb", nb_repo, "")},
                   "update-strategy: {nb: newest-build}");
  const std::vector<std::string> args{"--cache-dir", cache.path() + "/c"};

  const auto cold = resolve_cli(spec, args);
  ASSERT_EQ(cold.exit_code, 0) << cold.dump();
  const int tags_cold = requests(tags_repo);
  const int nb_cold = requests(nb_repo);
  EXPECT_EQ(tags_cold, 2) << "tags/list + HEAD of the chosen tag";
  EXPECT_EQ(nb_cold, 8) << "tags/list, 3 x (manifest + config), HEAD";

  const auto warm = resolve_cli(spec, args);
  ASSERT_EQ(warm.exit_code, 0) << warm.dump();
  EXPECT_EQ(requests(tags_repo) - tags_cold, 0) << "the warm run asked the registry";
  EXPECT_EQ(requests(nb_repo) - nb_cold, 0) << "the warm run asked the registry";
  ASSERT_EQ(warm.outcomes.size(), cold.outcomes.size());
  for (std::size_t i = 0; i < cold.outcomes.size(); ++i) {
    EXPECT_EQ(warm.outcomes[i].tag, cold.outcomes[i].tag);
    EXPECT_EQ(warm.outcomes[i].digest, cold.outcomes[i].digest);
    EXPECT_EQ(warm.outcomes[i].reason, cold.outcomes[i].reason);
    EXPECT_TRUE(warm.outcomes[i].warnings.empty()) << warm.dump();
  }
  EXPECT_EQ(warm.of("semver").tag, "1.1.0");

  // A zero TTL makes every cached tag list stale: the tags are listed again.
  auto stale_args = args;
  stale_args.insert(stale_args.end(), {"--cache-ttl", "0s"});
  const auto stale = resolve_cli(spec, stale_args);
  ASSERT_EQ(stale.exit_code, 0) << stale.dump();
  EXPECT_EQ(requests(tags_repo, "/tags/list"), 2);
}

TEST_F(Cache, TenUpdatersSharingOneImageListItOnce) {
  for (const bool disk : {true, false}) {
    SCOPED_TRACE(disk ? "--cache-dir" : "--no-cache");
    TempDir cache;
    const std::string repo = unique_repo(disk ? "ten/disk/ok" : "ten/memo/ok");
    std::vector<std::string> args;
    if (disk) {
      args = {"--cache-dir", cache.path() + "/c"};
    }
    const auto run = resolve_cli(many_updaters(10, repo), args);
    ASSERT_EQ(run.exit_code, 0) << run.dump();
    ASSERT_EQ(run.outcomes.size(), 10u) << run.dump();
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(run.outcomes[i].updater, "demo/u" + std::to_string(i));
      EXPECT_EQ(run.outcomes[i].tag, "1.1.0");
      EXPECT_EQ(run.outcomes[i].digest, run.outcomes[0].digest);
    }
    EXPECT_EQ(requests(repo, "/tags/list"), 1);
    EXPECT_EQ(requests(repo, "/manifests/"), 1);
  }
}

// Eight processes started together on an empty cache; `repo`'s first request is answered how
// the fault says. Returns the runs.
std::vector<ResolveRun> resolve_concurrently(const std::string& spec, const std::string& cache) {
  std::vector<ResolveRun> runs(8);
  std::vector<std::thread> threads;
  for (auto& run : runs) {
    threads.emplace_back([&run, &spec, &cache] {
      run = resolve_cli(spec, {"--cache-dir", cache}, 60);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  return runs;
}

TEST_F(Cache, ConcurrentProcessesWithAnEmptyCacheListOnce) {
  TempDir cache;
  const std::string repo = unique_repo("coalesce/ok");
  const auto runs =
      resolve_concurrently(updater_yaml("c", {image("x", repo)}), cache.path() + "/c");
  for (const auto& run : runs) {
    EXPECT_EQ(run.exit_code, 0) << run.dump();
    EXPECT_EQ(run.of("x").tag, "1.1.0");
  }
  EXPECT_EQ(requests(repo, "/tags/list"), 1);
  EXPECT_EQ(requests(repo, "/manifests/"), 1);
}

// The same while the first fetch is slow (a 429 with Retry-After: 1 before the answer), so the
// other seven are certainly waiting on it: still one successful tag list for all eight.
TEST_F(Cache, ConcurrentProcessesWaitForOneSlowFetch) {
  TempDir cache;
  const std::string repo = unique_repo("coalesce/ratelimited-1");
  const auto runs =
      resolve_concurrently(updater_yaml("c", {image("x", repo)}), cache.path() + "/c");
  for (const auto& run : runs) {
    EXPECT_EQ(run.exit_code, 0) << run.dump();
    EXPECT_EQ(run.of("x").tag, "1.1.0");
  }
  EXPECT_EQ(requests(repo, "/tags/list"), 2) << "one 429, then the one successful list";
  EXPECT_EQ(requests(repo, "/manifests/"), 1);
}

} // namespace
} // namespace it
