// Runs a program as a child process for black-box tests: stdin from a string, stdout and
// stderr captured, a wall-clock bound after which the child is killed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace test_support {

struct ProcessResult {
  int exit_code = -1; // -1 when killed by a signal (then `signal` is set)
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_text = {},
                          int timeout_seconds = 30);

// Path of a built executable ("imageupdater-cmp" -> "<build>/bin/imageupdater-cmp").
std::string binary(const std::string& name);

// A fresh directory under the system temp dir, removed with its content on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }
  // Writes a file (relative to the directory) and returns its full path.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string m_path;
};

// Whether `needle` occurs in `haystack`.
bool contains(std::string_view haystack, std::string_view needle);

// A whole file's bytes, "" when it cannot be read.
std::string read_text_file(const std::string& path);

} // namespace test_support
