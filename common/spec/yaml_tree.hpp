// Internal to common/spec: a small, bounded YAML document tree built from yaml-cpp's parser
// events, with 1-based locations on every node.
//
// Why not YAML::Node: yaml-cpp's node graph gives no bound on work or memory, and a walker over
// it expands aliases (the "billion laughs"). Here an alias is a second reference to the
// anchored node (never a copy), a recursive alias is an error, and the node count and nesting
// depth are bounded while parsing, so parsing stops early instead of after the damage.
// YAML merge keys ("<<: *base", "<<: [*a, *b]") are resolved as Kubernetes' YAML does:
// explicit keys win, then earlier merged maps win over later ones.
//
// Why documents are split before yaml-cpp sees them: its scanner queues every token of a flow
// collection that might still turn out to be a mapping key ("[[...]]: v"), so one large flow
// document costs ~150 bytes of memory per input byte before the first event arrives. The
// stream is therefore cut at its document markers ("---" and "..." at the start of a line,
// which YAML forbids inside content), documents the caller does not want are never parsed,
// and the others are bounded in size before parsing. yaml-cpp 0.7 also loops forever on a
// document that starts with a token no node can start with (a ','); that is detected and
// reported as a syntax error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/spec/model.hpp"

namespace common::spec::detail {

enum class NodeKind { null, scalar, sequence, mapping };

using NodeId = std::uint32_t;

struct Node {
  NodeKind kind = NodeKind::null;
  Location at;
  bool implicit = false; // a null with nothing written ("key:" and no value)
  std::string tag;       // "?" plain, "!" quoted, else the resolved tag ("tag:yaml.org,2002:str")
  std::string text;      // a scalar's value
  std::vector<NodeId> children; // sequence items; mapping key, value, key, value, ...
};

struct Document {
  std::size_t index = 0; // 0-based, in the stream
  Location at;
  std::vector<Node> nodes;
  NodeId root = 0;

  const Node& node(NodeId id) const { return nodes[id]; }
};

struct TreeLimits {
  std::size_t max_bytes = 0;          // the stream
  std::size_t max_document_bytes = 0; // one parsed document
  std::size_t max_documents = 0;
  std::size_t max_nodes = 0; // per document
  std::size_t max_depth = 0;
};

// A problem that ended one document (a YAML syntax error, an exceeded bound) or the stream
// (`fatal`: more bytes or documents than allowed).
struct TreeError {
  std::size_t document = 0;
  Location at;
  std::string message; // "invalid YAML: ...", "more than 100 nested collections", ...
  bool fatal = false;
};

struct TreeCallbacks {
  // Whether a document, given its text, is worth parsing (nullptr: all are).
  std::function<bool(std::string_view text)> wanted;
  std::function<void(const Document&)> document;
  std::function<void(const TreeError&)> error;
};

// Splits the stream into documents and calls `document` for each one wanted and parsed, in
// stream order, or `error` for one that could not be read; reading goes on with the next
// document unless the error is fatal. Document indexes count every document of the stream,
// wanted or not. A stream in UTF-16 or UTF-32 (by its first bytes) is parsed whole.
// Never throws (std::bad_alloc aside).
void read_documents(std::string_view text, const TreeLimits& limits,
                    const TreeCallbacks& callbacks);

} // namespace common::spec::detail
