// SystemRunner with real processes (/bin/sh -c ...).
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/process/runner.hpp"

#include "tests/support/process.hpp"

namespace {

using namespace common::process;
using namespace std::chrono_literals;
using common::util::ErrorKind;

Command sh(const std::string& script) {
  Command c;
  c.argv = {"/bin/sh", "-c", script};
  c.env = {"PATH=/usr/bin:/bin"};
  c.timeout = 20s;
  return c;
}

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

bool eventually_gone(pid_t pid) {
  for (int i = 0; i < 300; ++i) {
    if (is_gone(pid)) {
      return true;
    }
    std::this_thread::sleep_for(10ms); // SIGKILL is delivered asynchronously
  }
  return false;
}

TEST(SystemRunner, ExitCodesAndSignals) {
  struct Case {
    std::string script;
    int exit_code;
    int signal;
    std::string status;
  };
  const std::vector<Case> cases = {
      {"exit 0", 0, 0, "exited with status 0"},
      {"exit 3", 3, 0, "exited with status 3"},
      {"exit 255", 255, 0, "exited with status 255"},
      {"kill -9 $$", -1, 9, "killed by signal 9"},
      {"kill -TERM $$", -1, SIGTERM, "killed by signal 15"},
      // The child gets default dispositions and an empty mask, whatever ours are.
      {"kill -PIPE $$", -1, SIGPIPE, "killed by signal 13"},
  };
  SystemRunner runner;
  for (const auto& c : cases) {
    auto got = runner.run(sh(c.script));
    ASSERT_TRUE(got) << c.script << ": " << got.error().message;
    EXPECT_EQ(got->exit_code, c.exit_code) << c.script;
    EXPECT_EQ(got->signal, c.signal) << c.script;
    EXPECT_EQ(got->status_text(), c.status) << c.script;
    EXPECT_EQ(got->success(), c.exit_code == 0) << c.script;
    EXPECT_FALSE(got->timed_out);
  }
}

TEST(SystemRunner, StdoutAndStderrSeparately) {
  SystemRunner runner;
  auto got = runner.run(sh("echo out; echo err >&2; echo out2; exit 1"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "out\nout2\n");
  EXPECT_EQ(got->stderr_data, "err\n");
  EXPECT_EQ(got->exit_code, 1);
}

TEST(SystemRunner, BigStdoutAndStderrAtOnceDoNotDeadlock) {
  SystemRunner runner;
  // 50 MB on stdout and 8 MB on stderr, interleaved by two writers.
  Command c = sh("head -c 52428800 /dev/zero | tr '\\0' a & head -c 8388608 /dev/zero | tr "
                 "'\\0' b >&2; wait");
  c.max_stderr = 16 << 20;
  c.timeout = 60s;
  auto got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->exit_code, 0);
  EXPECT_EQ(got->stdout_data.size(), 52428800u);
  EXPECT_EQ(got->stderr_data.size(), 8388608u);
  EXPECT_EQ(got->stdout_data.find_first_not_of('a'), std::string::npos);
  EXPECT_EQ(got->stderr_data.find_first_not_of('b'), std::string::npos);
}

TEST(SystemRunner, StdoutBoundKills) {
  SystemRunner runner;
  Command c = sh("while :; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done");
  c.max_stdout = 64 << 10;
  auto got = runner.run(c);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::too_large);
  EXPECT_NE(got.error().message.find("more than 65536 bytes on stdout"), std::string::npos);
  EXPECT_NE(got.error().message.find("/bin/sh"), std::string::npos);
  EXPECT_EQ(got.error().message.find("aaaa"), std::string::npos);

  // Exactly at the bound is fine.
  c = sh("printf 0123456789");
  c.max_stdout = 10;
  auto exact = runner.run(c);
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_EQ(exact->stdout_data, "0123456789");
}

TEST(SystemRunner, StderrBoundKeepsTheTail) {
  SystemRunner runner;
  Command c = sh("i=0; while [ $i -lt 5000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; "
                 "echo 'the reason' >&2; exit 2");
  c.max_stderr = 100;
  auto got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->exit_code, 2);
  EXPECT_EQ(got->stderr_data.size(), 100u);
  EXPECT_TRUE(got->stderr_data.ends_with("line 4999\nthe reason\n")) << got->stderr_data;
  EXPECT_GT(got->stderr_dropped, 0u);
}

TEST(SystemRunner, TimeoutKillsTheProcessGroup) {
  test_support::TempDir dir;
  SystemRunner runner;
  const std::string pid_file = dir.path() + "/grandchild.pid";
  // A grandchild that would outlive the shell, then the shell hangs.
  Command c = sh("sleep 30 & echo $! > " + pid_file + "; sleep 30");
  c.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto got = runner.run(c);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::transient);
  EXPECT_NE(got.error().message.find("still running after 300 ms"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild);
  EXPECT_TRUE(eventually_gone(grandchild));
}

TEST(SystemRunner, DescendantsLeftRunningAreKilledAtExit) {
  test_support::TempDir dir;
  SystemRunner runner;
  const std::string pid_file = dir.path() + "/bg.pid";
  // The background child keeps stdout and stderr open: run() must not wait for it.
  Command c = sh("sleep 30 & echo $! > " + pid_file + "; echo done");
  const auto start = std::chrono::steady_clock::now();
  auto got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "done\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  std::ifstream in(pid_file);
  pid_t bg = 0;
  ASSERT_TRUE(in >> bg);
  EXPECT_TRUE(eventually_gone(bg));
}

TEST(SystemRunner, WorkingDirectory) {
  test_support::TempDir dir;
  SystemRunner runner;
  Command c = sh("pwd -P");
  c.cwd = dir.path();
  auto got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  char real[4096];
  ASSERT_NE(::realpath(dir.path().c_str(), real), nullptr);
  EXPECT_EQ(got->stdout_data, std::string(real) + "\n");

  c.cwd = dir.path() + "/missing";
  auto missing = runner.run(c);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(missing.error().message.find(c.cwd), std::string::npos);
}

TEST(SystemRunner, EnvironmentIsExactlyTheGivenList) {
  SystemRunner runner;
  Command c;
  c.argv = {"/usr/bin/env"};
  c.env = {"B=2", "A=one two", "EMPTY="};
  auto got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "B=2\nA=one two\nEMPTY=\n");

  c.env.clear();
  got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "");

  // current_environment() passes ours on.
  ::setenv("IU_PROCESS_TEST_MARKER", "present", 1);
  c.env = current_environment();
  got = runner.run(c);
  ::unsetenv("IU_PROCESS_TEST_MARKER");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_NE(got->stdout_data.find("IU_PROCESS_TEST_MARKER=present\n"), std::string::npos);
}

TEST(SystemRunner, Stdin) {
  SystemRunner runner;
  // No stdin_data: /dev/null.
  auto got = runner.run(sh("cat; echo end"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "end\n");

  Command c = sh("cat");
  c.stdin_data = "line 1\nline 2";
  got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "line 1\nline 2");

  c.stdin_data = "";
  got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "");

  // 20 MB through cat while it writes back: stdin and stdout served together.
  c.stdin_data = std::string(20 << 20, 'x');
  got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data.size(), std::size_t{20} << 20);

  // A child that stops reading: no SIGPIPE for us, a normal result.
  c = sh("head -c 5; exit 0");
  c.stdin_data = std::string(8 << 20, 'y');
  got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "yyyyy");
  EXPECT_EQ(got->exit_code, 0);
}

TEST(SystemRunner, StderrNotCaptured) {
  SystemRunner runner;
  Command c = sh("echo visible-on-test-stderr >&2; echo out");
  c.capture_stderr = false;
  auto got = runner.run(c);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stdout_data, "out\n");
  EXPECT_EQ(got->stderr_data, "");
}

TEST(SystemRunner, BadCommands) {
  test_support::TempDir dir;
  const std::string plain = dir.write("plain.sh", "#!/bin/sh\necho hi\n");
  const std::string noshebang = dir.write("noshebang", "\x7f"
                                                       "ELFgarbage");
  ::chmod(noshebang.c_str(), 0700);
  struct Case {
    std::vector<std::string> argv;
    ErrorKind kind;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, ErrorKind::invalid_input, "no program"},
      {{"sh", "-c", "true"}, ErrorKind::invalid_input, "sh: the path must be absolute"},
      {{dir.path() + "/missing"}, ErrorKind::not_found, dir.path() + "/missing"},
      {{dir.path()}, ErrorKind::invalid_input, "not a regular file"},
      {{plain}, ErrorKind::invalid_input, "not executable"},
      {{noshebang}, ErrorKind::internal, "cannot run"},
  };
  SystemRunner runner;
  for (const auto& c : cases) {
    Command cmd;
    cmd.argv = c.argv;
    auto got = runner.run(cmd);
    ASSERT_FALSE(got) << c.message;
    EXPECT_EQ(got.error().kind, c.kind) << got.error().message;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos) << got.error().message;
  }
}

TEST(SystemRunner, ConcurrentRuns) {
  SystemRunner runner;
  std::vector<std::thread> threads;
  std::vector<std::string> outs(4);
  for (std::size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([&runner, &outs, i] {
      auto got = runner.run(sh("echo " + std::to_string(i) + "; sleep 0.1"));
      outs[i] = got ? got->stdout_data : got.error().message;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (std::size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(outs[i], std::to_string(i) + "\n");
  }
}

} // namespace
