// Structured logs for the long-running service: one line per event, `logfmt` (time=... level=...
// msg="..." key=value) or JSON ({"time":...,"level":...,"msg":...,"key":"value"}), written whole
// with one call so lines from different threads never interleave. Fields keep the order given;
// values are escaped so a line is always one line (control characters, quotes, invalid UTF-8).
//
// Secrets: nothing here knows what a secret is, so callers never pass one. Values that may carry
// one (URLs with a query, an Authorization header) go through redact_url() or are not logged.
#pragma once

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::log {

enum class Level { debug, info, warn, error };
enum class Format { logfmt, json };

std::string_view to_string(Level level) noexcept; // "debug" | "info" | "warn" | "error"
// "debug", "info", "warn" (or "warning"), "error"; invalid_input naming the value otherwise.
util::Result<Level> parse_level(std::string_view text);
// "logfmt" | "json"; invalid_input naming the value otherwise.
util::Result<Format> parse_format(std::string_view text);

struct Field {
  std::string key; // [A-Za-z0-9_.-]+ by convention; other characters are replaced by '_'
  std::string value;
};
using Fields = std::vector<Field>;

// One line, with its trailing '\n'. `time` is RFC 3339 UTC with milliseconds.
std::string format_line(Format format, std::chrono::system_clock::time_point time, Level level,
                        std::string_view message, const Fields& fields);

// "https://user:pass@host/path?token=x" -> "https://host/path": no user info, no query.
std::string redact_url(std::string_view url);

class Logger {
public:
  // `out` and `clock` must outlive the logger. Events below `min_level` are dropped.
  Logger(std::FILE* out, util::Clock& clock, Format format = Format::logfmt,
         Level min_level = Level::info);

  bool enabled(Level level) const noexcept { return level >= m_min_level; }
  void log(Level level, std::string_view message, const Fields& fields = {});
  void debug(std::string_view message, const Fields& fields = {}) {
    log(Level::debug, message, fields);
  }
  void info(std::string_view message, const Fields& fields = {}) {
    log(Level::info, message, fields);
  }
  void warn(std::string_view message, const Fields& fields = {}) {
    log(Level::warn, message, fields);
  }
  void error(std::string_view message, const Fields& fields = {}) {
    log(Level::error, message, fields);
  }

private:
  std::FILE* m_out;
  util::Clock& m_clock;
  Format m_format;
  Level m_min_level;
  std::mutex m_mutex;
};

} // namespace common::log
