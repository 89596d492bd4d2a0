// common::gitsource's mirror over time: incremental, narrow updates after pushes, and many
// threads fetching one URL at once.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/gitsource/remote_url.hpp"

#include "tests/integration/gitsource_support.hpp"

namespace it {
namespace {

namespace fs = std::filesystem;
using common::gitsource::GitSource;
using common::gitsource::Snapshot;
using common::util::ErrorKind;
using test_support::contains;

class GitMirror : public GitSourceTest {
protected:
  std::string mirror_dir(const std::string& url) const {
    return m_cache->path() + "/" +
           common::gitsource::mirror_name(*common::gitsource::parse_remote_url(url));
  }
  static std::size_t packs(const std::string& mirror) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(mirror + "/objects/pack")) {
      n += e.path().extension() == ".pack" ? 1 : 0;
    }
    return n;
  }
};

TEST_F(GitMirror, UpdatesIncrementallyWithOnlyTheWantedRef) {
  std::string repo = copy_of_deploy("update");
  GitSource source(m_cache->path());
  for (const std::string& base : {env("GIT_DAEMON_URL"), env("GIT_HTTP_URL")}) {
    SCOPED_TRACE(base);
    const std::string url = base + "/" + repo;
    auto r = request(url);
    r.path = "apps/web";
    auto first = source.fetch(r);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    const std::string mirror = mirror_dir(url);
    ASSERT_TRUE(fs::is_directory(mirror)) << mirror;
    EXPECT_FALSE(contains(mirror, "127.0.0.1"));
    EXPECT_EQ(git({"--git-dir", mirror, "for-each-ref", "--format=%(refname)"}),
              "refs/heads/main\n");
    const std::size_t packs_before = packs(mirror);

    // nothing changed: no download at all
    auto again = source.fetch(r);
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(again->commit, first->commit);
    EXPECT_EQ(packs(mirror), packs_before);

    // a push: the next fetch sees it, with one more (small) pack
    std::string content = "# pushed for " + base + "\nimage: 127.0.0.1:5000/demo/web:1.3.0\n";
    std::string pushed =
        push_commit(repo, {{"apps/web/deployment.yaml", content}}, "web 1.3.0 via " + base);
    auto second = source.fetch(r);
    ASSERT_TRUE(second.has_value()) << second.error().message;
    EXPECT_EQ(second->commit, pushed);
    EXPECT_EQ(second->revision, "main@sha1:" + pushed);
    if (const auto* f = file(*second, "deployment.yaml")) {
      EXPECT_EQ(f->content, content);
    }
    EXPECT_EQ(packs(mirror), packs_before + 1);
    EXPECT_EQ(git({"--git-dir", mirror, "for-each-ref", "--format=%(refname)"}),
              "refs/heads/main\n");

    // the old commit stays readable from the mirror
    auto old = request(url);
    old.ref.commit = first->commit;
    old.path = "apps/web";
    auto back = source.fetch(old);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->files, first->files);
  }
}

TEST_F(GitMirror, AForcePushBackIsFollowed) {
  std::string repo = copy_of_deploy("rewind");
  GitSource source(m_cache->path());
  const std::string url = env("GIT_DAEMON_URL") + "/" + repo;
  std::string pushed = push_commit(repo, {{"new.txt", "x\n"}}, "to be rewound");
  auto r = request(url);
  auto ahead = source.fetch(r);
  ASSERT_TRUE(ahead.has_value()) << ahead.error().message;
  EXPECT_EQ(ahead->commit, pushed);
  git({"--git-dir", env("GIT_REPOS") + "/" + repo, "update-ref", "refs/heads/main",
       expected("GIT_DEPLOY_MAIN_COMMIT")});
  auto back = source.fetch(r);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->commit, expected("GIT_DEPLOY_MAIN_COMMIT"));
}

TEST_F(GitMirror, ConcurrentFetchesOfOneUrlShareTheMirrorSafely) {
  GitSource source(m_cache->path());
  const std::string url = env("GIT_DAEMON_URL") + "/deploy.git";
  const std::string other = env("GIT_HTTP_URL") + "/deploy.git";
  constexpr int k_threads = 4;
  constexpr int k_rounds = 3;
  std::vector<std::vector<common::util::Result<Snapshot>>> results(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_rounds; ++i) {
        auto r = request(t == k_threads - 1 && i == 1 ? other : url);
        r.path = "apps/web";
        if (t % 2 == 1) {
          r.ref.tag = "v1.0.0"; // two refs of one URL: the mirror gets both
        }
        results[t].push_back(source.fetch(r));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int t = 0; t < k_threads; ++t) {
    for (const auto& res : results[t]) {
      ASSERT_TRUE(res.has_value()) << res.error().message;
      EXPECT_EQ(res->commit, t % 2 == 1 ? expected("GIT_DEPLOY_V1_0_0_COMMIT")
                                        : expected("GIT_DEPLOY_MAIN_COMMIT"));
      EXPECT_EQ(res->files.size(), 3u);
    }
  }
  // a second GitSource on the same cache (another process would do the same) reads it too
  GitSource again(m_cache->path());
  auto snap = again.fetch(request(url));
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(git({"--git-dir", mirror_dir(url), "fsck", "--no-progress", "--no-dangling"}), "");
}

TEST_F(GitMirror, AnUnreadableMirrorIsRecreated) {
  GitSource source(m_cache->path());
  const std::string url = env("GIT_DAEMON_URL") + "/deploy.git";
  auto first = source.fetch(request(url));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  const std::string mirror = mirror_dir(url);
  fs::remove_all(mirror + "/objects");
  fs::remove(mirror + "/HEAD");
  auto second = source.fetch(request(url));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->files, first->files);
  EXPECT_TRUE(has_warning(*second, "created again"));
}

} // namespace
} // namespace it
