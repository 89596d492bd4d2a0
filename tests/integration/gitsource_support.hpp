// Shared by the common::gitsource integration tests: a fixture with a fresh cache directory and
// the harness's git endpoints (tests/harness/README.md, "Git servers"), and the git CLI for
// changing repositories behind GitSource's back.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/gitsource/gitsource.hpp"

#include "tests/integration/services_env.hpp"
#include "tests/support/process.hpp"

namespace it {

class GitSourceTest : public ServicesTest {
protected:
  void SetUp() override;

  // A request for `url` (path "", default ref, a 30 s timeout).
  static common::gitsource::FetchRequest request(const std::string& url);

  // The file `path` of a snapshot; a test failure and nullptr when absent.
  static const common::util::TreeFile* file(const common::gitsource::Snapshot& snap,
                                            const std::string& path);
  static std::vector<std::string> paths(const common::gitsource::Snapshot& snap);
  static bool has_warning(const common::gitsource::Snapshot& snap, const std::string& text);

  // Runs git with the machine's and user's configuration and CA variables out of the way;
  // records a failure (with its stderr) when it does not exit 0. Returns stdout.
  static std::string git(const std::vector<std::string>& args);

  // A bare copy of deploy.git under GIT_REPOS, named for this test and process; removed by
  // TearDown. Returns its name ("gs-1234-update.git").
  std::string copy_of_deploy(const std::string& what);

  // Clones `repo_name` from GIT_REPOS into a work tree, writes `files` there (path relative to
  // the work tree, content), commits everything and pushes to main. Returns the new commit.
  std::string push_commit(const std::string& repo_name,
                          const std::vector<std::pair<std::string, std::string>>& files,
                          const std::string& message);

  void TearDown() override;

  std::unique_ptr<test_support::TempDir> m_cache;
  std::unique_ptr<test_support::TempDir> m_work;
  std::vector<std::string> m_repos_to_remove;
};

} // namespace it
