#include "common/log/logger.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <ctime>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include "common/util/strings.hpp"

namespace common::log {

namespace {

std::string format_time(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  const int millis = static_cast<int>(((ms.count() % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buffer;
}

// Length of the valid UTF-8 sequence at s[i], 0 when it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) {
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// The escaped body of a double-quoted string, valid in both JSON and logfmt: \" \\ \n \r \t,
// other control characters as \u00XX, the Unicode line breaks U+0085, U+2028 and U+2029 as
// \uXXXX (some readers split lines on them), invalid UTF-8 bytes as U+FFFD.
void append_escaped(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (const std::size_t n = utf8_length(s, i); n > 0) {
      const std::string_view seq = s.substr(i, n);
      if (seq == "\xc2\x85" || seq == "\xe2\x80\xa8" || seq == "\xe2\x80\xa9") {
        out += seq.size() == 2 ? "\\u0085" : (seq[2] == '\xa8' ? "\\u2028" : "\\u2029");
      } else {
        out.append(seq);
      }
      i += n;
      continue;
    } else {
      util::append_utf8(out, 0xFFFD);
    }
    ++i;
  }
}

bool bare_logfmt_value(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7F) {
      return false;
    }
  }
  return true;
}

std::string clean_key(std::string_view key) {
  std::string out;
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    out += ok ? c : '_';
  }
  return out.empty() ? "_" : out;
}

// "scheme://user:pass@host..." -> "scheme://***@host...", for every URL in `s`: a secret pasted
// into a message or a value (a remote URL with a token in it) never reaches the log.
std::string redact_user_info(std::string_view s) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t scheme = s.find("://"); scheme != std::string_view::npos;
       scheme = s.find("://", from)) {
    const std::size_t authority = scheme + 3;
    const std::size_t end = std::min(s.find_first_of("/?# \t\r\n\"'<>", authority), s.size());
    const std::size_t at = s.substr(authority, end - authority).rfind('@');
    out.append(s.substr(from, authority - from));
    if (at != std::string_view::npos) {
      out += "***";
      from = authority + at; // the '@' and the host stay
    } else {
      from = authority;
    }
  }
  out.append(s.substr(from));
  return out;
}

constexpr std::string_view k_redacted = "***";

void append_key(std::string& out, Format format, std::string_view key, bool first) {
  if (format == Format::json) {
    out += first ? "\"" : ",\"";
    out += clean_key(key);
    out += "\":";
    return;
  }
  if (!first) {
    out += ' ';
  }
  out += clean_key(key);
  out += '=';
}

void append_string(std::string& out, Format format, std::string_view value) {
  if (format == Format::logfmt && bare_logfmt_value(value)) {
    out.append(value);
    return;
  }
  out += '"';
  append_escaped(out, value);
  out += '"';
}

void append_field(std::string& out, Format format, const Field& field) {
  append_key(out, format, field.key, false);
  if (is_secret_key(field.key)) {
    append_string(out, format, k_redacted);
  } else if (field.kind != Field::Kind::string) {
    out += field.value; // made by Field's constructors: a JSON number, true or false
  } else if (field.value.find("://") != std::string::npos) {
    append_string(out, format, redact_user_info(field.value));
  } else {
    append_string(out, format, field.value);
  }
}

// The part of a line before the message: `{"time":"...","level":"..."` or `time=... level=...`.
void append_head(std::string& out, Format format, std::chrono::system_clock::time_point time,
                 Level level) {
  if (format == Format::json) {
    out += '{';
  }
  append_key(out, format, "time", true);
  append_string(out, format, format_time(time));
  append_key(out, format, "level", false);
  append_string(out, format, to_string(level));
}

// The message and the fields: `,"msg":"...","k":v` or ` msg=... k=v` (no head, no end).
std::string render_body(Format format, std::string_view message, const Fields& fields) {
  std::string out;
  out.reserve(16 + message.size() + fields.size() * 24);
  append_key(out, format, "msg", false);
  if (message.find("://") != std::string_view::npos) {
    append_string(out, format, redact_user_info(message));
  } else {
    append_string(out, format, message);
  }
  for (const Field& f : fields) {
    append_field(out, format, f);
  }
  return out;
}

void append_end(std::string& out, Format format) {
  if (format == Format::json) {
    out += '}';
  }
  out += '\n';
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
  case Level::debug:
    return spdlog::level::debug;
  case Level::info:
    return spdlog::level::info;
  case Level::warn:
    return spdlog::level::warn;
  case Level::error:
    return spdlog::level::err;
  }
  return spdlog::level::info;
}

Level from_spdlog(spdlog::level::level_enum level) {
  switch (level) {
  case spdlog::level::trace:
  case spdlog::level::debug:
    return Level::debug;
  case spdlog::level::info:
    return Level::info;
  case spdlog::level::warn:
    return Level::warn;
  default:
    return Level::error;
  }
}

// spdlog hands the formatter the event's time and level; the payload is the rendered body.
class EventFormatter final : public spdlog::formatter {
public:
  explicit EventFormatter(Format format) : m_format(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(64 + msg.payload.size());
    append_head(line, m_format, msg.time, from_spdlog(msg.level));
    line.append(msg.payload.data(), msg.payload.size());
    append_end(line, m_format);
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<EventFormatter>(m_format);
  }

private:
  Format m_format;
};

// Writes each formatted event with one fwrite and flushes it (base_sink holds its mutex around
// sink_it_), so concurrent events never interleave and a crash loses no finished line.
class FileSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit FileSink(std::FILE* out) : m_out(out) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::fwrite(line.data(), 1, line.size(), m_out);
    std::fflush(m_out);
  }
  void flush_() override { std::fflush(m_out); }

private:
  std::FILE* m_out;
};

} // namespace

Field::Field(std::string k, double v) : key(std::move(k)) {
  if (!std::isfinite(v)) {
    value = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buffer[32];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
  value.assign(buffer, r.ptr);
  kind = Kind::number;
}

bool is_secret_key(std::string_view key) {
  static constexpr std::array<std::string_view, 11> k_words = {
      "password", "passwd",  "token",  "secret",     "authorization", "apikey",
      "api_key",  "api-key", "cookie", "credential", "private_key"};
  const std::string lower = util::to_lower(key);
  return std::any_of(k_words.begin(), k_words.end(),
                     [&](std::string_view w) { return lower.find(w) != std::string::npos; });
}

std::string_view to_string(Level level) noexcept {
  switch (level) {
  case Level::debug:
    return "debug";
  case Level::info:
    return "info";
  case Level::warn:
    return "warn";
  case Level::error:
    return "error";
  }
  return "info";
}

util::Result<Level> parse_level(std::string_view text) {
  if (text == "debug") {
    return Level::debug;
  }
  if (text == "info") {
    return Level::info;
  }
  if (text == "warn" || text == "warning") {
    return Level::warn;
  }
  if (text == "error") {
    return Level::error;
  }
  return util::fail(util::ErrorKind::invalid_input,
                    "log level " + util::quote(text) + " is not one of debug, info, warn, error");
}

util::Result<Format> parse_format(std::string_view text) {
  if (text == "logfmt") {
    return Format::logfmt;
  }
  if (text == "json") {
    return Format::json;
  }
  return util::fail(util::ErrorKind::invalid_input,
                    "log format " + util::quote(text) + " is not one of logfmt, json");
}

std::string format_line(Format format, std::chrono::system_clock::time_point time, Level level,
                        std::string_view message, const Fields& fields) {
  std::string out;
  append_head(out, format, time, level);
  out += render_body(format, message, fields);
  append_end(out, format);
  return out;
}

std::string redact_url(std::string_view url) {
  std::string_view rest = url;
  std::string out;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    out.append(rest.substr(0, scheme + 3));
    rest.remove_prefix(scheme + 3);
    const auto authority_end = rest.find_first_of("/?#");
    const auto at = rest.substr(0, authority_end).rfind('@');
    if (at != std::string_view::npos) {
      rest.remove_prefix(at + 1);
    }
  }
  out.append(rest.substr(0, rest.find_first_of("?#")));
  return out;
}

// One spdlog logger per Logger, never registered in spdlog's global registry (no global state):
// spdlog keeps the level threshold and the sink, errors inside it are swallowed (a log line must
// never fail or abort the caller).
struct Logger::Backend {
  std::shared_ptr<spdlog::logger> logger;
};

Logger::Logger(std::FILE* out, util::Clock& clock, Format format, Level min_level)
    : m_clock(clock), m_format(format), m_min_level(min_level),
      m_backend(std::make_unique<Backend>()) {
  auto sink = std::make_shared<FileSink>(out);
  sink->set_formatter(std::make_unique<EventFormatter>(format));
  m_backend->logger = std::make_shared<spdlog::logger>("imageupdater", std::move(sink));
  m_backend->logger->set_level(to_spdlog(min_level));
  m_backend->logger->flush_on(spdlog::level::off);
  m_backend->logger->set_error_handler([](const std::string&) {});
}

Logger::~Logger() = default;

void Logger::log(Level level, std::string_view message, const Fields& fields) {
  if (!enabled(level)) {
    return;
  }
  try {
    const std::string body = render_body(m_format, message, fields);
    m_backend->logger->log(m_clock.now(), spdlog::source_loc{}, to_spdlog(level),
                           spdlog::string_view_t(body.data(), body.size()));
  } catch (...) {
    // Out of memory while rendering: the line is lost, the caller goes on.
  }
}

} // namespace common::log
