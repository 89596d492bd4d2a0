// Scalars and aliases: plain (one or more lines), single- and double-quoted (escapes, folding),
// literal and folded block scalars. Values are decoded as libyaml decodes them (go-yaml, which
// Flux and Argo CD use, is a port of libyaml), so a consumer sees what those tools see.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "common/util/strings.hpp"
#include "common/yamlscan/parser.hpp"

namespace common::yamlscan::detail {
namespace {

// Characters at which the plain-scalar scanner stops to look closer in flow context; everything
// else is skipped in a tight loop.
constexpr std::array<bool, 256> flow_stop_table() {
  std::array<bool, 256> table{};
  table[static_cast<unsigned char>(':')] = true;
  table[static_cast<unsigned char>('#')] = true;
  table[static_cast<unsigned char>('\n')] = true;
  table[static_cast<unsigned char>('\r')] = true;
  for (const char c : {',', '[', ']', '{', '}'}) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}
constexpr auto k_flow_stop = flow_stop_table();

int hex_value(char c) {
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

} // namespace

NodeId Parser::alias(const Props& props) {
  const Mark begin = mark();
  if (props.any) {
    fail(props.begin, "an alias cannot have a tag or an anchor");
  }
  ++m_p;
  const std::size_t name = m_p;
  while (m_p < m_end && is_anchor_char(m_text[m_p])) {
    ++m_p;
  }
  if (m_p == name) {
    fail(begin, "an alias without a name");
  }
  if (!m_anchors.contains(m_text.substr(name, m_p - name))) {
    fail(begin, "an alias to an undefined anchor");
  }
  const NodeId id = new_node(NodeKind::alias, begin);
  Node& node = m_doc->nodes[id];
  node.end = m_p;
  node.value.assign(m_text.substr(name, m_p - name));
  take_head(id);
  m_last_end = mark();
  return id;
}

// One line of a plain scalar from `from`: returns the end of its text (trailing blanks not
// included) and sets `stop` to where scanning stopped (a line break, the end, ": ", " #", or in
// flow context a flow indicator).
std::size_t Parser::plain_line(std::size_t from, bool flow, std::size_t& stop) const {
  const char* text = m_text.data();
  std::size_t i = from;
  for (;;) {
    if (flow) {
      while (i < m_end && !k_flow_stop[static_cast<unsigned char>(text[i])]) {
        ++i;
      }
    } else {
      i = find_any<':', '#', '\n', '\r'>(text, i, m_end);
    }
    if (i >= m_end) {
      break;
    }
    const char c = text[i];
    if (c == ':') {
      if (blankz(i + 1) || (flow && is_flow_indicator(at(i + 1)))) {
        break;
      }
    } else if (c == '#') {
      if (i > from && is_ws(text[i - 1])) {
        break;
      }
    } else {
      break;
    }
    ++i;
  }
  stop = i;
  while (i > from && is_ws(text[i - 1])) {
    --i;
  }
  return i;
}

// A plain scalar; in block context its continuation lines must be indented more than `n`.
NodeId Parser::plain(std::ptrdiff_t n, bool flow, const Props& props) {
  const Mark begin = mark();
  const char c = ch();
  switch (c) {
  case ',':
  case '[':
  case ']':
  case '{':
  case '}':
  case '#':
  case '&':
  case '*':
  case '!':
  case '|':
  case '>':
  case '\'':
  case '"':
  case '%':
  case '@':
  case '`':
    fail(begin, "unexpected " + describe(c) + " (a plain scalar cannot start with it)");
  case '-':
  case '?':
  case ':':
    // ("[-]" reads as the string "-", as in libyaml; '?' and ':' there are indicators.)
    if (blankz(m_p + 1) || (flow && c != '-' && is_flow_indicator(at(m_p + 1)))) {
      fail(begin, "unexpected " + describe(c) +
                      (flow ? " (block collections are not allowed inside flow collections)"
                            : " (a plain scalar cannot start with it)"));
    }
    break;
  case '\0':
  case '\n':
  case '\r':
    fail(begin, "expected a node, found " + describe(c));
  default:
    break;
  }
  std::size_t stop = 0;
  std::size_t end = plain_line(m_p, flow, stop);
  std::string value;
  bool multi = false;
  // Continuation lines: a scalar ends at a line that is blank-only up to a comment, less
  // indented, a document marker, or (in flow context) starts with an indicator.
  while (stop >= m_end || is_break(m_text[stop])) {
    std::size_t q = stop;
    std::size_t line = m_line;
    std::size_t line_start = m_line_start;
    std::size_t blank_lines = 0;
    bool accepted = false;
    while (q < m_end) {
      if (m_text[q] == '\r' && q + 1 < m_end && m_text[q + 1] == '\n') {
        ++q;
      }
      ++q;
      ++line;
      line_start = q;
      const std::size_t spaces = count_spaces(m_text.data(), q, m_end);
      q += spaces;
      if (!flow && static_cast<std::ptrdiff_t>(spaces) <= n && q < m_end && !is_ws(m_text[q]) &&
          !is_break(m_text[q])) {
        break; // the usual case: the next line is the next entry
      }
      while (q < m_end && is_ws(m_text[q])) {
        ++q;
      }
      if (q >= m_end || m_text[q] == '#') {
        break;
      }
      if (is_break(m_text[q])) {
        ++blank_lines;
        continue;
      }
      if ((!flow && static_cast<std::ptrdiff_t>(spaces) <= n) ||
          (q == line_start && doc_marker(q))) {
        break;
      }
      std::size_t next_stop = 0;
      const std::size_t next_end = plain_line(q, flow, next_stop);
      if (next_end == q) {
        break;
      }
      if (!multi) {
        value.assign(m_text.substr(begin.offset, end - begin.offset));
        multi = true;
      }
      if (blank_lines == 0) {
        value += ' ';
      } else {
        value.append(blank_lines, '\n');
      }
      value.append(m_text.substr(q, next_end - q));
      m_line = line;
      m_line_start = line_start;
      end = next_end;
      stop = next_stop;
      accepted = true;
      break;
    }
    if (!accepted) {
      break;
    }
  }
  m_p = end;
  const NodeId id = new_node(NodeKind::scalar, begin);
  Node& node = m_doc->nodes[id];
  node.end = end;
  if (multi) {
    node.value = std::move(value);
  } else {
    // Constructing is cheaper than assign() (which handles overlap and reuse).
    node.value = std::string(m_text.data() + begin.offset, end - begin.offset);
  }
  apply(id, props);
  take_head(id);
  m_last_end = mark();
  return id;
}

NodeId Parser::quoted(const Props& props) {
  const Mark begin = mark();
  const char quote = ch();
  const bool dbl = quote == '"';
  ++m_p;
  std::string value;
  std::size_t segment = m_p;
  const char* text = m_text.data();
  for (;;) {
    m_p = dbl ? find_any<'"', '\\', '\n', '\r'>(text, m_p, m_end)
              : find_any<'\'', '\'', '\n', '\r'>(text, m_p, m_end);
    if (m_p >= m_end) {
      fail(begin, dbl ? "unterminated double-quoted scalar" : "unterminated single-quoted scalar");
    }
    const char c = text[m_p];
    if (c == quote) {
      if (!dbl && at(m_p + 1) == '\'') {
        value.append(text + segment, m_p + 1 - segment);
        m_p += 2;
        segment = m_p;
        continue;
      }
      break;
    }
    if (c == '\\') {
      value.append(text + segment, m_p - segment);
      escape(value, begin);
      segment = m_p;
      continue;
    }
    // A line break: the blanks before it are not content; the break folds.
    std::size_t e = m_p;
    while (e > segment && is_ws(text[e - 1])) {
      --e;
    }
    value.append(text + segment, e - segment);
    fold_quoted(value, false, begin);
    segment = m_p;
  }
  if (value.empty()) {
    value = std::string(text + segment, m_p - segment);
  } else {
    value.append(text + segment, m_p - segment);
  }
  ++m_p;
  const NodeId id = new_node(NodeKind::scalar, begin);
  Node& node = m_doc->nodes[id];
  node.style = dbl ? ScalarStyle::double_quoted : ScalarStyle::single_quoted;
  node.end = m_p;
  node.value = std::move(value);
  apply(id, props);
  take_head(id);
  m_last_end = mark();
  return id;
}

// At a line break inside a quoted scalar: one break becomes a space, each further (blank) line a
// '\n'; after an escaped break ("\" at the end of a line) the first break is dropped.
void Parser::fold_quoted(std::string& value, bool escaped, const Mark& open) {
  std::size_t breaks = 0;
  for (;;) {
    consume_break();
    ++breaks;
    if (doc_marker(m_p)) {
      fail(mark(), "a document marker inside a quoted scalar (opened at line " +
                       std::to_string(open.line) + ", column " + std::to_string(open.column) + ")");
    }
    while (is_ws(ch())) {
      ++m_p;
    }
    if (!is_break(ch())) {
      break;
    }
  }
  if (escaped || breaks > 1) {
    value.append(breaks - 1, '\n');
  } else {
    value += ' ';
  }
}

void Parser::escape(std::string& value, const Mark& open) {
  const Mark at = mark();
  ++m_p;
  const char c = ch();
  int width = 0;
  switch (c) {
  case '0':
    value += '\0';
    break;
  case 'a':
    value += '\a';
    break;
  case 'b':
    value += '\b';
    break;
  case 't':
  case '\t':
    value += '\t';
    break;
  case 'n':
    value += '\n';
    break;
  case 'v':
    value += '\v';
    break;
  case 'f':
    value += '\f';
    break;
  case 'r':
    value += '\r';
    break;
  case 'e':
    value += '\x1b';
    break;
  case ' ':
  case '"':
  case '/':
  case '\\':
    value += c;
    break;
  case 'N':
    util::append_utf8(value, 0x85);
    break;
  case '_':
    util::append_utf8(value, 0xa0);
    break;
  case 'L':
    util::append_utf8(value, 0x2028);
    break;
  case 'P':
    util::append_utf8(value, 0x2029);
    break;
  case 'x':
    width = 2;
    break;
  case 'u':
    width = 4;
    break;
  case 'U':
    width = 8;
    break;
  case '\n':
  case '\r':
    fold_quoted(value, true, open);
    return;
  case '\0':
    fail(open, "unterminated double-quoted scalar");
  default:
    fail(at, "unknown escape sequence \\" + std::string(1, c));
  }
  ++m_p;
  if (width == 0) {
    return;
  }
  std::uint32_t cp = 0;
  for (int k = 0; k < width; ++k) {
    const int digit = hex_value(ch());
    if (digit < 0) {
      fail(at, "expected " + std::to_string(width) + " hexadecimal digits after \\" +
                   std::string(1, c));
    }
    cp = cp * 16 + static_cast<std::uint32_t>(digit);
    ++m_p;
  }
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    fail(at, "an escape for an invalid Unicode code point");
  }
  util::append_utf8(value, cp);
}

// "|" or ">" with optional indentation indicator and chomping; content lines follow, indented
// more than `n`. Returns in line state.
NodeId Parser::block_scalar(std::ptrdiff_t n, const Props& props) {
  const Mark begin = mark();
  const bool folded = ch() == '>';
  ++m_p;
  int chomp = 0; // -1 strip, 0 clip, 1 keep
  std::size_t increment = 0;
  for (int k = 0; k < 2; ++k) {
    const char c = ch();
    if ((c == '+' || c == '-') && chomp == 0) {
      chomp = c == '+' ? 1 : -1;
    } else if (c >= '1' && c <= '9' && increment == 0) {
      increment = static_cast<std::size_t>(c - '0');
    } else if (c == '0' && increment == 0) {
      fail(mark(), "a block scalar's indentation indicator must be 1 to 9");
    } else {
      break;
    }
    ++m_p;
  }
  const std::size_t header_end = m_p;
  const Mark header_mark = mark();
  if (!blankz(m_p)) {
    fail(mark(), "expected a comment or a line break after the block scalar indicator, found " +
                     describe(ch()));
  }
  while (is_ws(ch())) {
    ++m_p;
  }
  std::string_view comment;
  bool has_comment = false;
  if (ch() == '#') {
    const std::size_t e = line_end(m_p);
    comment = m_text.substr(m_p + 1, e - m_p - 1);
    has_comment = true;
    m_p = e;
  } else if (!eof() && !is_break(ch())) {
    fail(mark(), "expected a comment or a line break after the block scalar indicator, found " +
                     describe(ch()));
  }
  if (!eof()) {
    consume_break();
  }
  const NodeId id = new_node(NodeKind::scalar, begin);
  {
    Node& node = m_doc->nodes[id];
    node.style = folded ? ScalarStyle::folded : ScalarStyle::literal;
    if (has_comment) {
      node.line_comment.emplace(comment);
    }
  }
  apply(id, props);
  take_head(id);

  // Content indentation: n + indicator, or as libyaml detects it: the larger of the leading
  // empty lines' and the first content line's indentation, at least n + 1 and 1.
  const std::size_t floor = static_cast<std::size_t>(std::max<std::ptrdiff_t>(n + 1, 1));
  std::size_t indent =
      increment != 0 ? static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0)) + increment : 0;
  if (indent == 0) {
    std::size_t max_blank = 0;
    std::size_t q = m_p;
    std::size_t line = m_line;
    for (;;) {
      const std::size_t line_start = q;
      while (q < m_end && m_text[q] == ' ') {
        ++q;
      }
      const std::size_t spaces = q - line_start;
      while (q < m_end && is_ws(m_text[q])) {
        ++q;
      }
      if (q < m_end && is_break(m_text[q])) {
        max_blank = std::max(max_blank, spaces);
        q += (m_text[q] == '\r' && q + 1 < m_end && m_text[q + 1] == '\n') ? 2 : 1;
        ++line;
        continue;
      }
      if (q < m_end && static_cast<std::ptrdiff_t>(spaces) >= static_cast<std::ptrdiff_t>(floor) &&
          max_blank > spaces) {
        fail(Mark{line_start + spaces, line, spaces + 1},
             "a leading empty line of a block scalar has more spaces than its first content line");
      }
      indent = std::max({max_blank, q < m_end ? spaces : 0, floor});
      break;
    }
  }

  std::string value;
  std::size_t trailing = 0; // empty lines since the last content line
  bool leading_break = false, leading_blank = false;
  std::size_t end = header_end;
  Mark end_mark = header_mark;
  for (;;) {
    const std::size_t line_start = m_p;
    std::size_t spaces = 0;
    while (spaces < indent && m_p < m_end && m_text[m_p] == ' ') {
      ++m_p;
      ++spaces;
    }
    if (m_p >= m_end) {
      break;
    }
    if (is_break(m_text[m_p])) {
      ++trailing;
      consume_break();
      continue;
    }
    if (spaces < indent) {
      // Less indented: a blank-only line still belongs to the scalar; content ends it.
      std::size_t q = m_p;
      while (q < m_end && is_ws(m_text[q])) {
        ++q;
      }
      if (q < m_end && is_break(m_text[q])) {
        m_p = q;
        ++trailing;
        consume_break();
        continue;
      }
      m_p = q < m_end ? line_start : q;
      break;
    }
    const std::size_t start = m_p;
    m_p = line_end(m_p);
    const bool more_indented = is_ws(m_text[start]);
    if (folded && leading_break && !leading_blank && !more_indented) {
      if (trailing == 0) {
        value += ' ';
      }
    } else if (leading_break) {
      value += '\n';
    }
    value.append(trailing, '\n');
    trailing = 0;
    leading_blank = more_indented;
    value.append(m_text.substr(start, m_p - start));
    end = m_p;
    end_mark = mark();
    leading_break = false;
    if (m_p >= m_end) {
      break;
    }
    consume_break();
    leading_break = true;
  }
  if (chomp != -1 && leading_break) {
    value += '\n';
  }
  if (chomp == 1) {
    value.append(trailing, '\n');
  }
  Node& node = m_doc->nodes[id];
  node.end = end;
  node.value = std::move(value);
  m_last_end = end_mark;
  next_line_content(); // from a line start or the end of the input
  return id;
}

} // namespace common::yamlscan::detail
