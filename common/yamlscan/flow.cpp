// Flow collections: "[a, b]" and "{k: v}", nested, over any number of lines, with comments,
// explicit keys ("? k : v"), single-pair mappings inside sequences ("[a: b]") and JSON's
// adjacent ':' after quoted keys ({"a":1}). Indentation inside flow collections is not checked
// (libyaml does not either), so pretty-printed JSON reads as it is written.
#include <string>

#include "common/yamlscan/parser.hpp"

namespace common::yamlscan::detail {

bool Parser::value_indicator(bool json_key) const {
  if (ch() != ':') {
    return false;
  }
  return json_key || blankz(m_p + 1) || is_flow_indicator(at(m_p + 1));
}

bool Parser::json_like(NodeId id) const {
  const Node& node = m_doc->nodes[id];
  if (node.kind == NodeKind::scalar) {
    return node.style == ScalarStyle::single_quoted || node.style == ScalarStyle::double_quoted;
  }
  return node.flow;
}

// Blanks, line breaks and comments between flow tokens. A comment on the line where `attach`
// ended is its line comment; whole-line comments become head comments of the next line.
void Parser::flow_space(NodeId attach, const Mark& open) {
  bool crossed = false; // a line break was passed
  bool blank = false;   // nothing but blanks on the current line so far
  for (;;) {
    const char c = ch();
    if (is_ws(c)) {
      ++m_p;
      continue;
    }
    if (is_break(c)) {
      if (!crossed || blank) {
        m_head.clear();
      }
      consume_break();
      crossed = true;
      blank = true;
      if (doc_marker(m_p)) {
        fail(open,
             "unclosed flow collection (a document marker at line " + std::to_string(m_line) + ")");
      }
      continue;
    }
    if (c == '#') {
      const std::size_t e = line_end(m_p);
      const std::string_view text = m_text.substr(m_p + 1, e - m_p - 1);
      if (!crossed) {
        if (attach != k_no_node) {
          m_doc->nodes[attach].line_comment.emplace(text);
        }
      } else {
        m_head.push_back(text);
        blank = false;
      }
      m_p = e;
      continue;
    }
    if (c == '\0') {
      fail(open, std::string("unclosed flow ") +
                     (m_text[open.offset] == '[' ? "sequence" : "mapping") + " (no closing '" +
                     (m_text[open.offset] == '[' ? "]" : "}") + "' before the end of the input)");
    }
    break;
  }
  if (crossed) {
    m_head_line = m_line;
  }
}

NodeId Parser::flow_node(std::ptrdiff_t n, const Mark& open) {
  const Props props = maybe_properties(true);
  Mark empty = mark();
  if (props.any) {
    empty =
        Mark{props.end, props.begin.line, props.begin.column + (props.end - props.begin.offset)};
    flow_space(k_no_node, open);
  }
  const char c = ch();
  if (c == ',' || c == ']' || c == '}' || value_indicator(false)) {
    if (!props.any && c != ':') {
      fail(mark(), "expected a node, found " + describe(c));
    }
    return empty_scalar(empty, props);
  }
  return inline_node(n, props, true);
}

// One entry of a flow collection; returns the node a comment right after it belongs to.
NodeId Parser::flow_entry(std::ptrdiff_t n, const Mark& open, bool in_map, char close) {
  const Mark begin = mark();
  bool pair = in_map;
  NodeId key;
  if (ch() == '?' && (blankz(m_p + 1) || is_flow_indicator(at(m_p + 1)))) {
    ++m_p;
    pair = true;
    flow_space(k_no_node, open);
    key = ch() == ',' || ch() == close || value_indicator(false) ? empty_scalar(mark(), k_no_props)
                                                                 : flow_node(n, open);
  } else {
    key = flow_node(n, open);
  }
  const bool key_scalar =
      m_doc->nodes[key].kind != NodeKind::mapping && m_doc->nodes[key].kind != NodeKind::sequence;
  flow_space(key_scalar ? key : k_no_node, open);
  NodeId value = k_no_node;
  if (value_indicator(json_like(key))) {
    pair = true;
    ++m_p;
    const Mark after = mark();
    flow_space(k_no_node, open);
    value = ch() == ',' || ch() == close ? empty_scalar(after, k_no_props) : flow_node(n, open);
  } else if (pair) {
    value = empty_scalar(m_last_end, k_no_props);
  }
  if (!pair) {
    m_stack.push_back(key);
    return key_scalar ? key : k_no_node;
  }
  if (in_map) {
    m_stack.push_back(key);
    m_stack.push_back(value);
  } else {
    // "[a: b]": a sequence entry that is a mapping of one pair.
    const NodeId map = new_node(NodeKind::mapping, begin);
    Node& node = m_doc->nodes[map];
    node.flow = true;
    node.children = {key, value};
    node.end = m_doc->nodes[value].end;
    m_stack.push_back(map);
  }
  const NodeKind kind = m_doc->nodes[value].kind;
  return kind == NodeKind::scalar || kind == NodeKind::alias ? value : k_no_node;
}

NodeId Parser::flow_collection(std::ptrdiff_t n, const Props& props) {
  const Mark open = mark();
  enter(open);
  const bool in_map = ch() == '{';
  const char close = in_map ? '}' : ']';
  const NodeId id = new_node(in_map ? NodeKind::mapping : NodeKind::sequence, open);
  m_doc->nodes[id].flow = true;
  apply(id, props);
  ++m_p;
  const std::size_t base = m_stack.size();
  for (;;) {
    flow_space(k_no_node, open);
    if (ch() == close) {
      break;
    }
    const NodeId last = flow_entry(n, open, in_map, close);
    flow_space(last, open);
    const char c = ch();
    if (c == ',') {
      ++m_p;
      continue;
    }
    if (c == close) {
      break;
    }
    fail(mark(), std::string("expected ',' or '") + close + "' in a flow " +
                     (in_map ? "mapping" : "sequence") + ", found " + describe(c));
  }
  ++m_p;
  close_collection(id, base);
  m_doc->nodes[id].end = m_p;
  m_last_end = mark();
  leave();
  return id;
}

} // namespace common::yamlscan::detail
