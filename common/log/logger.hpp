// Structured logs for both executables: one line per event, `logfmt` (time=... level=...
// msg="..." key=value) or JSON ({"time":...,"level":...,"msg":...,"key":"value"}), written whole
// with one call so lines from different threads never interleave. spdlog is the backend (level
// threshold, dispatch, the locked sink); the event text is rendered here, so both formats and the
// escaping are the same whoever calls. Fields keep the order given.
//
// One event is one line, always: in both formats every value (and the message) is escaped —
// control characters (\n, \r, \t, \u00XX), quotes, backslashes, U+0085/U+2028/U+2029 (\uXXXX) —
// and invalid UTF-8 becomes U+FFFD.
//
// Values are typed: a Field made from a number or a bool is written bare (JSON number/true/false,
// logfmt bare word); every other value is a string (quoted in JSON; in logfmt quoted only when it
// must be).
//
// Secrets: callers never pass one knowingly, and the logger redacts what slips through:
//   - the value of a field whose key names a secret (see is_secret_key) is written as "***";
//   - URL user info in the message and in string values ("https://user:pass@host" ->
//     "https://***@host").
// Values that may carry a secret elsewhere (a URL's query) go through redact_url() first.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdio>
#include <initializer_list>
#include <memory>
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
  enum class Kind { string, number, boolean };

  Field(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  Field(std::string k, const char* v) : key(std::move(k)), value(v == nullptr ? "" : v) {}
  Field(std::string k, std::string_view v) : key(std::move(k)), value(v) {}
  Field(std::string k, bool v)
      : key(std::move(k)), value(v ? "true" : "false"), kind(Kind::boolean) {}
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Field(std::string k, T v) : key(std::move(k)), value(std::to_string(v)), kind(Kind::number) {}
  // Finite values in the shortest form that reads back the same; NaN and infinities as strings.
  Field(std::string k, double v);

  std::string key;   // [A-Za-z0-9_.-]+ by convention; other characters are replaced by '_'
  std::string value; // the text written (for numbers and bools, their JSON spelling)
  Kind kind = Kind::string;
};
using Fields = std::vector<Field>;

// Whether a field named `key` carries a secret, so its value is never written: the key, lower
// case, contains "password", "passwd", "token", "secret", "authorization", "apikey", "api_key",
// "api-key", "cookie", "credential" or "private_key".
bool is_secret_key(std::string_view key);

// One line, with its trailing '\n'. `time` is RFC 3339 UTC with milliseconds. Applies the
// escaping and redaction described above.
std::string format_line(Format format, std::chrono::system_clock::time_point time, Level level,
                        std::string_view message, const Fields& fields);

// "https://user:pass@host/path?token=x" -> "https://host/path": no user info, no query.
std::string redact_url(std::string_view url);

class Logger {
public:
  // `out` (stderr in the executables) and `clock` must outlive the logger. Events below
  // `min_level` are dropped. Thread-safe: each event is written with one fwrite and flushed.
  // Logging never throws and never fails the caller (a write error loses the line).
  Logger(std::FILE* out, util::Clock& clock, Format format = Format::logfmt,
         Level min_level = Level::info);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

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
  struct Backend;
  util::Clock& m_clock;
  Format m_format;
  Level m_min_level;
  std::unique_ptr<Backend> m_backend;
};

} // namespace common::log
