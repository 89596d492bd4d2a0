#include "common/log/logger.hpp"

#include <cstdint>
#include <ctime>

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
// other control characters as \u00XX, invalid UTF-8 bytes as U+FFFD.
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
      out.append(s.substr(i, n));
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

void append_pair(std::string& out, Format format, std::string_view key, std::string_view value,
                 bool first) {
  if (format == Format::json) {
    out += first ? "\"" : ",\"";
    out += clean_key(key);
    out += "\":\"";
    append_escaped(out, value);
    out += '"';
    return;
  }
  if (!first) {
    out += ' ';
  }
  out += clean_key(key);
  out += '=';
  if (bare_logfmt_value(value)) {
    out.append(value);
  } else {
    out += '"';
    append_escaped(out, value);
    out += '"';
  }
}

} // namespace

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
  out.reserve(96 + message.size() + fields.size() * 24);
  if (format == Format::json) {
    out += '{';
  }
  append_pair(out, format, "time", format_time(time), true);
  append_pair(out, format, "level", to_string(level), false);
  append_pair(out, format, "msg", message, false);
  for (const Field& f : fields) {
    append_pair(out, format, f.key, f.value, false);
  }
  if (format == Format::json) {
    out += '}';
  }
  out += '\n';
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

Logger::Logger(std::FILE* out, util::Clock& clock, Format format, Level min_level)
    : m_out(out), m_clock(clock), m_format(format), m_min_level(min_level) {}

void Logger::log(Level level, std::string_view message, const Fields& fields) {
  if (!enabled(level)) {
    return;
  }
  const std::string line = format_line(m_format, m_clock.now(), level, message, fields);
  const std::lock_guard lock(m_mutex);
  std::fwrite(line.data(), 1, line.size(), m_out);
  std::fflush(m_out);
}

} // namespace common::log
