#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "common/artifact/archive.hpp"
#include "common/artifact/directory.hpp"

#include "tests/support/process.hpp"

namespace common::artifact {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;
using util::ErrorKind;
using util::Tree;

class ReadDirectory : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir.write("kustomization.yaml", "resources: [apps]\n");
    fs::create_directories(m_dir.path() + "/apps/web");
    m_dir.write("apps/web/deploy.yaml", "kind: Deployment\n");
    m_dir.write("apps/web/.hidden.yaml", "kept: dot files are content\n");
    m_dir.write("apps.txt", "sorts before apps/\n");
    const std::string script = m_dir.write("render.sh", "#!/bin/sh\n");
    ::chmod(script.c_str(), 0755);
    fs::create_directories(m_dir.path() + "/.git/objects");
    m_dir.write(".git/HEAD", "ref: refs/heads/main\n");
    m_dir.write("apps/web/.git", "gitdir: ../../.git/worktrees/x\n"); // a worktree's .git file
  }
  std::string path(const std::string& rel) const { return m_dir.path() + "/" + rel; }

  TempDir m_dir;
};

TEST_F(ReadDirectory, RegularFilesSortedWithoutGit) {
  auto read = read_directory(m_dir.path(), "");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->files, (Tree{{"apps.txt", "sorts before apps/\n", false},
                               {"apps/web/.hidden.yaml", "kept: dot files are content\n", false},
                               {"apps/web/deploy.yaml", "kind: Deployment\n", false},
                               {"kustomization.yaml", "resources: [apps]\n", false},
                               {"render.sh", "#!/bin/sh\n", true}}));
  EXPECT_TRUE(read->warnings.empty());
}

TEST_F(ReadDirectory, SubpathIsTheRootOfThePaths) {
  for (const char* sub : {"apps", "./apps", "apps/", "apps/web/.."}) {
    auto read = read_directory(m_dir.path(), sub);
    if (std::string(sub) == "apps/web/..") {
      ASSERT_FALSE(read);
      EXPECT_EQ(read.error().kind, ErrorKind::invalid_input);
      continue;
    }
    ASSERT_TRUE(read) << sub << ": " << read.error().message;
    ASSERT_EQ(read->files.size(), 2u) << sub;
    EXPECT_EQ(read->files[0].path, "web/.hidden.yaml");
    EXPECT_EQ(read->files[1].path, "web/deploy.yaml");
  }
  auto dot = read_directory(m_dir.path(), ".");
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->files.size(), 5u);
}

TEST_F(ReadDirectory, SymlinksAndSpecialFilesAreSkippedWithWarnings) {
  ASSERT_EQ(::symlink("deploy.yaml", path("apps/web/inside.yaml").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", path("apps/outside.yaml").c_str()), 0);
  ASSERT_EQ(::symlink("apps", path("dirlink").c_str()), 0);
  ASSERT_EQ(::symlink("missing", path("dangling").c_str()), 0);
  ASSERT_EQ(::mkfifo(path("apps/pipe").c_str(), 0600), 0);
  m_dir.write("apps/back\\slash.yaml", "x");
  auto read = read_directory(m_dir.path(), "");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->files.size(), 5u);
  ASSERT_EQ(read->warnings.size(), 6u);
  EXPECT_EQ(read->warnings[0].rfind("apps/back\\slash.yaml: name not allowed", 0), 0u)
      << read->warnings[0];
  EXPECT_EQ(read->warnings[1], "apps/outside.yaml: symlink, skipped");
  EXPECT_EQ(read->warnings[2], "apps/pipe: FIFO, skipped");
  EXPECT_EQ(read->warnings[3], "apps/web/inside.yaml: symlink, skipped");
  EXPECT_EQ(read->warnings[4], "dangling: symlink, skipped");
  EXPECT_EQ(read->warnings[5], "dirlink: symlink, skipped");
}

TEST_F(ReadDirectory, ASymlinkedSubpathIsRefused) {
  ASSERT_EQ(::symlink("apps", path("via").c_str()), 0);
  ASSERT_EQ(::symlink("/etc", path("etc").c_str()), 0);
  for (const char* sub : {"via", "etc", "via/web"}) {
    auto read = read_directory(m_dir.path(), sub);
    ASSERT_FALSE(read) << sub;
    EXPECT_EQ(read.error().kind, ErrorKind::invalid_input) << sub;
    EXPECT_NE(read.error().message.find("symlink"), std::string::npos) << read.error().message;
  }
}

TEST_F(ReadDirectory, BadSubpathsAndMissingDirectories) {
  for (const char* sub : {"../", "/etc", "a//b", "a\\b"}) {
    auto read = read_directory(m_dir.path(), sub);
    ASSERT_FALSE(read) << sub;
    EXPECT_EQ(read.error().kind, ErrorKind::invalid_input) << sub;
  }
  EXPECT_EQ(read_directory(m_dir.path(), "nope").error().kind, ErrorKind::not_found);
  EXPECT_EQ(read_directory(m_dir.path() + "/nope", "").error().kind, ErrorKind::not_found);
  EXPECT_EQ(read_directory(m_dir.path(), "render.sh").error().kind, ErrorKind::invalid_input);
}

TEST_F(ReadDirectory, Bounded) {
  Limits files;
  files.max_files = 4;
  EXPECT_EQ(read_directory(m_dir.path(), "", files).error().kind, ErrorKind::too_large);
  Limits bytes;
  bytes.max_total_bytes = 50;
  EXPECT_EQ(read_directory(m_dir.path(), "", bytes).error().kind, ErrorKind::too_large);
  Limits depth;
  depth.max_depth = 2;
  EXPECT_EQ(read_directory(m_dir.path(), "", depth).error().kind, ErrorKind::too_large);
  depth.max_depth = 3;
  EXPECT_TRUE(read_directory(m_dir.path(), "", depth));
}

TEST_F(ReadDirectory, PacksToWhatUnpacks) {
  auto read = read_directory(m_dir.path(), "");
  ASSERT_TRUE(read);
  auto packed = pack(read->files);
  ASSERT_TRUE(packed) << packed.error().message;
  EXPECT_EQ(unpack(*packed).value(), read->files);
}

} // namespace
} // namespace common::artifact
