// needs_quotes() and encode_scalar(). The non-string forms are the union of YAML 1.1 (what
// go-yaml v2 and kyaml's FormatNonStringStyle check, PyYAML) and YAML 1.2 core: a value that
// either family reads as something else than a string is quoted, so that an image tag such as
// "1.10" or "0755" stays a string for every consumer of the manifest.
#include <string>
#include <string_view>

#include "common/util/strings.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::yamlscan {
namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_octal(char c) {
  return c >= '0' && c <= '7';
}
bool is_binary(char c) {
  return c == '0' || c == '1';
}

// Null and booleans of YAML 1.1 and 1.2 in any letter case (YAML itself accepts three spellings
// of each; quoting the others too costs nothing).
bool is_null_or_bool(std::string_view v) {
  static constexpr std::string_view k_words[] = {"~",  "null", "y",   "n",    "yes",
                                                 "no", "on",   "off", "true", "false"};
  for (const auto word : k_words) {
    if (util::iequals(v, word)) {
      return true;
    }
  }
  return false;
}

// Consumes digits accepted by `ok` and underscores from s[i]; returns how many digits.
template <class Pred>
std::size_t digits(std::string_view s, std::size_t& i, Pred ok) {
  std::size_t count = 0;
  while (i < s.size() && (ok(s[i]) || s[i] == '_')) {
    count += s[i] != '_' ? 1 : 0;
    ++i;
  }
  return count;
}

// Ints (decimal, 0x, 0o, 0b, leading-zero octal, underscores, sexagesimal 1:20) and floats
// (1.10, 1., .5, 1e3, 1.5E-3, sexagesimal 1:20.5, .inf, .nan), with an optional sign.
bool is_number(std::string_view v) {
  std::string_view s = v;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return false;
  }
  if (util::iequals(s, ".inf") || util::iequals(s, ".nan")) {
    return true;
  }
  if (s.size() > 2 && s[0] == '0') {
    const char base = s[1];
    std::size_t i = 2;
    std::size_t count = 0;
    if (base == 'x' || base == 'X') {
      count = digits(s, i, is_hex);
    } else if (base == 'o' || base == 'O') {
      count = digits(s, i, is_octal);
    } else if (base == 'b' || base == 'B') {
      count = digits(s, i, is_binary);
    }
    if (count > 0 && i == s.size()) {
      return true;
    }
  }
  std::size_t i = 0;
  const std::size_t whole = digits(s, i, is_digit);
  if (whole > 0 && i < s.size() && s[i] == ':') {
    // Sexagesimal: [0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
    while (i < s.size() && s[i] == ':') {
      ++i;
      const std::size_t start = i;
      while (i < s.size() && is_digit(s[i]) && i - start < 2) {
        ++i;
      }
      if (i == start || (i - start == 2 && s[start] > '5')) {
        return false;
      }
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits(s, i, is_digit);
    }
    return i == s.size();
  }
  std::size_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    fraction = digits(s, i, is_digit);
  }
  if (whole + fraction == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    if (i == start) {
      return false;
    }
  }
  return i == s.size();
}

// A line break in YAML 1.1 beyond \n and \r: NEL (U+0085), LS (U+2028), PS (U+2029); and the
// BOM. Returns the byte length of the sequence at s[i], 0 if none.
std::size_t special_unicode(std::string_view s, std::size_t i) {
  if (s.substr(i, 2) == "\xc2\x85") {
    return 2;
  }
  if (s.substr(i, 3) == "\xe2\x80\xa8" || s.substr(i, 3) == "\xe2\x80\xa9" ||
      s.substr(i, 3) == "\xef\xbb\xbf") {
    return 3;
  }
  return 0;
}

bool single_quotable(std::string_view v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f || special_unicode(v, i) != 0) {
      return false;
    }
  }
  return true;
}

std::string double_quoted(std::string_view v) {
  std::string out;
  out.reserve(v.size() + 2);
  out += '"';
  static constexpr char k_hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    switch (c) {
    case '"':
      out += "\\\"";
      continue;
    case '\\':
      out += "\\\\";
      continue;
    case '\0':
      out += "\\0";
      continue;
    case '\a':
      out += "\\a";
      continue;
    case '\b':
      out += "\\b";
      continue;
    case '\t':
      out += "\\t";
      continue;
    case '\n':
      out += "\\n";
      continue;
    case '\v':
      out += "\\v";
      continue;
    case '\f':
      out += "\\f";
      continue;
    case '\r':
      out += "\\r";
      continue;
    case '\x1b':
      out += "\\e";
      continue;
    default:
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += k_hex[u >> 4];
      out += k_hex[u & 0xf];
      continue;
    }
    if (const std::size_t n = special_unicode(v, i); n != 0) {
      const std::string_view seq = v.substr(i, n);
      out += seq == "\xc2\x85"       ? "\\N"
             : seq == "\xe2\x80\xa8" ? "\\L"
             : seq == "\xe2\x80\xa9" ? "\\P"
                                     : "\\ufeff";
      i += n - 1;
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

} // namespace

bool needs_quotes(std::string_view value) {
  if (value.empty() || is_null_or_bool(value) || is_number(value) || value == "<<" ||
      value == "=") {
    return true;
  }
  const char first = value.front();
  if (is_ws(first) || is_ws(value.back())) {
    return true;
  }
  if (std::string_view(",[]{}#&*!|>'\"%@`").find(first) != std::string_view::npos) {
    return true;
  }
  if ((first == '-' || first == '?' || first == ':') && (value.size() == 1 || is_ws(value[1]))) {
    return true;
  }
  if (value.starts_with("---") || value.starts_with("...")) {
    return true;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f || special_unicode(value, i) != 0) {
      return true;
    }
    switch (c) {
    case ':':
      if (i + 1 == value.size() || is_ws(value[i + 1])) {
        return true;
      }
      break;
    case '#':
      if (is_ws(value[i - 1])) { // i > 0: a leading '#' was handled above
        return true;
      }
      break;
    case ',':
    case '[':
    case ']':
    case '{':
    case '}':
      return true;
    default:
      break;
    }
  }
  return false;
}

std::string encode_scalar(std::string_view value, ScalarStyle style) {
  switch (style) {
  case ScalarStyle::plain:
    if (!needs_quotes(value)) {
      return std::string(value);
    }
    break;
  case ScalarStyle::single_quoted:
    if (single_quotable(value)) {
      std::string out;
      out.reserve(value.size() + 2);
      out += '\'';
      for (const char c : value) {
        out += c;
        if (c == '\'') {
          out += '\'';
        }
      }
      out += '\'';
      return out;
    }
    break;
  default:
    break;
  }
  return double_quoted(value);
}

} // namespace common::yamlscan
