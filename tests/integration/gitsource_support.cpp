#include "tests/integration/gitsource_support.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace it {

namespace fs = std::filesystem;
using common::gitsource::FetchRequest;
using common::gitsource::Snapshot;

void GitSourceTest::SetUp() {
  ServicesTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) {
    return;
  }
  m_cache = std::make_unique<test_support::TempDir>();
  m_work = std::make_unique<test_support::TempDir>();
}

void GitSourceTest::TearDown() {
  std::error_code ec;
  for (const auto& dir : m_repos_to_remove) {
    fs::remove_all(dir, ec);
  }
}

FetchRequest GitSourceTest::request(const std::string& url) {
  FetchRequest r;
  r.url = url;
  r.timeout = std::chrono::seconds(30);
  return r;
}

const common::util::TreeFile* GitSourceTest::file(const Snapshot& snap, const std::string& path) {
  for (const auto& f : snap.files) {
    if (f.path == path) {
      return &f;
    }
  }
  ADD_FAILURE() << "no file " << path << " in the snapshot of " << snap.revision;
  return nullptr;
}

std::vector<std::string> GitSourceTest::paths(const Snapshot& snap) {
  std::vector<std::string> out;
  for (const auto& f : snap.files) {
    out.push_back(f.path);
  }
  return out;
}

bool GitSourceTest::has_warning(const Snapshot& snap, const std::string& text) {
  return std::any_of(snap.warnings.begin(), snap.warnings.end(),
                     [&](const std::string& w) { return test_support::contains(w, text); });
}

std::string GitSourceTest::git(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "-u",
                                   "GIT_SSL_CAINFO",
                                   "-u",
                                   "SSL_CERT_FILE",
                                   "GIT_CONFIG_NOSYSTEM=1",
                                   "GIT_CONFIG_GLOBAL=/dev/null",
                                   "GIT_AUTHOR_NAME=gitsource test",
                                   "GIT_AUTHOR_EMAIL=test@example.invalid",
                                   "GIT_COMMITTER_NAME=gitsource test",
                                   "GIT_COMMITTER_EMAIL=test@example.invalid",
                                   "git"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = test_support::run_process(argv, {}, 60);
  EXPECT_EQ(r.exit_code, 0) << "git failed: " << r.err;
  return r.out;
}

std::string GitSourceTest::copy_of_deploy(const std::string& what) {
  std::string name = "gs-" + std::to_string(::getpid()) + "-" + what + ".git";
  std::string dir = env("GIT_REPOS") + "/" + name;
  m_repos_to_remove.push_back(dir);
  git({"clone", "-q", "--bare", env("GIT_REPOS") + "/deploy.git", dir});
  return name;
}

std::string
GitSourceTest::push_commit(const std::string& repo_name,
                           const std::vector<std::pair<std::string, std::string>>& files,
                           const std::string& message) {
  std::string work = m_work->path() + "/" + repo_name + "-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(work, ec);
  git({"clone", "-q", env("GIT_REPOS") + "/" + repo_name, work});
  for (const auto& [path, content] : files) {
    fs::create_directories(fs::path(work + "/" + path).parent_path());
    std::ofstream(work + "/" + path, std::ios::binary) << content;
  }
  git({"-C", work, "add", "-A"});
  git({"-C", work, "commit", "-q", "-m", message});
  git({"-C", work, "push", "-q", "origin", "HEAD:main"});
  std::string head = git({"-C", work, "rev-parse", "HEAD"});
  while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) {
    head.pop_back();
  }
  return head;
}

} // namespace it
