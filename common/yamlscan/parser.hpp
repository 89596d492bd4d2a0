// Internal to the yamlscan module: the recursive-descent parser behind Scanner::next(). One
// Parser reads one document (or finds the end of the stream) starting at a line start.
//
// Conventions shared by parser.cpp, scalar.cpp and flow.cpp:
// - The buffer is read up to `m_end` (the first NUL byte or the end of the text); ch() returns
//   '\0' there, so a '\0' seen by the parser always means "end of input".
// - "Line state": block-level parsing functions return with the position at the first
//   non-blank character of the next content line (comment-only and blank lines skipped), with
//   m_indent/m_tabbed/m_marker describing that line, or at the end of input.
// - Failures are thrown as Failure and caught in Scanner::next() (scan.cpp), which turns them
//   into a Result: this keeps the deeply recursive code free of error plumbing, and nothing is
//   thrown across the module's interface.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/util/error.hpp"
#include "common/yamlscan/scan.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace common::yamlscan::detail {

inline bool is_ws(char c) {
  return c == ' ' || c == '\t';
}
inline bool is_break(char c) {
  return c == '\n' || c == '\r';
}
inline bool is_flow_indicator(char c) {
  return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}
// Anchor and alias names: YAML 1.2's ns-anchor-char without ':' (so that "*a: b" is an alias
// key, as libyaml and go-yaml read it).
inline bool is_anchor_char(char c) {
  return !is_ws(c) && !is_break(c) && !is_flow_indicator(c) && c != ':' && c != '\0';
}
// The number of ' ' at t[i..end). Eight bytes at a time: indentation is the most frequent thing
// in a manifest.
inline std::size_t count_spaces(const char* t, std::size_t i, std::size_t end) {
  const std::size_t start = i;
  if constexpr (std::endian::native == std::endian::little) {
    while (i + 8 <= end) {
      std::uint64_t word;
      std::memcpy(&word, t + i, 8);
      word ^= 0x2020202020202020ull;
      if (word != 0) {
        return i - start + static_cast<std::size_t>(std::countr_zero(word) >> 3);
      }
      i += 8;
    }
  }
  while (i < end && t[i] == ' ') {
    ++i;
  }
  return i - start;
}

// The first of four bytes in t[i..end), or end (16 bytes at a time where SSE2 is there).
template <char A, char B, char C, char D>
inline std::size_t find_any(const char* t, std::size_t i, std::size_t end) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(A), vb = _mm_set1_epi8(B), vc = _mm_set1_epi8(C),
                vd = _mm_set1_epi8(D);
  while (i + 16 <= end) {
    __m128i v;
    std::memcpy(&v, t + i, 16);
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(mask)));
    }
    i += 16;
  }
#endif
  while (i < end && t[i] != A && t[i] != B && t[i] != C && t[i] != D) {
    ++i;
  }
  return i;
}

// A character for an error message: 'c', or a name for blanks and control bytes.
std::string describe(char c);

struct Failure {
  Mark at;
  std::string what;
  util::ErrorKind kind = util::ErrorKind::invalid_input;
};

// A node's tag and anchor as written before it (views into the buffer).
struct Props {
  bool any = false;
  Mark begin;          // first property
  std::size_t end = 0; // one past the last property
  std::string_view tag;
  std::string_view anchor;
};

inline constexpr Props k_no_props{};

// Bytes that start a plain scalar whatever follows them (not an indicator, a blank or a break):
// the common case, which skips the checks for properties, quotes and collections.
inline constexpr auto k_plain_start = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<std::size_t>(c)] = c > ' ' && c != 0x7f;
  }
  for (const char c : std::string_view("-?:,[]{}#&*!|>'\"%@`")) {
    table[static_cast<unsigned char>(c)] = false;
  }
  return table;
}();
inline bool plain_start(char c) {
  return k_plain_start[static_cast<unsigned char>(c)];
}

struct Position {
  std::size_t offset = 0;
  std::size_t line = 1;
  std::size_t line_start = 0;
};

class Parser {
public:
  Parser(std::string_view text, std::size_t end, const Limits& limits, Position start,
         std::size_t node_hint);
  // The next document, or nullopt at the end of the stream. Throws Failure.
  std::optional<Document> document();
  // Where the next document starts (a line start).
  Position position() const { return {m_p, m_line, m_line_start}; }

private:
  // --- characters and positions (parser.cpp) ---
  char ch() const { return m_p < m_end ? m_text[m_p] : '\0'; }
  char at(std::size_t i) const { return i < m_end ? m_text[i] : '\0'; }
  bool eof() const { return m_p >= m_end; }
  bool blankz(std::size_t i) const { return i >= m_end || is_ws(m_text[i]) || is_break(m_text[i]); }
  bool doc_marker(std::size_t i) const {
    if (i + 3 > m_end) {
      return false;
    }
    const char c = m_text[i];
    return (c == '-' || c == '.') && m_text[i + 1] == c && m_text[i + 2] == c && blankz(i + 3);
  }
  Mark mark() const { return {m_p, m_line, m_p - m_line_start + 1}; }
  Mark mark_on_line(std::size_t offset) const {
    return {offset, m_line, offset - m_line_start + 1};
  }
  void check_unique_keys(NodeId mapping) const;
  [[noreturn]] void fail(const Mark& at, std::string what,
                         util::ErrorKind kind = util::ErrorKind::invalid_input) const;
  void consume_break();
  std::size_t line_end(std::size_t from) const;
  void next_line_content();
  void finish_line(NodeId attach);
  void take_head(NodeId id) {
    if (!m_head.empty()) {
      take_head_slow(id);
    }
  }
  void take_head_slow(NodeId id);
  Props maybe_properties(bool flow) {
    const char c = ch();
    return c == '&' || c == '!' ? properties(flow) : k_no_props;
  }

  // --- nodes (parser.cpp) ---
  NodeId new_node(NodeKind kind, const Mark& begin);
  void apply(NodeId id, const Props& props);
  Props merge(const Props& first, const Props& second) const;
  NodeId empty_scalar(const Mark& at, const Props& props);
  void enter(const Mark& at);
  void leave() { --m_depth; }
  void close_collection(NodeId id, std::size_t stack_base);

  // --- block structure (parser.cpp) ---
  void directive();
  void finish_marker();
  [[noreturn]] void fail_nul() const;
  Props properties(bool flow);
  NodeId after_indicator(std::ptrdiff_t n, bool compact, bool seq_at_n, NodeId key);
  NodeId following_lines(std::ptrdiff_t n, bool seq_at_n, const Props& props, const Mark& empty);
  NodeId content_node(std::ptrdiff_t n, const Props& outer, bool allow_collection);
  NodeId scalar_line_end(NodeId id, std::ptrdiff_t col, const Mark& start, bool allow_collection,
                         const Props& outer, const Props& own);
  NodeId key_colon(NodeId key);
  NodeId block_mapping(std::ptrdiff_t m, const Mark& begin, const Props& props, NodeId first_key);
  NodeId block_key(std::ptrdiff_t m);
  NodeId block_sequence(std::ptrdiff_t m, const Props& props);
  NodeId inline_node(std::ptrdiff_t n, const Props& props, bool flow);
  bool is_block_scalar(NodeId id) const;

  // --- scalars (scalar.cpp) ---
  NodeId alias(const Props& props);
  NodeId plain(std::ptrdiff_t n, bool flow, const Props& props);
  std::size_t plain_line(std::size_t from, bool flow, std::size_t& stop) const;
  NodeId quoted(const Props& props);
  void fold_quoted(std::string& value, bool escaped, const Mark& open);
  void escape(std::string& value, const Mark& open);
  NodeId block_scalar(std::ptrdiff_t n, const Props& props);

  // --- flow collections (flow.cpp) ---
  NodeId flow_collection(std::ptrdiff_t n, const Props& props);
  void flow_space(NodeId attach, const Mark& open);
  NodeId flow_node(std::ptrdiff_t n, const Mark& open);
  NodeId flow_entry(std::ptrdiff_t n, const Mark& open, bool in_map, char close);
  bool value_indicator(bool json_key) const;
  bool json_like(NodeId id) const;

  std::string_view m_text;
  std::size_t m_end;
  const Limits& m_limits;
  std::size_t m_p;
  std::size_t m_line;
  std::size_t m_line_start;
  std::size_t m_node_hint;

  // The current content line (see "line state").
  std::size_t m_indent = 0;
  bool m_tabbed = false; // a tab follows the indentation spaces
  bool m_marker = false; // the line is "---" or "..." at column 1

  Document* m_doc = nullptr;
  std::size_t m_depth = 0;
  std::vector<NodeId> m_stack; // children of the collections being parsed
  Mark m_last_end;             // end of the node completed last (for empty values after it)

  // Anchors defined so far in the document (looked up only: aliases must name one).
  std::unordered_set<std::string_view> m_anchors;

  // Whole-line comments above the line m_head_line, waiting for its first scalar.
  std::vector<std::string_view> m_head;
  std::size_t m_head_line = 0;
};

} // namespace common::yamlscan::detail
