#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <gtest/gtest.h>

#include "common/util/dir.hpp"
#include "common/util/file.hpp"

#include "tests/support/process.hpp"

namespace common::util {
namespace {

namespace fs = std::filesystem;

bool yaml(std::string_view name) {
  return name.ends_with(".yaml");
}

TEST(UtilDir, SortedSelectedFilesWithSymlinkRules) {
  test_support::TempDir outside;
  const std::string away = outside.write("away.yaml", "x");
  test_support::TempDir dir;
  const fs::path root = dir.path();
  fs::create_directories(root / "b" / "c");
  fs::create_directories(root / ".git");
  fs::create_directories(root / "real");
  dir.write("b/c/z.yaml", "z");
  dir.write("b/a.yaml", "a");
  dir.write("a.yaml", "a");
  dir.write("notes.txt", "n");
  dir.write(".git/h.yaml", "h");
  dir.write("real/r.yaml", "r");
  fs::create_symlink("b/a.yaml", root / "link.yaml");
  fs::create_symlink("missing.yaml", root / "dangling.yaml");
  fs::create_symlink(away, root / "escape.yaml");
  fs::create_symlink("real", root / "dir.yaml");

  auto files = list_files(dir.path(), ListOptions{yaml});
  ASSERT_TRUE(files.has_value()) << files.error().message;
  std::vector<std::string> got;
  for (const auto& f : *files) {
    got.push_back(f.relative + (f.skipped.empty() ? "" : " [" + f.skipped + "]"));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "a.yaml",
                     "b/a.yaml",
                     "b/c/z.yaml",
                     "dangling.yaml [dangling symlink]",
                     "dir.yaml [symlink to a directory]",
                     "escape.yaml [symlink to a file outside the directory]",
                     "link.yaml",
                     "real/r.yaml",
                 }));
}

TEST(UtilDir, ErrorsAndLimits) {
  test_support::TempDir dir;
  EXPECT_EQ(list_files(dir.path() + "/nope", {}).error().kind, ErrorKind::not_found);
  EXPECT_EQ(list_files(dir.write("f", "x"), {}).error().kind, ErrorKind::invalid_input);
  for (int i = 0; i < 5; ++i) {
    dir.write("f" + std::to_string(i) + ".yaml", "x");
  }
  ListOptions few{yaml};
  few.max_files = 3;
  const auto r = list_files(dir.path(), few);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
}

TEST(UtilFile, WriteAtomicReplacesAndKeepsTheMode) {
  test_support::TempDir dir;
  const std::string path = dir.write("run.sh", "old");
  ASSERT_EQ(::chmod(path.c_str(), 0750), 0);
  ASSERT_TRUE(write_file_atomic(path, "new content").has_value());
  EXPECT_EQ(*read_file(path), "new content");
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  const std::string fresh = dir.path() + "/fresh.yaml";
  ASSERT_TRUE(write_file_atomic(fresh, "").has_value());
  EXPECT_EQ(*read_file(fresh), "");
  // Nothing left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 2u);
  const auto bad = write_file_atomic(dir.path() + "/no/such/dir/x.yaml", "x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("no/such/dir/x.yaml"), std::string::npos);
}

} // namespace
} // namespace common::util
