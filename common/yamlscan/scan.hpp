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
// Errors (invalid_input) name the line and column (1-based; also in Error::where, without a
// file: the caller adds it) and what was expected; the scanner never reads past the buffer,
// never recurses without bound (nesting deeper than Limits::max_depth is an error), and bounds
// the node count per document. The limits give too_large errors. A NUL byte is an error (YAML does
// not allow it) where the scanner reaches it. Bytes are not checked for valid UTF-8 (they are
// carried through as they are).
//
// Not handled beyond the syntax: tag handles are not resolved, aliases are not expanded (an
// alias to an anchor not defined before it in the document is an error), merge keys ("<<") are
// ordinary keys (which may repeat), redefined anchors are not reported, and values are not
// typed (needs_quotes() tells which plain texts YAML would read as non-strings). A mapping that
// repeats a scalar key (by value) is an error naming both lines, as in go-yaml v3 (kubectl).
//
// Values are decoded as libyaml (and so go-yaml, used by Flux and Argo CD) decodes them. Where
// libyaml (YAML 1.1) rejects what YAML 1.2 allows, this scanner follows YAML 1.2: an empty key
// (": v", "{: v}"), a tab after "-" ("-\tx"), "?x" and ":x" as plain scalars in flow collections,
// a bare document after "..." without "---". It is stricter than libyaml for a block scalar
// written at its key's own column ("k:\n|") and a '#' right after a block scalar indicator.
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
// (column in bytes; on the first line a UTF-8 BOM is not counted). "\r\n", "\n" and a lone "\r"
// end lines.
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
  // An empty plain scalar ("key:" with no value, "- " with no item) has begin.offset == end,
  // just after its indicator (':', '-', '?', "---"), or after its tag/anchor when it has one (for
  // "? key" without a value: at the key's end). Tag and anchor, when present, come before
  // `begin` (not included). A block mapping starts at its first entry (that key's tag/anchor
  // included) and ends with its last value; a block sequence starts at its first '-'.
  Mark begin;
  std::size_t end = 0;
  std::string value;  // scalars: the value as YAML reads it (escapes decoded, lines folded);
                      // aliases: the anchor name
  std::string tag;    // as written ("!!str", "!"), "" when none
  std::string anchor; // without '&', "" when none
  // Comments as written, without the leading '#' and the line break (leading/trailing spaces
  // kept). `line_comment`: the comment that follows a scalar or alias on the line where it ends,
  // with only blanks between (`image: a:1 # c` gives the value "a:1" the comment " c"); for
  // `key: # c` (or `key: &a # c`) with the value on the next lines, the key gets it; for a block
  // scalar, the comment on its indicator line (`key: | # c`, inside [begin, end) when the scalar
  // has content lines). A comment after a flow collection's closing bracket, after ',' or after
  // "- " is attached to nothing. `head_comments`: the whole-line comments directly above the line
  // where the node starts, in order, for the first scalar or alias that starts on that line (for
  // a mapping entry, its key; for `- a`, the item; for `- name: x`, the key "name"); a blank line
  // drops the comments above it; comments before "---" belong to no node. Comments are attached
  // to scalars, aliases and keys only, never lost from the text (they stay in the bytes whatever
  // is patched).
  std::optional<std::string> line_comment;
  std::vector<std::string> head_comments;
  // Children: for a mapping, key/value pairs as consecutive ids (key, value, key, value, ...);
  // for a sequence, the items. In document order. "[a: b]" is a sequence holding a flow mapping
  // of one pair (that mapping has flow == true and starts at its key).
  std::vector<NodeId> children;
};
// Node ids: scalars and aliases are numbered in document order; a block mapping's id comes after
// its first key's (the mapping is only known at the ':'), a "[a: b]" pair's after its value's.
// Walk from Document::root for the tree.

struct Document {
  // [begin, end): begin is the document's first directive or "---" line when it has one, else
  // where the previous document ended (the start of the stream, after a BOM, for the first), so
  // comments above an implicit document's first line are inside it. end is the start of the line
  // that starts the next document ("---" or a directive), one past the "..." line (its line break
  // included) when there is one, or the end of the stream.
  Mark begin;
  std::size_t end = 0;
  bool explicit_start = false;
  NodeId root = k_no_node; // k_no_node for an empty document ("---" with nothing after it)
  std::vector<Node> nodes; // owned here; ids index this vector
};

struct Limits {
  std::size_t max_depth = 256;       // nested collections (the parser recurses a few hundred
                                     // bytes of stack per level)
  std::size_t max_nodes = 4'000'000; // per document
};

// The value of `key` in the mapping `mapping` of `doc` (scalar keys compared by value; the first
// one when a key repeats), k_no_node when `mapping` is no mapping or has no such key. Aliases are
// not followed.
NodeId value_of(const Document& doc, NodeId mapping, std::string_view key) noexcept;

// Reads the documents of `text` in order. `text` must outlive the scanner.
class Scanner {
public:
  explicit Scanner(std::string_view text, Limits limits = {});
  // The next document, nullopt at the end of the stream, or an error (invalid_input, with
  // "line L, column C: ..." naming the place; too_large for Limits). After an error the scanner
  // is done. A stream of only comments and blank lines has no document; "---" alone is one empty
  // document.
  util::Result<std::optional<Document>> next();

private:
  std::string_view m_text;
  Limits m_limits;
  std::size_t m_pos = 0;
  std::size_t m_line = 1;
  bool m_done = false;
  std::size_t m_end = 0;       // the first NUL byte, else the end of the text
  std::size_t m_node_hint = 0; // nodes of the previous document (to reserve)
};

// Whether a plain (unquoted) scalar with this text would be read by YAML 1.1 or 1.2 as something
// other than a string (null/~, bool incl. y/n/yes/no/on/off in any letter case, int incl.
// 0x/0o/0b/leading-zero octal/underscores/sexagesimal 1:20, float incl. 1.10/1e3/.inf/.nan, the
// YAML 1.1 "<<" and "="), or could not be written plain at all (empty, leading/trailing blank,
// leading indicator, "-"/"?"/":" alone or before a blank, ": " or " #" inside or ':' at the end,
// a line break or control character, a leading "---"/"...") or not inside a flow collection
// (any of ",[]{}"). Such a value must be quoted.
bool needs_quotes(std::string_view value);

// `value` written as a one-line YAML scalar in `style` (plain falls back to double-quoted when
// needs_quotes(); single-quoted, which doubles quotes, falls back to double-quoted for line
// breaks and control characters); double-quoted escapes '"', '\\', control characters (\n, \t,
// \xNN, ...) and the Unicode line separators. Block styles give double-quoted (a block scalar's
// value is replaced by a double-quoted one only by callers that decide so). Scanning the result
// gives `value` back.
std::string encode_scalar(std::string_view value, ScalarStyle style);

} // namespace common::yamlscan
