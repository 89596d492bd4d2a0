#include "common/policy/glob.hpp"

#include <cstddef>
#include <string>
#include <utility>

// A transcription of Go's path/filepath.Match (match.go, Unix flavour: '\' escapes) so that
// ignore-tags behave exactly as in Argo CD Image Updater, including its chunk-wise
// backtracking. The pattern is validated once in parse(), so matches() never meets an error.

namespace common::policy {
namespace {

constexpr char32_t k_rune_error = 0xFFFD;
constexpr char k_separator = '/';

struct Rune {
  char32_t value = k_rune_error;
  std::size_t size = 0;
};

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

// Go's utf8.DecodeRuneInString: (RuneError, 1) on an invalid or truncated sequence.
Rune decode_rune(std::string_view s) noexcept {
  if (s.empty()) {
    return {k_rune_error, 0};
  }
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c0 = at(0);
  if (c0 < 0x80) {
    return {c0, 1};
  }
  std::size_t need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  char32_t value = 0;
  if (c0 >= 0xC2 && c0 < 0xE0) {
    need = 1;
    value = c0 & 0x1F;
  } else if (c0 >= 0xE0 && c0 < 0xF0) {
    need = 2;
    value = c0 & 0x0F;
    lo = c0 == 0xE0 ? 0xA0 : 0x80; // no overlong forms
    hi = c0 == 0xED ? 0x9F : 0xBF; // no surrogates
  } else if (c0 >= 0xF0 && c0 < 0xF5) {
    need = 3;
    value = c0 & 0x07;
    lo = c0 == 0xF0 ? 0x90 : 0x80;
    hi = c0 == 0xF4 ? 0x8F : 0xBF;
  } else {
    return {k_rune_error, 1};
  }
  if (s.size() <= need || at(1) < lo || at(1) > hi) {
    return {k_rune_error, 1};
  }
  for (std::size_t i = 1; i <= need; ++i) {
    if (!is_continuation(at(i))) {
      return {k_rune_error, 1};
    }
    value = (value << 6) | (at(i) & 0x3F);
  }
  return {value, need + 1};
}

enum class GlobError {
  none,
  trailing_backslash,
  unterminated_class,
  empty_class,
  bad_range,
  bad_utf8
};

const char* describe(GlobError error) noexcept {
  switch (error) {
  case GlobError::none:
    return "";
  case GlobError::trailing_backslash:
    return "trailing backslash";
  case GlobError::unterminated_class:
    return "unterminated character class";
  case GlobError::empty_class:
    return "empty character class";
  case GlobError::bad_range:
    return "'-' without a range start or end in a character class";
  case GlobError::bad_utf8:
    return "invalid UTF-8 in a character class";
  }
  return "";
}

struct Chunk {
  bool star = false;
  std::string_view chunk;
  std::string_view rest;
};

// Go's scanChunk: leading stars, then the text up to the next star outside a class.
Chunk scan_chunk(std::string_view pattern) noexcept {
  Chunk out;
  while (!pattern.empty() && pattern.front() == '*') {
    pattern.remove_prefix(1);
    out.star = true;
  }
  bool in_range = false;
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < pattern.size()) {
        ++i;
      }
    } else if (c == '[') {
      in_range = true;
    } else if (c == ']') {
      in_range = false;
    } else if (c == '*' && !in_range) {
      break;
    }
  }
  out.chunk = pattern.substr(0, i);
  out.rest = pattern.substr(i);
  return out;
}

struct Escaped {
  char32_t rune = 0;
  GlobError error = GlobError::none;
};

// Go's getEsc: one possibly escaped character of a class; consumes it from `chunk`.
Escaped get_esc(std::string_view& chunk) noexcept {
  if (chunk.empty()) {
    return {0, GlobError::unterminated_class};
  }
  if (chunk.front() == ']') {
    return {0, GlobError::empty_class};
  }
  if (chunk.front() == '-') {
    return {0, GlobError::bad_range};
  }
  if (chunk.front() == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) {
      return {0, GlobError::unterminated_class};
    }
  }
  const Rune r = decode_rune(chunk);
  chunk.remove_prefix(r.size);
  if (r.value == k_rune_error && r.size == 1) {
    return {0, GlobError::bad_utf8};
  }
  if (chunk.empty()) {
    return {0, GlobError::unterminated_class};
  }
  return {r.value, GlobError::none};
}

struct ChunkMatch {
  std::string_view rest;
  bool ok = false;
  GlobError error = GlobError::none;
};

// Go's matchChunk: matches `chunk` (no stars) against a prefix of `s`. After a mismatch it keeps
// reading the chunk (not `s`) so that syntax errors are reported regardless of the text.
ChunkMatch match_chunk(std::string_view chunk, std::string_view s) noexcept {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) {
      failed = true;
    }
    switch (chunk.front()) {
    case '[': {
      char32_t r = 0;
      if (!failed) {
        const Rune decoded = decode_rune(s);
        r = decoded.value;
        s.remove_prefix(decoded.size);
      }
      chunk.remove_prefix(1);
      bool negated = false;
      if (!chunk.empty() && chunk.front() == '^') {
        negated = true;
        chunk.remove_prefix(1);
      }
      bool match = false;
      int ranges = 0;
      for (;;) {
        if (!chunk.empty() && chunk.front() == ']' && ranges > 0) {
          chunk.remove_prefix(1);
          break;
        }
        const Escaped lo = get_esc(chunk);
        if (lo.error != GlobError::none) {
          return {{}, false, lo.error};
        }
        char32_t hi = lo.rune;
        if (chunk.front() == '-') {
          chunk.remove_prefix(1);
          const Escaped end = get_esc(chunk);
          if (end.error != GlobError::none) {
            return {{}, false, end.error};
          }
          hi = end.rune;
        }
        if (lo.rune <= r && r <= hi) {
          match = true;
        }
        ++ranges;
      }
      if (match == negated) {
        failed = true;
      }
      break;
    }
    case '?':
      if (!failed) {
        if (s.front() == k_separator) {
          failed = true;
        }
        s.remove_prefix(decode_rune(s).size);
      }
      chunk.remove_prefix(1);
      break;
    case '\\':
      chunk.remove_prefix(1);
      if (chunk.empty()) {
        return {{}, false, GlobError::trailing_backslash};
      }
      [[fallthrough]];
    default:
      if (!failed) {
        if (chunk.front() != s.front()) {
          failed = true;
        }
        s.remove_prefix(1);
      }
      chunk.remove_prefix(1);
      break;
    }
  }
  if (failed) {
    return {{}, false, GlobError::none};
  }
  return {s, true, GlobError::none};
}

// Go's Match without the error paths (the pattern was validated by parse()).
bool match(std::string_view pattern, std::string_view name) noexcept {
  while (!pattern.empty()) {
    const Chunk c = scan_chunk(pattern);
    pattern = c.rest;
    if (c.star && c.chunk.empty()) {
      return name.find(k_separator) == std::string_view::npos;
    }
    const ChunkMatch here = match_chunk(c.chunk, name);
    // The last chunk must consume the whole name; otherwise a star may still help.
    if (here.ok && (here.rest.empty() || !pattern.empty())) {
      name = here.rest;
      continue;
    }
    bool advanced = false;
    if (c.star) {
      for (std::size_t i = 0; i < name.size() && name[i] != k_separator; ++i) {
        const ChunkMatch later = match_chunk(c.chunk, name.substr(i + 1));
        if (later.ok) {
          if (pattern.empty() && !later.rest.empty()) {
            continue;
          }
          name = later.rest;
          advanced = true;
          break;
        }
      }
    }
    if (!advanced) {
      return false;
    }
  }
  return name.empty();
}

} // namespace

util::Result<Glob> Glob::parse(std::string_view pattern) {
  // Every chunk is checked against the empty text, which walks the whole chunk (as Go does
  // before returning false), so every ErrBadPattern case is found here.
  std::string_view rest = pattern;
  while (!rest.empty()) {
    const Chunk c = scan_chunk(rest);
    rest = c.rest;
    const ChunkMatch m = match_chunk(c.chunk, {});
    if (m.error != GlobError::none) {
      return util::fail(util::ErrorKind::invalid_input,
                        "bad pattern \"" + std::string(pattern) + "\": " + describe(m.error));
    }
  }
  return Glob(std::string(pattern));
}

bool Glob::matches(std::string_view text) const noexcept {
  return match(m_pattern, text);
}

} // namespace common::policy
