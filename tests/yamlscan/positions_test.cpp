// Byte ranges, lines and columns of nodes and documents; errors with their place; limits.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/yamlscan/support.hpp"

namespace common::yamlscan {
namespace {

struct PositionCase {
  std::string_view name;
  std::string_view yaml;
  std::string_view nodes; // test::positions()
};

const PositionCase k_positions[] = {
    {"mapping, sequence, comment, quotes", "a: b\nc:\n  - x # lc\n  - \"y\"\n",
     "1:1[0,26) 1:1[0,1)`a` 1:4[3,4)`b` 2:1[5,6)`c` 3:3[10,26) 3:5[12,13)`x` "
     "4:5[23,26)`\"y\"`"},
    {"empty values", "a:\nb: &x\nc:   # c\n",
     "1:1[0,11) 1:1[0,1)`a` 1:3[2,2)`` 2:1[3,4)`b` 2:6[8,8)`` 3:1[9,10)`c` 3:3[11,11)``"},
    {"empty items", "-\n- \n", "1:1[0,3) 1:2[1,1)`` 2:2[3,3)``"},
    {"block scalar", "k: |-\n  ab\n  cd\n\nz: 1\n",
     "1:1[0,21) 1:1[0,1)`k` 1:4[3,15)`|-\\n  ab\\n  cd` 5:1[17,18)`z` 5:4[20,21)`1`"},
    {"block scalar without content", "k: > # c\nz: 1\n",
     "1:1[0,13) 1:1[0,1)`k` 1:4[3,4)`>` 2:1[9,10)`z` 2:4[12,13)`1`"},
    {"multi-line plain", "a: x\n  y\nb: 1",
     "1:1[0,13) 1:1[0,1)`a` 1:4[3,8)`x\\n  y` 3:1[9,10)`b` 3:4[12,13)`1`"},
    {"multi-line quoted", "k: 'a\n  b'\n", "1:1[0,10) 1:1[0,1)`k` 1:4[3,10)`'a\\n  b'`"},
    {"flow", "[a, {b: c}]", "1:1[0,11) 1:2[1,2)`a` 1:5[4,10) 1:6[5,6)`b` 1:9[8,9)`c`"},
    {"single pair in flow sequence", "[a: b]", "1:1[0,6) 1:2[1,5) 1:2[1,2)`a` 1:5[4,5)`b`"},
    {"compact sequence in sequence item", "- n: a\n  l:\n  - x\n",
     "1:1[0,17) 1:3[2,17) 1:3[2,3)`n` 1:6[5,6)`a` 2:3[9,10)`l` 3:3[14,17) 3:5[16,17)`x`"},
    {"bom and crlf",
     "\xef\xbb\xbf"
     "a: b\r\nc: d\r\n",
     "1:1[3,13) 1:1[3,4)`a` 1:4[6,7)`b` 2:1[9,10)`c` 2:4[12,13)`d`"},
    {"anchor and alias", "a: &x v\nb: *x\n",
     "1:1[0,13) 1:1[0,1)`a` 1:7[6,7)`v` 2:1[8,9)`b` 2:4[11,13)`*x`"},
    {"key properties start the mapping", "- &k a: b\n",
     "1:1[0,9) 1:3[2,9) 1:6[5,6)`a` 1:9[8,9)`b`"},
    {"tag before a value", "a: !!str 1\n", "1:1[0,10) 1:1[0,1)`a` 1:10[9,10)`1`"},
    {"explicit key without value", "? a\n", "1:1[0,3) 1:3[2,3)`a` 1:4[3,3)``"},
    {"value on the --- line", "--- \"x\"\n", "1:5[4,7)`\"x\"`"},
    {"utf-8 counts bytes", "k: \xc3\xa9t\xc3\xa9 # c\n",
     "1:1[0,8) 1:1[0,1)`k` 1:4[3,8)`\xc3\xa9t\xc3\xa9`"},
};

TEST(Positions, Nodes) {
  for (const auto& c : k_positions) {
    EXPECT_EQ(test::positions(c.yaml), c.nodes) << c.name << "\n" << c.yaml;
  }
}

TEST(Positions, Documents) {
  const std::string_view text = "# c\na: 1\n---\nb: 2\n...\n# t\n--- c\n";
  const auto scanned = test::scan_all(text);
  ASSERT_FALSE(scanned.error) << scanned.error->message;
  ASSERT_EQ(scanned.docs.size(), 3u);
  struct Expected {
    std::size_t begin, line, end;
    bool explicit_start;
  };
  const Expected expected[] = {{0, 1, 9, false}, {9, 3, 22, true}, {26, 7, text.size(), true}};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(scanned.docs[i].begin.offset, expected[i].begin) << i;
    EXPECT_EQ(scanned.docs[i].begin.line, expected[i].line) << i;
    EXPECT_EQ(scanned.docs[i].begin.column, 1u) << i;
    EXPECT_EQ(scanned.docs[i].end, expected[i].end) << i;
    EXPECT_EQ(scanned.docs[i].explicit_start, expected[i].explicit_start) << i;
  }

  const auto with_bom = test::scan_all("\xef\xbb\xbf"
                                       "a: 1\n");
  ASSERT_EQ(with_bom.docs.size(), 1u);
  EXPECT_EQ(with_bom.docs[0].begin.offset, 3u);

  const auto directives = test::scan_all("a\n...\n%YAML 1.2\n---\nb\n");
  ASSERT_EQ(directives.docs.size(), 2u);
  EXPECT_EQ(directives.docs[0].end, 6u);
  EXPECT_EQ(directives.docs[1].begin.offset, 6u);
  EXPECT_TRUE(directives.docs[1].explicit_start);

  const auto empty = test::scan_all("---\n---\n");
  ASSERT_EQ(empty.docs.size(), 2u);
  EXPECT_EQ(empty.docs[0].root, k_no_node);
  EXPECT_TRUE(empty.docs[0].nodes.empty());
  EXPECT_EQ(empty.docs[0].end, 4u);
}

TEST(Positions, ScalarIdsInDocumentOrder) {
  const auto scanned = test::scan_all("- &x a: [b, {c: d}]\n  e: |\n    f\n- *x\n");
  ASSERT_FALSE(scanned.error) << scanned.error->message;
  std::size_t last = 0;
  for (const auto& node : scanned.docs.at(0).nodes) {
    if (node.kind == NodeKind::scalar || node.kind == NodeKind::alias) {
      EXPECT_GE(node.begin.offset, last);
      last = node.begin.offset;
    }
  }
}

struct ErrorCase {
  std::string_view yaml;
  std::string_view place; // "line L, column C"
  std::string_view what;  // part of the message
};

const ErrorCase k_errors[] = {
    {"a:\n\tb: c\n", "line 2, column 2", "tab character in indentation"},
    {"\tkey: v\n", "line 1, column 2", "tab character in indentation"},
    {"a: \"abc\n", "line 1, column 4", "unterminated double-quoted scalar"},
    {"a: 'abc\n\n", "line 1, column 4", "unterminated single-quoted scalar"},
    {"a: [1, 2\n", "line 1, column 4", "unclosed flow sequence"},
    {"a: {b: c\n", "line 1, column 4", "unclosed flow mapping"},
    {"[a,\n---\n]\n", "line 1, column 1", "unclosed flow collection"},
    {"a:\n  b: c\n d: e\n", "line 3, column 2", "bad indentation"},
    {"a:\n  - b\n  c: d\n", "line 3, column 3", "bad indentation"},
    {"a: |\n    x\n  y\n", "line 3, column 3", "bad indentation"},
    {"a: b\n  c: d\n", "line 2, column 4", "mapping value is not allowed here"},
    {"a: b: c\n", "line 1, column 5", "mapping value is not allowed here"},
    {"key: - a\n", "line 1, column 6", "block sequence cannot start on this line"},
    {"- a\nb: c\n", "line 2, column 1", "unexpected content after the document"},
    {"a: 1\nb\n", "line 2, column 1", "expected ':' after a mapping key"},
    {"a: 1\n- b\n", "line 2, column 1", "a block sequence entry where a mapping key was expected"},
    {"a: @b\n", "line 1, column 4", "unexpected '@'"},
    {"a: %b\n", "line 1, column 4", "unexpected '%'"},
    {"a: ]\n", "line 1, column 4", "unexpected ']'"},
    {"a: \"\\q\"\n", "line 1, column 5", "unknown escape sequence \\q"},
    {"a: \"\\u12\"\n", "line 1, column 5", "expected 4 hexadecimal digits"},
    {"a: \"\\ud800\"\n", "line 1, column 5", "invalid Unicode code point"},
    {"a: |0\n", "line 1, column 5", "indentation indicator must be 1 to 9"},
    {"a: |x\n", "line 1, column 5", "expected a comment or a line break"},
    {"a: |\n    \n  x\n", "line 3, column 3", "leading empty line"},
    {"[a, , b]\n", "line 1, column 5", "expected a node, found ','"},
    {"{a: 1 b: 2}\n", "line 1, column 8", "expected ',' or '}'"},
    {"a: *nope\n", "line 1, column 4", "undefined anchor"},
    {"&a &b x\n", "line 1, column 4", "two anchors"},
    {"!a !b x\n", "line 1, column 4", "two tags"},
    {"a: *x &y\n", "line 1, column 4", "undefined anchor"},
    {"a: &x\n  &y b\n", "line 2, column 3", "two tags or two anchors"},
    {"a: !x\n  !y\n  b\n", "line 2, column 3", "two tags or two anchors"},
    {"a: !<x\n", "line 1, column 4", "unterminated verbatim tag"},
    {"%YAML 1.2\na: b\n", "line 2, column 1", "expected '---' after the directives"},
    {"%YAML 1.2\n", "line 2, column 1", "expected '---' after the directives"},
    {"a: b\n... x\n", "line 2, column 5", "expected a line break after '...'"},
    {"a: \"x\n---\ny\"\n", "line 2, column 1", "document marker inside a quoted scalar"},
    {"a: 'x'y\n", "line 1, column 7", "expected a comment or a line break, found 'y'"},
    {"a: [x] y\n", "line 1, column 8", "expected a comment or a line break"},
    {"{{- if .Values.x }}\na: b\n", "line 1, column 3", "unexpected '-'"},
    {"a: [- b]\n", "line 1, column 5", "unexpected '-'"},
    {"a: [|\n  x]\n", "line 1, column 5", "block scalar inside a flow collection"},
    {"a: b\n\t# ok\n\tc: d\n", "line 3, column 2", "tab character in indentation"},
    {"? a\n  b: c\n", "line 1, column 3", "a mapping key must be on one line"},
    {"a: |\nb\n", "line 2, column 1", "expected ':' after a mapping key"},
    {"image: a\nname: x\nimage: b\n", "line 3, column 1",
     "duplicate mapping key \"image\" (first at line 1)"},
    {"{a: 1, 'a': 2}\n", "line 1, column 8", "duplicate mapping key \"a\""},
    {"k0: 0\nk1: 1\nk2: 2\nk3: 3\nk4: 4\nk5: 5\nk6: 6\nk7: 7\nk8: 8\nk9: 9\nk10: 10\nk11: 11\n"
     "k12: 12\nk13: 13\nk14: 14\nk15: 15\nk16: 16\nk3: again\n",
     "line 18, column 1", "duplicate mapping key \"k3\" (first at line 4)"},
};

TEST(Errors, MergeKeysMayRepeat) {
  const auto scanned = test::scan_all("a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  <<: *b\n");
  EXPECT_FALSE(scanned.error) << scanned.error->message;
}

TEST(Errors, NameThePlace) {
  for (const auto& c : k_errors) {
    const auto scanned = test::scan_all(c.yaml);
    ASSERT_TRUE(scanned.error) << c.yaml;
    EXPECT_EQ(scanned.error->kind, util::ErrorKind::invalid_input) << c.yaml;
    const std::string& message = scanned.error->message;
    EXPECT_TRUE(message.starts_with(std::string(c.place) + ": ")) << c.yaml << "\n" << message;
    EXPECT_NE(message.find(c.what), std::string::npos) << c.yaml << "\n" << message;
  }
}

TEST(Errors, DocumentsBeforeAnErrorAndNothingAfter) {
  Scanner scanner("a: 1\n---\nb: [\n---\nc: 3\n");
  auto first = scanner.next();
  ASSERT_TRUE(first && *first);
  auto second = scanner.next();
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("unclosed"), std::string::npos);
  auto third = scanner.next();
  ASSERT_TRUE(third);
  EXPECT_FALSE(*third);
}

TEST(Errors, NulByte) {
  const std::string text("a: b\n\0c: d\n", 11);
  const auto scanned = test::scan_all(text);
  ASSERT_TRUE(scanned.error);
  EXPECT_EQ(scanned.error->message, "line 2, column 1: a NUL byte (not allowed in YAML)");

  const std::string in_quotes("a: \"x\0\"\n", 8);
  const auto quoted = test::scan_all(in_quotes);
  ASSERT_TRUE(quoted.error);
  EXPECT_EQ(quoted.error->message, "line 1, column 4: unterminated double-quoted scalar");
}

TEST(Limits, Depth) {
  const auto nested = [](std::size_t n) { return std::string(n, '[') + std::string(n, ']'); };
  EXPECT_FALSE(test::scan_all(nested(256)).error);
  const auto deep = test::scan_all(nested(257));
  ASSERT_TRUE(deep.error);
  EXPECT_EQ(deep.error->kind, util::ErrorKind::too_large);
  EXPECT_EQ(deep.error->message, "line 1, column 257: collections nested deeper than 256 levels");

  // Far beyond the limit: an error, not a stack overflow.
  EXPECT_TRUE(test::scan_all(std::string(1'000'000, '[')).error);
  EXPECT_TRUE(test::scan_all(std::string(1'000'000, '{')).error);

  std::string dashes;
  for (int i = 0; i < 300; ++i) {
    dashes += "- ";
  }
  const auto block = test::scan_all(dashes + "x\n");
  ASSERT_TRUE(block.error);
  EXPECT_EQ(block.error->kind, util::ErrorKind::too_large);

  std::string keys;
  for (int i = 0; i < 300; ++i) {
    keys += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  }
  EXPECT_EQ(test::scan_all(keys).error->kind, util::ErrorKind::too_large);
  EXPECT_FALSE(test::scan_all(keys, Limits{.max_depth = 300}).error);
  EXPECT_TRUE(test::scan_all("[[x]]", Limits{.max_depth = 1}).error);
}

TEST(Limits, Nodes) {
  std::string items;
  for (int i = 0; i < 20; ++i) {
    items += "- " + std::to_string(i) + "\n";
  }
  const Limits limits{.max_nodes = 10};
  const auto scanned = test::scan_all(items, limits);
  ASSERT_TRUE(scanned.error);
  EXPECT_EQ(scanned.error->kind, util::ErrorKind::too_large);
  EXPECT_EQ(scanned.error->message, "line 10, column 3: more than 10 nodes in one document");
  // The bound is per document.
  EXPECT_FALSE(test::scan_all("[1, 2, 3]\n---\n[4, 5, 6]\n---\n[7]\n", limits).error);
  // Aliases cost one node each: no expansion.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x]\n";
  for (int i = 0; i < 8; ++i) {
    bomb += "b" + std::to_string(i) + ": &b" + std::to_string(i) + " [*a, *a, *a, *a]\n";
  }
  const auto aliases = test::scan_all(bomb);
  ASSERT_FALSE(aliases.error);
  EXPECT_LT(aliases.docs.at(0).nodes.size(), 100u);
}

TEST(Scanner, MemoryFollowsTheDocument) {
  std::string text = "big:\n";
  for (int i = 0; i < 1000; ++i) {
    text += "- " + std::to_string(i) + "\n";
  }
  text += "---\nsmall: 1\n";
  Scanner scanner(text);
  auto big = scanner.next();
  ASSERT_TRUE(big && *big);
  EXPECT_GT((*big)->nodes.size(), 1000u);
  auto small = scanner.next();
  ASSERT_TRUE(small && *small);
  EXPECT_EQ((*small)->nodes.size(), 3u);
  auto end = scanner.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

} // namespace
} // namespace common::yamlscan
