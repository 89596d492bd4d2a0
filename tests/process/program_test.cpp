// find_program and current_environment.
#include <filesystem>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/process/runner.hpp"

#include "tests/support/process.hpp"

namespace {

using common::process::find_program;
using common::util::ErrorKind;

std::string executable(const test_support::TempDir& dir, const std::string& name) {
  const std::string path = dir.write(name, "#!/bin/sh\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(FindProgram, LooksUpPath) {
  test_support::TempDir a;
  test_support::TempDir b;
  const std::string in_b = executable(b, "tool");
  const std::string in_a = executable(a, "tool");
  const std::string only_b = executable(b, "other");
  a.write("plain", "not executable");
  executable(b, "plain");
  std::filesystem::create_directory(a.path() + "/dirtool");
  executable(b, "dirtool");

  struct Case {
    std::string name;
    std::string path_var;
    std::string want; // "" = not_found
  };
  const std::vector<Case> cases = {
      {"tool", a.path() + ":" + b.path(), in_a},
      {"tool", b.path() + "/:" + a.path(), in_b},
      {"other", a.path() + ":" + b.path(), only_b},
      {"plain", a.path() + ":" + b.path(), b.path() + "/plain"},     // not executable: skipped
      {"dirtool", a.path() + ":" + b.path(), b.path() + "/dirtool"}, // a directory: skipped
      {"tool", "", ""},
      {"tool", "::relative:" + a.path(), in_a},
      {"missing", a.path() + ":" + b.path(), ""},
      {in_b, "", in_b},                    // a path: PATH not used
      {a.path() + "/./tool", "", in_a},    // normalised
      {a.path() + "/plain", b.path(), ""}, // a path that is not executable
  };
  for (const auto& c : cases) {
    auto got = find_program(c.name, c.path_var);
    if (c.want.empty()) {
      ASSERT_FALSE(got) << c.name << " in " << c.path_var << " -> " << *got;
      EXPECT_EQ(got.error().kind, ErrorKind::not_found);
      EXPECT_NE(got.error().message.find(c.name), std::string::npos);
    } else {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(*got, c.want) << c.name << " in " << c.path_var;
    }
  }
  auto empty = find_program("", "/bin");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, ErrorKind::invalid_input);
}

TEST(FindProgram, RelativeEntriesAreSkipped) {
  // "." on PATH would find tools planted in the working directory (an app checkout).
  test_support::TempDir dir;
  executable(dir, "planted");
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto got = find_program("planted", ".::");
  auto as_path = find_program("./planted", "");
  std::filesystem::current_path(cwd);
  EXPECT_FALSE(got);
  ASSERT_TRUE(as_path) << as_path.error().message;
  EXPECT_EQ(*as_path, dir.path() + "/planted");
}

TEST(CurrentEnvironment, HasPath) {
  bool found = false;
  for (const auto& entry : common::process::current_environment()) {
    found = found || entry.starts_with("PATH=");
  }
  EXPECT_TRUE(found);
}

} // namespace
