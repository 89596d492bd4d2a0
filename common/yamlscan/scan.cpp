// Scanner: one Parser per document, so that memory follows the document, not the stream.
#include "common/yamlscan/scan.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "common/yamlscan/parser.hpp"

namespace common::yamlscan {

Scanner::Scanner(std::string_view text, Limits limits)
    : m_text(text), m_limits(limits), m_end(std::min(text.find('\0'), text.size())) {
  if (text.starts_with("\xef\xbb\xbf")) {
    m_pos = 3;
  }
}

NodeId value_of(const Document& doc, NodeId mapping, std::string_view key) noexcept {
  if (mapping == k_no_node || doc.nodes[mapping].kind != NodeKind::mapping) {
    return k_no_node;
  }
  const auto& children = doc.nodes[mapping].children;
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    const Node& k = doc.nodes[children[i]];
    if (k.kind == NodeKind::scalar && k.value == key) {
      return children[i + 1];
    }
  }
  return k_no_node;
}

util::Result<std::optional<Document>> Scanner::next() {
  if (m_done) {
    return std::optional<Document>{};
  }
  try {
    detail::Parser parser(m_text, m_end, m_limits, {m_pos, m_line, m_pos}, m_node_hint);
    std::optional<Document> doc = parser.document();
    if (!doc) {
      m_done = true;
      return doc;
    }
    const detail::Position next = parser.position();
    m_pos = next.offset;
    m_line = next.line;
    m_node_hint = doc->nodes.size();
    return doc;
  } catch (const detail::Failure& failure) {
    // Thrown only inside this module (see parser.hpp); the scanner is done after an error.
    m_done = true;
    // "line L, column C: what", with the line and column also in the error's location.
    return util::fail_at(
        failure.kind,
        util::at_line("", static_cast<int>(failure.at.line), static_cast<int>(failure.at.column)),
        failure.what);
  }
}

} // namespace common::yamlscan
