// libFuzzer entry point for the YAML scanner: any bytes must give documents or an error, never a
// crash, a hang or a read outside the buffer. Checks the invariants the manifest layer relies on
// when it patches scalars in place (ranges inside the buffer and the document, children inside
// their parent, valid ids forming a tree, marks matching offsets), and that encode_scalar() of
// the input reads back as the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/yamlscan/scan.hpp"

namespace {

using namespace common::yamlscan;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// Line and column of `offset` counted independently of the scanner.
Mark mark_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t line_start = text.starts_with("\xef\xbb\xbf") ? 3 : 0;
  for (std::size_t i = line_start; i < offset; ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue; // the '\n' ends the line
    }
    if (text[i] == '\n' || text[i] == '\r') {
      ++line;
      line_start = i + 1;
    }
  }
  return {offset, line, offset - line_start + 1};
}

void check_document(std::string_view text, const Document& doc) {
  check(doc.begin.offset <= doc.end && doc.end <= text.size());
  if (doc.root == k_no_node) {
    check(doc.nodes.empty());
    return;
  }
  check(doc.root < doc.nodes.size());
  std::vector<bool> seen(doc.nodes.size(), false);
  std::vector<NodeId> todo{doc.root};
  std::size_t marks_checked = 0;
  while (!todo.empty()) {
    const NodeId id = todo.back();
    todo.pop_back();
    check(id < doc.nodes.size() && !seen[id]);
    seen[id] = true;
    const Node& node = doc.nodes[id];
    check(node.begin.offset <= node.end && node.end <= text.size());
    check(node.begin.offset >= doc.begin.offset && node.end <= doc.end);
    check(node.begin.line >= 1 && node.begin.column >= 1);
    if (marks_checked++ < 64) {
      const Mark expected = mark_of(text, node.begin.offset);
      check(node.begin.line == expected.line && node.begin.column == expected.column);
    }
    switch (node.kind) {
    case NodeKind::scalar:
    case NodeKind::alias:
      check(node.children.empty());
      break;
    case NodeKind::mapping:
      check(node.children.size() % 2 == 0);
      break;
    case NodeKind::sequence:
      break;
    }
    if (node.kind == NodeKind::alias) {
      check(text.substr(node.begin.offset, node.end - node.begin.offset) == "*" + node.value);
    }
    if (node.kind == NodeKind::scalar && node.style == ScalarStyle::plain) {
      const std::string_view raw = text.substr(node.begin.offset, node.end - node.begin.offset);
      if (raw.find_first_of("\r\n") == std::string_view::npos) {
        check(raw == node.value); // one line of plain text is its own value
      }
    }
    for (const NodeId child : node.children) {
      check(child < doc.nodes.size());
      const Node& c = doc.nodes[child];
      check(c.begin.offset >= node.begin.offset && c.end <= node.end);
      todo.push_back(child);
    }
  }
  for (const bool reached : seen) {
    check(reached); // every node belongs to the tree
  }
}

void check_encoding(std::string_view value) {
  static constexpr ScalarStyle k_styles[] = {ScalarStyle::plain, ScalarStyle::single_quoted,
                                             ScalarStyle::double_quoted, ScalarStyle::literal};
  for (const auto style : k_styles) {
    const std::string text = "k: " + encode_scalar(value, style) + "\n";
    Scanner scanner(text);
    auto doc = scanner.next();
    check(doc.has_value() && doc->has_value());
    const Document& d = **doc;
    check(d.root != k_no_node && d.nodes[d.root].children.size() == 2);
    check(d.nodes[d.nodes[d.root].children[1]].value == value);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_nodes = 200'000; // bounds memory per input
  Scanner scanner(text, limits);
  std::size_t previous_end = 0;
  for (;;) {
    auto next = scanner.next();
    if (!next) {
      const auto& error = next.error();
      check(error.kind == common::util::ErrorKind::invalid_input ||
            error.kind == common::util::ErrorKind::too_large);
      check(error.message.starts_with("line "));
      break;
    }
    if (!*next) {
      break;
    }
    check((*next)->begin.offset >= previous_end);
    previous_end = (*next)->end;
    check_document(text, **next);
  }
  if (size <= 512) {
    check_encoding(text);
  }
  return 0;
}
