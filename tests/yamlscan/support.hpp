// Helpers for the yamlscan tests: scan a whole stream, and render documents compactly so that
// tables can state the expected tree, values, styles, properties and comments in one string.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::yamlscan::test {

struct Scanned {
  std::vector<Document> docs;
  std::optional<util::Error> error;
};

inline Scanned scan_all(std::string_view text, Limits limits = {}) {
  Scanned out;
  Scanner scanner(text, limits);
  for (;;) {
    auto next = scanner.next();
    if (!next) {
      out.error = next.error();
      return out;
    }
    if (!*next) {
      return out;
    }
    out.docs.push_back(std::move(**next));
  }
}

inline std::string escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      out += c;
    }
  }
  return out;
}

// Scalars: p(v) plain, s(v) single-quoted, d(v) double-quoted, l(v) literal, f(v) folded;
// aliases *name; mappings {k: v, ...}, sequences [a, ...], flow ones prefixed with 'f'.
// Properties come first ("!tag &anchor "), head comments as "#^(c1|c2)" before the node, a line
// comment as " #(c)" after it.
inline std::string render_node(const Document& doc, NodeId id) {
  const Node& node = doc.nodes.at(id);
  std::string out;
  if (!node.head_comments.empty()) {
    out += "#^(";
    for (std::size_t i = 0; i < node.head_comments.size(); ++i) {
      out += (i ? "|" : "") + node.head_comments[i];
    }
    out += ")";
  }
  if (!node.tag.empty()) {
    out += node.tag + " ";
  }
  if (!node.anchor.empty()) {
    out += "&" + node.anchor + " ";
  }
  switch (node.kind) {
  case NodeKind::scalar: {
    static constexpr const char* k_style[] = {"p", "s", "d", "l", "f"};
    out += std::string(k_style[static_cast<int>(node.style)]) + "(" + escape(node.value) + ")";
    break;
  }
  case NodeKind::alias:
    out += "*" + node.value;
    break;
  case NodeKind::mapping:
    out += node.flow ? "f{" : "{";
    for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
      out += (i ? ", " : "") + render_node(doc, node.children[i]) + ": " +
             render_node(doc, node.children[i + 1]);
    }
    out += "}";
    break;
  case NodeKind::sequence:
    out += node.flow ? "f[" : "[";
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      out += (i ? ", " : "") + render_node(doc, node.children[i]);
    }
    out += "]";
    break;
  }
  if (node.line_comment) {
    out += " #(" + *node.line_comment + ")";
  }
  return out;
}

// Documents joined by " | "; an empty document renders as "~"; an error as "ERROR <message>".
inline std::string render(std::string_view text, Limits limits = {}) {
  const Scanned scanned = scan_all(text, limits);
  std::string out;
  for (const auto& doc : scanned.docs) {
    out += out.empty() ? "" : " | ";
    out += doc.root == k_no_node ? "~" : render_node(doc, doc.root);
  }
  if (scanned.error) {
    out += (out.empty() ? "" : " | ") + std::string("ERROR ") + scanned.error->message;
  }
  return out;
}

// Every node in tree order as "line:column[begin,end)`text`" (scalars, aliases) or
// "line:column[begin,end)" (collections).
inline void positions_of(const Document& doc, std::string_view text, NodeId id,
                         std::vector<std::string>& out) {
  const Node& node = doc.nodes.at(id);
  std::string entry = std::to_string(node.begin.line) + ":" + std::to_string(node.begin.column) +
                      "[" + std::to_string(node.begin.offset) + "," + std::to_string(node.end) +
                      ")";
  if (node.kind == NodeKind::scalar || node.kind == NodeKind::alias) {
    entry += "`" + escape(text.substr(node.begin.offset, node.end - node.begin.offset)) + "`";
  }
  out.push_back(entry);
  for (const NodeId child : node.children) {
    positions_of(doc, text, child, out);
  }
}

inline std::string positions(std::string_view text) {
  const Scanned scanned = scan_all(text);
  std::vector<std::string> all;
  for (const auto& doc : scanned.docs) {
    if (doc.root != k_no_node) {
      positions_of(doc, text, doc.root, all);
    }
  }
  std::string out;
  for (const auto& entry : all) {
    out += (out.empty() ? "" : " ") + entry;
  }
  if (scanned.error) {
    out += " ERROR " + scanned.error->message;
  }
  return out;
}

// Visits every node of every document in tree order.
template <class F>
void for_each_node(const Document& doc, NodeId id, F&& f) {
  const Node& node = doc.nodes.at(id);
  f(node);
  for (const NodeId child : node.children) {
    for_each_node(doc, child, f);
  }
}

} // namespace common::yamlscan::test
