// SystemEnvironment::run_script with real scripts in a temp directory.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/credentials/environment.hpp"

#include "tests/support/process.hpp"

namespace {

using namespace common::credentials;
using namespace std::chrono_literals;
using common::util::ErrorKind;

// Dead or a zombie (a container's init may be slow to reap, or never reap).
bool is_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) {
    return true;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

std::string script(const test_support::TempDir& dir, const std::string& name,
                   const std::string& body) {
  std::string path = dir.write(name, "#!/bin/sh\n" + body);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

TEST(RunScript, PrintsCredentials) {
  test_support::TempDir dir;
  SystemEnvironment env;
  // Arguments: none. stderr is not part of the output.
  auto path = script(dir, "ok.sh", "echo \"args=$#\" >&2\necho 'user:pa:ss'\n");
  auto got = env.run_script(path, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, "user:pa:ss\n");
}

TEST(RunScript, NoArgumentsAndNoStdin) {
  test_support::TempDir dir;
  SystemEnvironment env;
  auto path = script(dir, "args.sh", "printf '%s:' \"$#\"; cat; echo end\n");
  auto got = env.run_script(path, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, "0:end\n");
}

TEST(RunScript, TimeoutKillsProcessGroup) {
  test_support::TempDir dir;
  SystemEnvironment env;
  const std::string pid_file = dir.path() + "/child.pid";
  // A background child that would outlive the script, then the script hangs.
  auto path = script(dir, "slow.sh", "sleep 30 &\necho $! > " + pid_file + "\nsleep 30\n");
  const auto start = std::chrono::steady_clock::now();
  auto got = env.run_script(path, {300ms, 1024});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::transient);
  EXPECT_NE(got.error().message.find("still running after 300 ms"), std::string::npos);
  EXPECT_NE(got.error().message.find(path), std::string::npos);
  EXPECT_LT(took, 5s);
  // The background child is gone too (killed with the group).
  std::ifstream in(pid_file);
  pid_t child = 0;
  ASSERT_TRUE(in >> child);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = is_gone(child);
    if (!gone) {
      std::this_thread::sleep_for(10ms); // SIGKILL is delivered asynchronously
    }
  }
  EXPECT_TRUE(gone);
}

TEST(RunScript, BackgroundChildHoldingStdoutDoesNotBlock) {
  test_support::TempDir dir;
  SystemEnvironment env;
  auto path = script(dir, "bg.sh", "sleep 30 &\necho 'u:p'\nexit 0\n");
  const auto start = std::chrono::steady_clock::now();
  auto got = env.run_script(path, {5s, 1024});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, "u:p\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST(RunScript, HugeOutput) {
  test_support::TempDir dir;
  SystemEnvironment env;
  auto path =
      script(dir, "huge.sh", "while :; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done\n");
  auto got = env.run_script(path, {10s, 64 << 10});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::too_large);
  EXPECT_NE(got.error().message.find("more than 65536 bytes"), std::string::npos);
  EXPECT_EQ(got.error().message.find("aaaa"), std::string::npos);
}

TEST(RunScript, Failures) {
  test_support::TempDir dir;
  SystemEnvironment env;
  auto failing = script(dir, "fail.sh", "echo 'u:secretvalue'\nexit 3\n");
  auto got = env.run_script(failing, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::auth);
  EXPECT_NE(got.error().message.find("exited with status 3"), std::string::npos);
  EXPECT_EQ(got.error().message.find("secretvalue"), std::string::npos);

  auto killed = script(dir, "kill.sh", "kill -9 $$\n");
  got = env.run_script(killed, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::auth);
  EXPECT_NE(got.error().message.find("signal 9"), std::string::npos);

  got = env.run_script("relative.sh", {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(got.error().message.find("absolute"), std::string::npos);

  got = env.run_script(dir.path() + "/missing.sh", {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::not_found);
  EXPECT_NE(got.error().message.find(dir.path() + "/missing.sh"), std::string::npos);

  auto plain = dir.write("plain.sh", "#!/bin/sh\necho u:p\n");
  std::filesystem::permissions(plain, std::filesystem::perms::owner_read |
                                          std::filesystem::perms::owner_write);
  got = env.run_script(plain, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(got.error().message.find("not executable"), std::string::npos);

  got = env.run_script(dir.path(), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(got.error().message.find("not a regular file"), std::string::npos);
}

TEST(SystemEnvironment, ReadFileAndGetenv) {
  test_support::TempDir dir;
  SystemEnvironment env;
  auto path = dir.write("f", "content");
  auto got = env.read_file(path, 100);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "content");
  auto missing = env.read_file(dir.path() + "/nope", 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  auto big = env.read_file(path, 3);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, ErrorKind::too_large);
  EXPECT_TRUE(env.getenv("PATH"));
  EXPECT_FALSE(env.getenv("IU_SURELY_NOT_SET_0xC0FFEE"));
}

} // namespace
