// Documents and block structure. The block grammar is read line by line: a block collection's
// indentation is the column of its first entry, its entries are the following content lines at
// that column, and a less indented line ends it. Scalars, aliases and flow collections are read
// by scalar.cpp and flow.cpp.
#include "common/yamlscan/parser.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace common::yamlscan::detail {

std::string describe(char c) {
  if (c == '\0') {
    return "the end of the input";
  }
  if (c == '\t') {
    return "a tab";
  }
  if (c == '\n' || c == '\r') {
    return "a line break";
  }
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", static_cast<unsigned>(u));
    return buf;
  }
  return std::string("'") + c + "'";
}

Parser::Parser(std::string_view text, std::size_t end, const Limits& limits, Position start,
               std::size_t node_hint)
    : m_text(text), m_end(end), m_limits(limits), m_p(start.offset), m_line(start.line),
      m_line_start(start.line_start), m_node_hint(node_hint) {}

void Parser::fail(const Mark& at, std::string what, util::ErrorKind kind) const {
  throw Failure{at, std::move(what), kind};
}

void Parser::consume_break() {
  if (m_text[m_p] == '\r') {
    ++m_p;
    if (m_p < m_end && m_text[m_p] == '\n') {
      ++m_p;
    }
  } else {
    ++m_p;
  }
  ++m_line;
  m_line_start = m_p;
}

std::size_t Parser::line_end(std::size_t from) const {
  while (from < m_end && !is_break(m_text[from])) {
    ++from;
  }
  return from;
}

// From a line start: skips blank and comment-only lines (collecting the comments as head
// comments of the next content line) and stops at the first non-blank character of a content
// line. A blank line drops the comments above it: they are not "directly above" a node.
void Parser::next_line_content() {
  m_head.clear();
  for (;;) {
    m_indent = count_spaces(m_text.data(), m_p, m_end);
    m_p += m_indent;
    m_tabbed = false;
    while (m_p < m_end && is_ws(m_text[m_p])) {
      m_tabbed = true;
      ++m_p;
    }
    const char c = ch();
    if (c == '\0') {
      m_marker = false;
      return;
    }
    if (is_break(c)) {
      m_head.clear();
      consume_break();
      continue;
    }
    if (c == '#') {
      const std::size_t e = line_end(m_p);
      m_head.push_back(m_text.substr(m_p + 1, e - m_p - 1));
      m_p = e;
      if (m_p < m_end) {
        consume_break();
      }
      continue;
    }
    m_marker = m_indent == 0 && !m_tabbed && doc_marker(m_p);
    m_head_line = m_line;
    return;
  }
}

// After a node that ends mid-line: the rest of the line may hold only blanks and a comment (the
// line comment of `attach`). Moves to the next content line.
void Parser::finish_line(NodeId attach) {
  while (is_ws(ch())) {
    ++m_p;
  }
  const char c = ch();
  if (c == '#') {
    const std::size_t e = line_end(m_p);
    if (attach != k_no_node) {
      m_doc->nodes[attach].line_comment.emplace(m_text.substr(m_p + 1, e - m_p - 1));
    }
    m_p = e;
  } else if (c != '\0' && !is_break(c)) {
    fail(mark(), "expected a comment or a line break, found " + describe(c));
  }
  if (!eof()) {
    consume_break();
  }
  next_line_content();
}

void Parser::take_head_slow(NodeId id) {
  Node& node = m_doc->nodes[id];
  if (node.begin.line != m_head_line) {
    return;
  }
  node.head_comments.assign(m_head.begin(), m_head.end());
  m_head.clear();
}

NodeId Parser::new_node(NodeKind kind, const Mark& begin) {
  auto& nodes = m_doc->nodes;
  if (nodes.size() >= m_limits.max_nodes || nodes.size() >= k_no_node) {
    fail(begin, "more than " + std::to_string(m_limits.max_nodes) + " nodes in one document",
         util::ErrorKind::too_large);
  }
  Node& node = nodes.emplace_back();
  node.kind = kind;
  node.begin = begin;
  return static_cast<NodeId>(nodes.size() - 1);
}

void Parser::apply(NodeId id, const Props& props) {
  if (!props.any) {
    return;
  }
  Node& node = m_doc->nodes[id];
  node.tag.assign(props.tag);
  node.anchor.assign(props.anchor);
  if (!props.anchor.empty()) {
    m_anchors.insert(props.anchor);
  }
}

// Properties written on two lines ("!t" then "&a" before the node) are one set; a second tag or
// a second anchor is an error.
Props Parser::merge(const Props& first, const Props& second) const {
  if (!first.any) {
    return second;
  }
  if (!second.any) {
    return first;
  }
  if ((!first.tag.empty() && !second.tag.empty()) ||
      (!first.anchor.empty() && !second.anchor.empty())) {
    fail(second.begin, "a node with two tags or two anchors");
  }
  Props both = first;
  both.tag = first.tag.empty() ? second.tag : first.tag;
  both.anchor = first.anchor.empty() ? second.anchor : first.anchor;
  return both;
}

NodeId Parser::empty_scalar(const Mark& at, const Props& props) {
  const NodeId id = new_node(NodeKind::scalar, at);
  m_doc->nodes[id].end = at.offset;
  apply(id, props);
  m_last_end = at;
  return id;
}

void Parser::enter(const Mark& at) {
  if (++m_depth > m_limits.max_depth) {
    fail(at, "collections nested deeper than " + std::to_string(m_limits.max_depth) + " levels",
         util::ErrorKind::too_large);
  }
}

void Parser::close_collection(NodeId id, std::size_t stack_base) {
  Node& node = m_doc->nodes[id];
  node.children.assign(m_stack.begin() + static_cast<std::ptrdiff_t>(stack_base), m_stack.end());
  m_stack.resize(stack_base);
  node.end = node.children.empty() ? node.begin.offset : m_doc->nodes[node.children.back()].end;
  if (node.kind == NodeKind::mapping) {
    check_unique_keys(id);
  }
}

// Kubernetes (go-yaml v3) rejects a mapping that repeats a key; so must we: an editor that
// patched one of two `image:` keys would leave the other, and whoever reads the file next
// decides which one counts. Scalar keys are compared by value; `<<` merge keys may repeat.
void Parser::check_unique_keys(NodeId id) const {
  const std::vector<NodeId>& children = m_doc->nodes[id].children;
  const auto key = [&](std::size_t pair) -> const Node& {
    return m_doc->nodes[children[2 * pair]];
  };
  const std::size_t pairs = children.size() / 2;
  const auto comparable = [](const Node& k) {
    return k.kind == NodeKind::scalar && !(k.style == ScalarStyle::plain && k.value == "<<");
  };
  const auto duplicate = [&](const Node& first, const Node& second) {
    fail(second.begin, "duplicate mapping key \"" + second.value + "\" (first at line " +
                           std::to_string(first.begin.line) + ")");
  };
  if (pairs <= 16) { // the usual Kubernetes mapping: compare pairwise, no allocation
    for (std::size_t i = 1; i < pairs; ++i) {
      if (!comparable(key(i))) {
        continue;
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (comparable(key(j)) && key(j).value == key(i).value) {
          duplicate(key(j), key(i));
        }
      }
    }
    return;
  }
  std::vector<std::size_t> order;
  order.reserve(pairs);
  for (std::size_t i = 0; i < pairs; ++i) {
    if (comparable(key(i))) {
      order.push_back(i);
    }
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return key(a).value != key(b).value ? key(a).value < key(b).value : a < b;
  });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (key(order[i - 1]).value == key(order[i]).value) {
      duplicate(key(order[i - 1]), key(order[i]));
    }
  }
}

bool Parser::is_block_scalar(NodeId id) const {
  const Node& node = m_doc->nodes[id];
  return node.kind == NodeKind::scalar &&
         (node.style == ScalarStyle::literal || node.style == ScalarStyle::folded);
}

// "%YAML 1.2" or "%TAG ...": checked for a name only (the scanner keeps tags as written).
void Parser::directive() {
  const Mark at = mark();
  ++m_p;
  const std::size_t name = m_p;
  while (!blankz(m_p)) {
    ++m_p;
  }
  if (m_p == name) {
    fail(at, "expected a directive name after '%'");
  }
  m_p = line_end(m_p);
  if (!eof()) {
    consume_break();
  }
  next_line_content();
}

Props Parser::properties(bool flow) {
  Props props;
  for (;;) {
    const char c = ch();
    if (c != '&' && c != '!') {
      return props;
    }
    const Mark at = mark();
    if (!props.any) {
      props.any = true;
      props.begin = at;
    }
    const std::size_t start = m_p++;
    if (c == '&') {
      if (!props.anchor.empty()) {
        fail(at, "a node with two anchors");
      }
      while (m_p < m_end && is_anchor_char(m_text[m_p])) {
        ++m_p;
      }
      if (m_p == start + 1) {
        fail(at, "an anchor without a name");
      }
      props.anchor = m_text.substr(start + 1, m_p - start - 1);
    } else {
      if (!props.tag.empty()) {
        fail(at, "a node with two tags");
      }
      if (ch() == '<') {
        while (m_p < m_end && m_text[m_p] != '>' && !blankz(m_p)) {
          ++m_p;
        }
        if (ch() != '>') {
          fail(at, "unterminated verbatim tag");
        }
        ++m_p;
      } else {
        // A tag's characters exclude the flow indicators (ns-tag-char).
        while (!blankz(m_p) && !is_flow_indicator(m_text[m_p])) {
          ++m_p;
        }
      }
      props.tag = m_text.substr(start, m_p - start);
    }
    props.end = m_p;
    if (!blankz(m_p) && !(flow && is_flow_indicator(ch()))) {
      fail(mark(), "expected a blank after a tag or an anchor, found " + describe(ch()));
    }
    while (is_ws(ch())) {
      ++m_p;
    }
  }
}

// The node after an indicator ("key:", "-", "?", an explicit ":" or "---"), which is either on
// the indicator's line or on the following, more indented lines. `compact`: a block collection
// may start on the indicator's line ("- a: b", "- - a"); `seq_at_n`: a block sequence at the
// parent's own column is this node ("key:\n- a"). `key` gets the comment of "key: # c".
NodeId Parser::after_indicator(std::ptrdiff_t n, bool compact, bool seq_at_n, NodeId key) {
  Mark empty = mark();
  while (is_ws(ch())) {
    ++m_p;
  }
  const std::size_t content = m_p;
  char c = ch();
  if (c != '&' && c != '!' && c != '\0' && c != '#' && !is_break(c)) {
    return content_node(n, k_no_props, compact);
  }
  const Props props = maybe_properties(false);
  c = ch();
  if (c != '\0' && c != '#' && !is_break(c)) {
    // Content on this line: content_node() reads the properties again, because on this line
    // they belong to a mapping's first key when one follows ("- &a key: v").
    m_p = content;
    return content_node(n, k_no_props, compact);
  }
  if (props.any) {
    empty = mark_on_line(props.end);
  }
  if (c == '#') {
    const std::size_t e = line_end(m_p);
    if (key != k_no_node) {
      m_doc->nodes[key].line_comment.emplace(m_text.substr(m_p + 1, e - m_p - 1));
    }
    m_p = e;
  }
  if (!eof()) {
    consume_break();
  }
  next_line_content();
  return following_lines(n, seq_at_n, props, empty);
}

// In line state, after an indicator or properties that end their line.
NodeId Parser::following_lines(std::ptrdiff_t n, bool seq_at_n, const Props& props,
                               const Mark& empty) {
  if (!eof() && !m_marker) {
    const auto indent = static_cast<std::ptrdiff_t>(m_indent);
    if (indent > n) {
      if (m_tabbed) {
        fail(mark(), "a tab character in indentation");
      }
      return content_node(n, props, true);
    }
    if (seq_at_n && indent == n && !m_tabbed && ch() == '-' && blankz(m_p + 1)) {
      return block_sequence(n, props);
    }
  }
  return empty_scalar(empty, props);
}

// A node whose first character (or first property) is at the current position. `outer`: the
// properties written on an earlier line. Returns in line state.
NodeId Parser::content_node(std::ptrdiff_t n, const Props& outer, bool allow_collection) {
  const Mark start = mark();
  const auto col = static_cast<std::ptrdiff_t>(start.column - 1);
  char c = ch();
  if ((c == '-' || c == '?' || c == ':') && blankz(m_p + 1)) {
    if (!allow_collection) {
      fail(start, c == '-'
                      ? "a block sequence cannot start on this line (start it on the next line)"
                      : "a mapping key or value indicator is not allowed here");
    }
    if (c == '-') {
      return block_sequence(col, outer);
    }
    return block_mapping(col, start, outer, k_no_node);
  }
  if (plain_start(c)) {
    return scalar_line_end(plain(n, false, k_no_props), col, start, allow_collection, outer,
                           k_no_props);
  }
  const Props own = maybe_properties(false);
  c = ch();
  if (own.any && (c == '\0' || c == '#' || is_break(c))) {
    // "&a" alone on its line: the properties of the node on the following lines.
    const Props both = merge(outer, own);
    const Mark empty = mark_on_line(own.end);
    m_p = line_end(m_p);
    if (!eof()) {
      consume_break();
    }
    next_line_content();
    return following_lines(n, false, both, empty);
  }
  if (own.any && (c == '-' || c == '?') && blankz(m_p + 1)) {
    fail(mark(), "a block collection cannot start after properties on the same line");
  }
  // "!t : v": a key that is empty but for its properties.
  const NodeId id = own.any && c == ':' && blankz(m_p + 1)
                        ? empty_scalar(mark_on_line(own.end), own)
                        : inline_node(n, own, false);
  if (is_block_scalar(id)) {
    apply(id, merge(outer, own));
    return id;
  }
  return scalar_line_end(id, col, start, allow_collection, outer, own);
}

// After a node read on its line by content_node(): either the first key of a block mapping at
// `col` (": " follows) or a whole node, whose line may end with a comment. `outer` are the
// properties from an earlier line (of the mapping when a key follows, else of the node), `own`
// those read before the node on its line (already applied to it).
NodeId Parser::scalar_line_end(NodeId id, std::ptrdiff_t col, const Mark& start,
                               bool allow_collection, const Props& outer, const Props& own) {
  while (is_ws(ch())) {
    ++m_p;
  }
  if (ch() == ':' && blankz(m_p + 1)) {
    if (!allow_collection) {
      fail(mark(), "a mapping value is not allowed here (quote the scalar, or start the mapping "
                   "on its own line)");
    }
    if (m_doc->nodes[id].begin.line != m_line) {
      fail(m_doc->nodes[id].begin, "a mapping key must be on one line");
    }
    return block_mapping(col, start, outer, id);
  }
  if (outer.any) {
    if (m_doc->nodes[id].kind == NodeKind::alias) {
      fail(outer.begin, "an alias cannot have a tag or an anchor");
    }
    apply(id, merge(outer, own));
  }
  const NodeKind kind = m_doc->nodes[id].kind;
  finish_line(kind == NodeKind::scalar || kind == NodeKind::alias ? id : k_no_node);
  return id;
}

// Entries at column m; `first_key`, when given, was read by content_node() and the position is
// at its ':'.
NodeId Parser::block_mapping(std::ptrdiff_t m, const Mark& begin, const Props& props,
                             NodeId first_key) {
  enter(begin);
  const NodeId id = new_node(NodeKind::mapping, begin);
  apply(id, props);
  const std::size_t base = m_stack.size();
  NodeId key = first_key;
  for (;;) {
    if (key == k_no_node && ch() == '?' && blankz(m_p + 1)) {
      ++m_p;
      key = after_indicator(m, true, true, k_no_node);
      NodeId value;
      if (!eof() && !m_marker && !m_tabbed && static_cast<std::ptrdiff_t>(m_indent) == m &&
          ch() == ':' && blankz(m_p + 1)) {
        ++m_p;
        value = after_indicator(m, true, true, k_no_node);
      } else {
        value = empty_scalar(m_last_end, k_no_props);
      }
      m_stack.push_back(key);
      m_stack.push_back(value);
    } else {
      if (key == k_no_node) {
        key = block_key(m);
      }
      ++m_p; // ':'
      const NodeId value = after_indicator(m, false, true, key);
      m_stack.push_back(key);
      m_stack.push_back(value);
    }
    key = k_no_node;
    if (eof() || m_marker || static_cast<std::ptrdiff_t>(m_indent) < m) {
      break;
    }
    if (m_tabbed) {
      fail(mark(), "a tab character in indentation");
    }
    if (static_cast<std::ptrdiff_t>(m_indent) > m) {
      fail(mark(), "bad indentation: expected a mapping key at column " + std::to_string(m + 1) +
                       " or less");
    }
  }
  close_collection(id, base);
  leave();
  return id;
}

// An implicit key at column m (or ':' of an entry with an empty key); returns at its ':'.
NodeId Parser::block_key(std::ptrdiff_t m) {
  char c = ch();
  if (c == ':' && blankz(m_p + 1)) {
    return empty_scalar(mark(), k_no_props);
  }
  if (c == '-' && blankz(m_p + 1)) {
    fail(mark(), "a block sequence entry where a mapping key was expected (bad indentation?)");
  }
  if (plain_start(c)) {
    return key_colon(plain(m, false, k_no_props));
  }
  const Props props = maybe_properties(false);
  c = ch();
  if (c == '\0' || c == '#' || is_break(c) || ((c == '-' || c == '?') && blankz(m_p + 1))) {
    fail(mark(), "expected a mapping key after the tag or anchor");
  }
  const NodeId key = props.any && c == ':' && blankz(m_p + 1)
                         ? empty_scalar(mark_on_line(props.end), props)
                         : inline_node(m, props, false);
  if (is_block_scalar(key)) {
    fail(m_doc->nodes[key].begin, "a block scalar cannot be a mapping key");
  }
  return key_colon(key);
}

// After an implicit key: its ':' must follow on the same line.
NodeId Parser::key_colon(NodeId key) {
  while (is_ws(ch())) {
    ++m_p;
  }
  if (ch() != ':' || !blankz(m_p + 1)) {
    fail(m_doc->nodes[key].begin, "expected ':' after a mapping key (or bad indentation)");
  }
  if (m_doc->nodes[key].begin.line != m_line) {
    fail(m_doc->nodes[key].begin, "a mapping key must be on one line");
  }
  return key;
}

NodeId Parser::block_sequence(std::ptrdiff_t m, const Props& props) {
  const Mark begin = mark();
  enter(begin);
  const NodeId id = new_node(NodeKind::sequence, begin);
  apply(id, props);
  const std::size_t base = m_stack.size();
  for (;;) {
    ++m_p; // '-'
    m_stack.push_back(after_indicator(m, true, false, k_no_node));
    if (eof() || m_marker || static_cast<std::ptrdiff_t>(m_indent) < m) {
      break;
    }
    if (m_tabbed) {
      fail(mark(), "a tab character in indentation");
    }
    if (static_cast<std::ptrdiff_t>(m_indent) > m) {
      fail(mark(), "bad indentation: expected a sequence entry at column " + std::to_string(m + 1) +
                       " or less");
    }
    if (ch() != '-' || !blankz(m_p + 1)) {
      break; // the next key of the mapping this sequence is a value of ("key:\n- a\nnext: b")
    }
  }
  close_collection(id, base);
  leave();
  return id;
}

NodeId Parser::inline_node(std::ptrdiff_t n, const Props& props, bool flow) {
  switch (ch()) {
  case '"':
  case '\'':
    return quoted(props);
  case '[':
  case '{':
    return flow_collection(n, props);
  case '*':
    return alias(props);
  case '|':
  case '>':
    if (flow) {
      fail(mark(), "a block scalar inside a flow collection");
    }
    return block_scalar(n, props);
  default:
    return plain(n, flow, props);
  }
}

void Parser::finish_marker() {
  while (is_ws(ch())) {
    ++m_p;
  }
  if (ch() == '#') {
    m_p = line_end(m_p);
  } else if (!eof() && !is_break(ch())) {
    fail(mark(), "expected a line break after '...', found " + describe(ch()));
  }
  if (!eof()) {
    consume_break();
  }
}

[[noreturn]] void Parser::fail_nul() const {
  fail(mark_on_line(m_end), "a NUL byte (not allowed in YAML)");
}

std::optional<Document> Parser::document() {
  Mark begin = mark();
  next_line_content();
  bool directives = false;
  for (;;) {
    if (eof()) {
      if (directives) {
        fail(mark(), "expected '---' after the directives");
      }
      if (m_end < m_text.size()) {
        fail_nul();
      }
      return std::nullopt;
    }
    if (m_indent == 0 && !m_tabbed && ch() == '%') {
      if (!directives) {
        directives = true;
        begin = mark();
      }
      directive();
      continue;
    }
    if (m_marker && ch() == '.') {
      if (directives) {
        fail(mark(), "expected '---' after the directives, found '...'");
      }
      m_p += 3;
      finish_marker();
      begin = mark();
      next_line_content();
      continue;
    }
    break;
  }
  Document doc;
  doc.nodes.reserve(m_node_hint);
  m_doc = &doc;
  if (m_marker) {
    if (!directives) {
      begin = mark();
    }
    doc.explicit_start = true;
    m_head.clear();
    m_p += 3;
    doc.root = after_indicator(-1, false, false, k_no_node);
  } else {
    if (directives) {
      fail(mark(), "expected '---' after the directives");
    }
    if (m_tabbed) {
      fail(mark(), "a tab character in indentation");
    }
    doc.root = content_node(-1, k_no_props, true);
  }
  doc.begin = begin;
  if (eof()) {
    if (m_end < m_text.size()) {
      fail_nul();
    }
    doc.end = m_end;
  } else if (m_marker && ch() == '.') {
    m_p += 3;
    finish_marker();
    doc.end = m_p;
  } else if ((m_marker || ch() == '%') && m_indent == 0 && !m_tabbed) {
    // The next document starts on this line ("---", or directives after a bare document).
    m_p = m_line_start;
    doc.end = m_p;
  } else {
    fail(mark(), m_tabbed ? "a tab character in indentation"
                          : "unexpected content after the document's root node (bad indentation?)");
  }
  // "---" with nothing after it: an empty document (a plain empty scalar without properties).
  const Node& root = doc.nodes[doc.root];
  if (root.kind == NodeKind::scalar && root.style == ScalarStyle::plain &&
      root.end == root.begin.offset && root.tag.empty() && root.anchor.empty()) {
    doc.nodes.clear();
    doc.root = k_no_node;
  }
  m_doc = nullptr;
  return doc;
}

} // namespace common::yamlscan::detail
