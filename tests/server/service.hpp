// imageupdater-flux-source serve as a child process for black-box tests: the built binary on an
// ephemeral loopback port (--port-file), its stderr in a log file the test can read.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "tests/support/process.hpp"

namespace server_test {

using namespace std::chrono_literals;

// One `serve` child process; killed (SIGKILL) on destruction if still running.
class Service {
public:
  // `extra` flags follow the defaults; by default the status is not filled (--workers 0), so
  // that resourceVersions change only through the requests a test makes.
  Service(const std::string& data, const std::string& scratch,
          const std::vector<std::string>& extra = {"--workers", "0"}) {
    m_port_file = scratch + "/port";
    m_log = scratch + "/serve.log";
    std::filesystem::remove(m_port_file);
    std::vector<std::string> args = {test_support::binary("imageupdater-flux-source"),
                                     "serve",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data",
                                     data,
                                     "--port-file",
                                     m_port_file};
    args.insert(args.end(), extra.begin(), extra.end());
    m_pid = fork();
    if (m_pid == 0) {
      const int fd = open(m_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
      }
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 400 && m_port == 0 && running(); ++i) { // setup failed: no port
      std::ifstream in(m_port_file);
      unsigned port = 0;
      if (in >> port) {
        m_port = static_cast<std::uint16_t>(port);
      } else {
        std::this_thread::sleep_for(25ms);
      }
    }
  }
  ~Service() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
  }
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  std::uint16_t port() const { return m_port; }
  pid_t pid() const { return m_pid; }

  // Whether the child has not exited (reaps it when it has; exit_status() keeps how it ended).
  bool running() {
    if (m_pid <= 0) {
      return false;
    }
    int status = 0;
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      m_exit_status = status;
      return false;
    }
    return true;
  }

  // The wait status of a child that has exited (see running()), -1 before.
  int exit_status() const { return m_exit_status; }

  // Sends `signal` and returns the wait status (-1 when the child did not end within 10 s).
  // A child that has already ended (setup failure) gives its status at once.
  int stop(int signal = SIGTERM) {
    if (m_pid <= 0) {
      return m_exit_status;
    }
    kill(m_pid, signal);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return status;
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }

  std::string log() const {
    std::ifstream in(m_log);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

private:
  pid_t m_pid = -1;
  int m_exit_status = -1;
  std::uint16_t m_port = 0;
  std::string m_port_file;
  std::string m_log;
};

} // namespace server_test
