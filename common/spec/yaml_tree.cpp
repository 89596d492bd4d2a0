#include "common/spec/yaml_tree.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <spanstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace common::spec::detail {
namespace {

Location location_of(const YAML::Mark& mark, int first_line) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) {
    return {};
  }
  return {first_line + mark.line + 1, mark.column + 1};
}

// Thrown by the builder to abandon the parse when a bound is exceeded; it unwinds through
// yaml-cpp's parser (which is exception safe: it throws its own errors the same way).
struct BoundExceeded {
  Location at;
  std::string message;
};

class Builder final : public YAML::EventHandler {
public:
  Builder(std::string_view text, int first_line, const TreeLimits& limits)
      : m_text(text), m_first_line(first_line), m_limits(limits) {}

  Location at(const YAML::Mark& mark) const { return location_of(mark, m_first_line); }

  void reset(std::size_t index) {
    m_doc = Document{};
    m_doc.index = index;
    m_open.clear();
    m_anchors.clear();
    m_have_root = false;
    m_count_in_doc = 0;
    m_start_pos = -1;
  }
  const Document& document() const noexcept { return m_doc; }
  int start_pos() const noexcept { return m_start_pos; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    m_doc.at = at(mark);
    m_start_pos = mark.pos;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    NodeId id = add(NodeKind::null, mark, anchor);
    // yaml-cpp reports both "key:" (nothing written) and "key: ~" as null, the former at the
    // next token. Only an explicit null has null text at its mark.
    auto pos = static_cast<std::size_t>(std::max(mark.pos, 0));
    std::string_view rest = pos < m_text.size() ? m_text.substr(pos) : std::string_view{};
    bool written = rest.starts_with("~") || rest.starts_with("null") || rest.starts_with("Null") ||
                   rest.starts_with("NULL");
    m_doc.nodes[id].implicit = !written;
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count(mark);
    auto it = m_anchors.find(anchor);
    if (it == m_anchors.end()) {
      throw BoundExceeded{at(mark), "invalid YAML: the referenced anchor is not defined"};
    }
    if (std::find(m_open.begin(), m_open.end(), it->second) != m_open.end()) {
      throw BoundExceeded{at(mark),
                          "invalid YAML: an alias refers to a collection that contains it"};
    }
    attach(it->second);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    bool is_null = tag == "tag:yaml.org,2002:null" ||
                   (tag == "?" && (value == "~" || value == "null" || value == "Null" ||
                                   value == "NULL" || value.empty()));
    NodeId id = add(is_null ? NodeKind::null : NodeKind::scalar, mark, anchor);
    m_doc.nodes[id].tag = tag;
    m_doc.nodes[id].text = value;
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(add(NodeKind::sequence, mark, anchor), tag, mark);
  }
  void OnSequenceEnd() override { m_open.pop_back(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(add(NodeKind::mapping, mark, anchor), tag, mark);
  }
  void OnMapEnd() override {
    NodeId id = m_open.back();
    m_open.pop_back();
    resolve_merge_keys(id);
  }

private:
  void count(const YAML::Mark& mark) {
    if (++m_count_in_doc > m_limits.max_nodes) {
      throw BoundExceeded{at(mark), "document has more than " + std::to_string(m_limits.max_nodes) +
                                        " nodes (aliases and merged keys included)"};
    }
  }

  NodeId add(NodeKind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    count(mark);
    auto id = static_cast<NodeId>(m_doc.nodes.size());
    Node node;
    node.kind = kind;
    node.at = at(mark);
    m_doc.nodes.push_back(std::move(node));
    if (anchor != YAML::NullAnchor) {
      m_anchors[anchor] = id;
    }
    attach(id);
    return id;
  }

  void attach(NodeId id) {
    if (m_open.empty()) {
      if (!m_have_root) {
        m_doc.root = id;
        m_have_root = true;
      }
      return;
    }
    m_doc.nodes[m_open.back()].children.push_back(id);
  }

  void open(NodeId id, const std::string& tag, const YAML::Mark& mark) {
    m_doc.nodes[id].tag = tag;
    if (m_open.size() >= m_limits.max_depth) {
      throw BoundExceeded{at(mark), "more than " + std::to_string(m_limits.max_depth) +
                                        " nested collections"};
    }
    m_open.push_back(id);
  }

  bool is_merge_key(NodeId key) const {
    const Node& k = m_doc.nodes[key];
    return k.kind == NodeKind::scalar &&
           ((k.tag == "?" && k.text == "<<") || k.tag == "tag:yaml.org,2002:merge");
  }

  // "<<" entries whose value is a mapping or a sequence of mappings are replaced by the entries
  // of those mappings that the map does not already have. Anything else stays as an ordinary
  // key, so the reader reports it where it matters.
  void resolve_merge_keys(NodeId id) {
    const auto& children = m_doc.nodes[id].children;
    bool any = false;
    for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
      any = any || is_merge_key(children[i]);
    }
    if (!any) {
      return;
    }
    std::vector<NodeId> result;
    std::vector<NodeId> sources;
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
      NodeId key = children[i];
      NodeId value = children[i + 1];
      if (is_merge_key(key) && mergeable(value)) {
        const Node& v = m_doc.nodes[value];
        if (v.kind == NodeKind::mapping) {
          sources.push_back(value);
        } else {
          sources.insert(sources.end(), v.children.begin(), v.children.end());
        }
        continue;
      }
      if (m_doc.nodes[key].kind == NodeKind::scalar) {
        seen.insert(m_doc.nodes[key].text);
      }
      result.push_back(key);
      result.push_back(value);
    }
    for (NodeId source : sources) {
      const auto& entries = m_doc.nodes[source].children;
      for (std::size_t i = 0; i + 1 < entries.size(); i += 2) {
        const Node& key = m_doc.nodes[entries[i]];
        if (key.kind == NodeKind::scalar && !seen.insert(key.text).second) {
          continue;
        }
        count(YAML::Mark::null_mark());
        result.push_back(entries[i]);
        result.push_back(entries[i + 1]);
      }
    }
    m_doc.nodes[id].children = std::move(result);
  }

  bool mergeable(NodeId value) const {
    const Node& v = m_doc.nodes[value];
    if (v.kind == NodeKind::mapping) {
      return true;
    }
    return v.kind == NodeKind::sequence && !v.children.empty() &&
           std::all_of(v.children.begin(), v.children.end(),
                       [this](NodeId c) { return m_doc.nodes[c].kind == NodeKind::mapping; });
  }

  std::string_view m_text;
  int m_first_line;
  const TreeLimits& m_limits;
  Document m_doc;
  std::vector<NodeId> m_open;
  std::map<YAML::anchor_t, NodeId> m_anchors;
  bool m_have_root = false;
  std::size_t m_count_in_doc = 0;
  int m_start_pos = -1;
};

// One document's text in the stream.
struct Chunk {
  std::size_t begin = 0;
  std::size_t end = 0;
  int first_line = 0; // 0-based
};

// Cuts a stream at its document markers. YAML forbids "---" and "..." followed by a space or a
// line end at the start of a line inside content, so the cut is exact. Text holding nothing
// but comments, blank lines and directives is no document; a document marker after only such
// text starts the same document.
class Splitter {
public:
  explicit Splitter(std::string_view text) : m_text(text) {
    if (m_text.starts_with("\xEF\xBB\xBF")) {
      m_skip_bom = 3;
    }
  }

  bool next(Chunk& out) {
    while (m_pos < m_text.size() || !m_flushed) {
      if (m_pos >= m_text.size()) {
        m_flushed = true;
        return emit(m_text.size(), out);
      }
      std::size_t eol = m_text.find('\n', m_pos);
      std::size_t next = eol == std::string_view::npos ? m_text.size() : eol + 1;
      std::string_view line = m_text.substr(m_pos, next - m_pos);
      if (m_pos == 0) {
        line.remove_prefix(std::min(m_skip_bom, line.size()));
      }
      std::size_t here = m_pos;
      int here_line = m_line;
      m_pos = next;
      ++m_line;
      bool ready = false;
      if (marker(line, "---")) {
        if (m_marker || m_content) {
          ready = emit(here, out);
          start(here, here_line);
        }
        m_marker = true;
      } else if (marker(line, "...")) {
        ready = emit(next, out);
        start(next, m_line);
      } else if (line.starts_with("%")) {
        if (m_marker || m_content) {
          ready = emit(here, out);
          start(here, here_line);
        }
      } else if (!blank_or_comment(line)) {
        m_content = true;
      }
      if (ready) {
        return true;
      }
    }
    return false;
  }

private:
  static bool marker(std::string_view line, std::string_view m) {
    return line.starts_with(m) && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' ||
                                   line[3] == '\r' || line[3] == '\n');
  }
  static bool blank_or_comment(std::string_view line) {
    std::size_t i = line.find_first_not_of(" \t\r\n");
    return i == std::string_view::npos || line[i] == '#';
  }
  void start(std::size_t begin, int line) {
    m_begin = begin;
    m_first_line = line;
    m_marker = false;
    m_content = false;
  }
  bool emit(std::size_t end, Chunk& out) {
    if (!m_marker && !m_content) {
      return false;
    }
    out = Chunk{m_begin, end, m_first_line};
    return true;
  }

  std::string_view m_text;
  std::size_t m_skip_bom = 0;
  std::size_t m_pos = 0;
  int m_line = 0;
  std::size_t m_begin = 0;
  int m_first_line = 0;
  bool m_marker = false;
  bool m_content = false;
  bool m_flushed = false;
};

// yaml-cpp decodes UTF-16 and UTF-32 (told by a byte order mark or zero bytes up front); such
// a stream cannot be cut as bytes, so it is parsed whole.
bool is_wide(std::string_view text) {
  if (text.size() < 2) {
    return false;
  }
  auto byte = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 1;
  };
  return (byte(0) == 0xFE && byte(1) == 0xFF) || (byte(0) == 0xFF && byte(1) == 0xFE) ||
         byte(0) == 0 || byte(1) == 0 || byte(2) == 0 || byte(3) == 0;
}

// Parses one chunk; returns how many documents yaml-cpp found in it (normally 1).
std::size_t parse_chunk(std::string_view text, int first_line, std::size_t index,
                        const TreeLimits& limits, const TreeCallbacks& callbacks) {
  std::ispanstream in(std::span<const char>(text.data(), text.size()));
  Builder builder(text, first_line, limits);
  std::size_t count = 0;
  int last_start = -1;
  try {
    YAML::Parser parser(in);
    while (true) {
      builder.reset(index + count);
      if (!parser.HandleNextDocument(builder)) {
        break;
      }
      // yaml-cpp 0.7 does not consume a token it cannot start a node with (a ',' or '}' in
      // block context, jbeder/yaml-cpp#1040): every call returns the same empty document.
      if (count > 0 && builder.start_pos() == last_start) {
        auto pos = static_cast<std::size_t>(std::max(last_start, 0));
        std::string what = pos < text.size() ? std::string(1, text[pos]) : std::string("token");
        callbacks.error(TreeError{index + count - 1, builder.document().at,
                                  "invalid YAML: unexpected '" + what + "'", false});
        break;
      }
      last_start = builder.start_pos();
      if (!builder.document().nodes.empty()) {
        callbacks.document(builder.document());
      }
      ++count;
    }
  } catch (const BoundExceeded& e) {
    callbacks.error(TreeError{index + count, e.at, e.message, false});
    ++count;
  } catch (const YAML::Exception& e) {
    callbacks.error(TreeError{index + count, builder.at(e.mark), "invalid YAML: " + e.msg, false});
    ++count;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    callbacks.error(TreeError{index + count, {}, std::string("invalid YAML: ") + e.what(), false});
    ++count;
  }
  return std::max<std::size_t>(count, 1);
}

} // namespace

void read_documents(std::string_view text, const TreeLimits& limits,
                    const TreeCallbacks& callbacks) {
  if (text.size() > limits.max_bytes) {
    callbacks.error(TreeError{0,
                              {},
                              "input is " + std::to_string(text.size()) + " bytes, more than the " +
                                  std::to_string(limits.max_bytes) + " allowed",
                              true});
    return;
  }
  auto too_big = [&](std::size_t index, std::size_t size, int line) {
    callbacks.error(TreeError{index,
                              {line + 1, 1},
                              "document is " + std::to_string(size) + " bytes, more than the " +
                                  std::to_string(limits.max_document_bytes) +
                                  " allowed for an ImageUpdater",
                              false});
  };
  if (is_wide(text)) {
    if (text.size() > limits.max_document_bytes) {
      too_big(0, text.size(), 0);
    } else {
      parse_chunk(text, 0, 0, limits, callbacks);
    }
    return;
  }
  Splitter splitter(text);
  Chunk chunk;
  std::size_t index = 0;
  while (splitter.next(chunk)) {
    if (index >= limits.max_documents) {
      callbacks.error(
          TreeError{index,
                    {chunk.first_line + 1, 1},
                    "stream has more than " + std::to_string(limits.max_documents) + " documents",
                    true});
      return;
    }
    std::string_view doc = text.substr(chunk.begin, chunk.end - chunk.begin);
    if (callbacks.wanted && !callbacks.wanted(doc)) {
      ++index;
      continue;
    }
    if (doc.size() > limits.max_document_bytes) {
      too_big(index, doc.size(), chunk.first_line);
      ++index;
      continue;
    }
    index += parse_chunk(doc, chunk.first_line, index, limits, callbacks);
  }
}

} // namespace common::spec::detail
