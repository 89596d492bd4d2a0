#include "common/manifest/marker.hpp"

#include <cstdint>

#include "common/util/strings.hpp"

namespace common::manifest {
namespace {

// Just enough of JSON (RFC 8259) to unmarshal an object into Go's map[string]string the way
// encoding/json does: string values, null as "", anything else an error.
class ObjectReader {
public:
  explicit ObjectReader(std::string_view text) : m_text(text) {}

  // The "$imagepolicy" value, nullopt when the text is not such an object.
  std::optional<std::string> read() {
    skip_space();
    if (!eat('{')) {
      return std::nullopt;
    }
    std::optional<std::string> setter;
    skip_space();
    if (!eat('}')) {
      for (;;) {
        skip_space();
        std::string key;
        if (!read_string(key)) {
          return std::nullopt;
        }
        skip_space();
        if (!eat(':')) {
          return std::nullopt;
        }
        skip_space();
        std::string value;
        if (m_text.substr(m_pos, 4) == "null") {
          m_pos += 4;
        } else if (!read_string(value)) {
          return std::nullopt;
        }
        if (key == "$imagepolicy") {
          setter = std::move(value);
        }
        skip_space();
        if (eat('}')) {
          break;
        }
        if (!eat(',')) {
          return std::nullopt;
        }
      }
    }
    skip_space();
    if (m_pos != m_text.size() || !setter || setter->empty()) {
      return std::nullopt;
    }
    return setter;
  }

private:
  void skip_space() {
    while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' ||
                                     m_text[m_pos] == '\n' || m_text[m_pos] == '\r')) {
      ++m_pos;
    }
  }

  bool eat(char c) {
    if (m_pos < m_text.size() && m_text[m_pos] == c) {
      ++m_pos;
      return true;
    }
    return false;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  bool read_hex4(std::uint32_t& out) {
    if (m_text.size() - m_pos < 4) {
      return false;
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = hex_value(m_text[m_pos++]);
      if (v < 0) {
        return false;
      }
      out = out * 16 + static_cast<std::uint32_t>(v);
    }
    return true;
  }

  bool read_string(std::string& out) {
    if (!eat('"')) {
      return false;
    }
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos++];
      if (c == '"') {
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return false; // control characters must be escaped
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (m_pos == m_text.size()) {
        return false;
      }
      switch (m_text[m_pos++]) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!read_hex4(cp)) {
          return false;
        }
        if (cp >= 0xD800 && cp < 0xDC00 && m_text.substr(m_pos, 2) == "\\u") {
          const std::size_t save = m_pos;
          m_pos += 2;
          std::uint32_t low = 0;
          if (read_hex4(low) && low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else {
            m_pos = save;
            cp = 0xFFFD;
          }
        } else if (cp >= 0xD800 && cp < 0xE000) {
          cp = 0xFFFD; // a lone surrogate decodes to U+FFFD in Go
        }
        util::append_utf8(out, cp);
        break;
      }
      default:
        return false;
      }
    }
    return false;
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

} // namespace

std::optional<std::string> parse_marker(std::string_view comment) {
  // Cheap screen first: every scalar with a comment comes through here.
  if (comment.find("$imagepolicy") == std::string_view::npos) {
    return std::nullopt;
  }
  while (!comment.empty() && comment.front() == '#') {
    comment.remove_prefix(1);
  }
  return ObjectReader(comment).read();
}

std::optional<std::string> marker_of(const std::optional<std::string>& line_comment,
                                     const std::vector<std::string>& head_comments) {
  // kyaml's FieldMeta.Read looks at the first non-empty comment only; yaml.v3 keeps the '#', so
  // a line comment that is present is never empty there, even "#" alone.
  if (line_comment) {
    return parse_marker(*line_comment);
  }
  if (head_comments.empty()) {
    return std::nullopt;
  }
  if (head_comments.size() == 1) {
    return parse_marker(head_comments.front());
  }
  std::string joined = head_comments.front();
  for (std::size_t i = 1; i < head_comments.size(); ++i) {
    joined += "\n#";
    joined += head_comments[i];
  }
  return parse_marker(joined);
}

std::optional<std::string> setter_value(const Overrides& overrides, std::string_view setter) {
  if (const auto it = overrides.setters.find(setter); it != overrides.setters.end()) {
    return it->second.full();
  }
  const std::size_t colon = setter.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  const auto it = overrides.setters.find(setter.substr(0, colon));
  if (it == overrides.setters.end()) {
    return std::nullopt;
  }
  const std::string_view field = setter.substr(colon + 1);
  if (field == "tag") {
    return it->second.tag;
  }
  if (field == "name") {
    return it->second.name;
  }
  if (field == "digest") {
    return it->second.digest;
  }
  return std::nullopt;
}

} // namespace common::manifest
