// A YAML scanner that keeps positions: it reads a multi-document YAML stream one document at a
// time and returns each document as a small tree of nodes that know their exact byte range,
// their style and the comments around them. It exists so that manifests can be edited by
// patching scalars in place (every byte outside a changed scalar stays as written: comments, key
// order, quoting, indentation, anchors, block scalars), which no tree re-emitter does, and so
// that rendering a stream costs about as much as reading it. Pure: no I/O.
//
// Coverage: YAML 1.2 block and flow syntax as Kubernetes manifests, Kustomize and Helm values
// use it: block mappings and sequences (including "- " sequences at the parent key's column),
// flow mappings and sequences (nested), plain scalars over several lines, single- and
// double-quoted scalars (escapes decoded), literal and folded block scalars (indentation
// indicators, chomping), explicit keys ("? "), tags ("!!str", "!foo"), anchors and aliases
// (kept as nodes, never expanded: an alias bomb costs one node per alias), directives ("%YAML"),
// document markers ("---", "..."), comments, CRLF line ends, a UTF-8 BOM.
//
// Errors (invalid_input) name the line and column (1-based) and what was expected; the scanner
// never reads past the buffer, never recurses without bound (nesting deeper than
// Limits::max_depth is an error), and bounds the node count per document.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::yamlscan {

// A position in the stream: byte offset from the start of the buffer, 1-based line and column
// (column in bytes).
struct Mark {
  std::size_t offset = 0;
  std::size_t line = 1;
  std::size_t column = 1;
};

enum class NodeKind : std::uint8_t { scalar, mapping, sequence, alias };

enum class ScalarStyle : std::uint8_t { plain, single_quoted, double_quoted, literal, folded };

using NodeId = std::uint32_t;
inline constexpr NodeId k_no_node = 0xffffffffu;

struct Node {
  NodeKind kind = NodeKind::scalar;
  ScalarStyle style = ScalarStyle::plain; // scalars only
  bool flow = false;                      // collections written in flow style ({...}, [...])
  // The node's text is [begin.offset, end): for a scalar, the whole token as written (quotes
  // included; for a block scalar, the indicator line through the last content line, without the
  // final line break); for a collection, its first to its last character; for an alias, "*name".
  // An empty plain scalar ("key:" with no value) has begin.offset == end, at the place where a
  // value would be written. Tag and anchor, when present, come before `begin` (not included).
  Mark begin;
  std::size_t end = 0;
  std::string value;  // scalars: the value as YAML reads it (escapes decoded, lines folded);
                      // aliases: the anchor name
  std::string tag;    // as written ("!!str", "!"), "" when none
  std::string anchor; // without '&', "" when none
  // Comments as written, without the leading '#' and the line break (leading/trailing spaces
  // kept). `line_comment`: the comment that follows a scalar or alias on the line where it ends
  // (`image: a:1 # c` gives the value "a:1" the comment " c"); for `key: # c` with the value on
  // the next lines, the key gets it. `head_comments`: the whole-line comments directly above the
  // line where the node starts, in order, for the first node that starts on that line (for a
  // mapping entry, its key; for `- a`, the item; stopped by a blank line or any other content).
  // Comments are attached to scalars, aliases and keys only, never lost from the text (they stay
  // in the bytes whatever is patched).
  std::optional<std::string> line_comment;
  std::vector<std::string> head_comments;
  // Children: for a mapping, key/value pairs as consecutive ids (key, value, key, value, ...);
  // for a sequence, the items. In document order.
  std::vector<NodeId> children;
};

struct Document {
  Mark begin;           // first byte of the document (its "---" line when explicit)
  std::size_t end = 0;  // one past its last byte (its "..." line included when present)
  bool explicit_start = false;
  NodeId root = k_no_node; // k_no_node for an empty document
  std::vector<Node> nodes; // owned here; ids index this vector
};

struct Limits {
  std::size_t max_depth = 256;          // nested collections
  std::size_t max_nodes = 4'000'000;    // per document
};

// Reads the documents of `text` in order. `text` must outlive the scanner.
class Scanner {
public:
  explicit Scanner(std::string_view text, Limits limits = {});
  // The next document, nullopt at the end of the stream, or an error (invalid_input, with
  // "line L, column C: ..." naming the place). After an error the scanner is done.
  util::Result<std::optional<Document>> next();

private:
  std::string_view m_text;
  Limits m_limits;
  std::size_t m_pos = 0;
  std::size_t m_line = 1;
  bool m_done = false;
};

// Whether a plain (unquoted) scalar with this text would be read by YAML 1.1 or 1.2 as something
// other than a string (null, bool incl. yes/no/on/off, int incl. 0x/0o/octal/sexagesimal,
// float incl. .inf/.nan, "1.10"), or could not be written plain at all (leading indicator,
// ": " or " #" inside, leading/trailing space, empty). Such a value must be quoted.
bool needs_quotes(std::string_view value);

// `value` written as a YAML scalar in `style` (plain falls back to double-quoted when
// needs_quotes()); single-quoted doubles quotes; double-quoted escapes '"', '\\' and control
// characters. Block styles are not produced (a block scalar's value is replaced by a
// double-quoted one only by callers that decide so).
std::string encode_scalar(std::string_view value, ScalarStyle style);

} // namespace common::yamlscan
