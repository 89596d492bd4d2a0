// The bounded YAML tree under the reader: locations, nulls, aliases, merge keys and bounds.
#include <gtest/gtest.h>

#include "common/spec/yaml_tree.hpp"

namespace {

using namespace common::spec::detail;
using common::spec::Location;

const TreeLimits k_limits{1 << 20, 1 << 16, 100, 10'000, 50};

std::vector<Document> read_all(std::string_view text, std::vector<TreeError>* errors = nullptr,
                               const TreeLimits& limits = k_limits,
                               std::function<bool(std::string_view)> wanted = nullptr) {
  std::vector<Document> docs;
  std::vector<TreeError> found;
  read_documents(text, limits,
                 {std::move(wanted), [&](const Document& d) { docs.push_back(d); },
                  [&](const TreeError& e) { found.push_back(e); }});
  if (errors != nullptr) {
    *errors = found;
  } else {
    EXPECT_TRUE(found.empty()) << found[0].message;
  }
  return docs;
}

// The value of `key` in the root mapping.
const Node* value_of(const Document& d, std::string_view key) {
  const Node& root = d.node(d.root);
  for (std::size_t i = 0; i + 1 < root.children.size(); i += 2) {
    if (d.node(root.children[i]).text == key) {
      return &d.node(root.children[i + 1]);
    }
  }
  return nullptr;
}

TEST(YamlTree, LocationsAreOneBased) {
  auto docs = read_all("a: 1\nb:\n  - x\n  - 'y'\n");
  ASSERT_EQ(docs.size(), 1u);
  const Document& d = docs[0];
  EXPECT_EQ(d.node(d.root).at, (Location{1, 1}));
  EXPECT_EQ(value_of(d, "a")->at, (Location{1, 4}));
  const Node* b = value_of(d, "b");
  ASSERT_EQ(b->kind, NodeKind::sequence);
  EXPECT_EQ(b->at, (Location{3, 3}));
  EXPECT_EQ(d.node(b->children[1]).at, (Location{4, 5}));
  EXPECT_EQ(d.node(b->children[1]).tag, "!");
  EXPECT_EQ(d.node(b->children[0]).tag, "?");
}

TEST(YamlTree, Nulls) {
  auto docs = read_all("a:\nb: ~\nc: null\nd: \"\"\ne: ''\nf: !!null x\n");
  const Document& d = docs[0];
  EXPECT_EQ(value_of(d, "a")->kind, NodeKind::null);
  EXPECT_TRUE(value_of(d, "a")->implicit);
  EXPECT_EQ(value_of(d, "b")->kind, NodeKind::null);
  EXPECT_FALSE(value_of(d, "b")->implicit);
  EXPECT_EQ(value_of(d, "c")->kind, NodeKind::null);
  EXPECT_FALSE(value_of(d, "c")->implicit);
  EXPECT_EQ(value_of(d, "d")->kind, NodeKind::scalar); // quoted: a string
  EXPECT_EQ(value_of(d, "e")->kind, NodeKind::scalar);
  EXPECT_EQ(value_of(d, "f")->kind, NodeKind::null);
}

TEST(YamlTree, DocumentsAndIndexes) {
  auto docs = read_all("a: 1\n---\n---\nb: 2\n...\n--- [x]\n");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[1].node(docs[1].root).kind, NodeKind::null);
  EXPECT_EQ(docs[2].index, 2u);
  EXPECT_EQ(docs[3].node(docs[3].root).kind, NodeKind::sequence);
  EXPECT_TRUE(read_all("").empty());
  EXPECT_TRUE(read_all("# only a comment\n").empty());
}

TEST(YamlTree, AliasesShareTheNode) {
  auto docs = read_all("a: &x {k: v}\nb: *x\n");
  const Document& d = docs[0];
  EXPECT_EQ(value_of(d, "a"), value_of(d, "b"));
  EXPECT_EQ(d.nodes.size(), 6u); // root, a, {k: v}, k, v, b: the alias adds no node
}

TEST(YamlTree, RecursiveAliasIsAnError) {
  std::vector<TreeError> errors;
  read_all("a: &x [1, *x]\n", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("alias refers to a collection that contains it"),
            std::string::npos);
  EXPECT_EQ(errors[0].at, (Location{1, 11}));
}

TEST(YamlTree, MergeKeys) {
  auto docs = read_all("base: &b {x: 1, y: 2}\n"
                       "more: &m {z: 3}\n"
                       "one: {<<: *b, y: 9}\n"
                       "two: {<<: [*m, *b], x: 7}\n"
                       "odd: {<<: 5}\n");
  const Document& d = docs[0];
  auto pairs = [&](const Node* n) {
    std::string out;
    for (std::size_t i = 0; i + 1 < n->children.size(); i += 2) {
      out += d.node(n->children[i]).text + "=" + d.node(n->children[i + 1]).text + " ";
    }
    return out;
  };
  EXPECT_EQ(pairs(value_of(d, "one")), "y=9 x=1 ");
  EXPECT_EQ(pairs(value_of(d, "two")), "x=7 z=3 y=2 ");
  EXPECT_EQ(pairs(value_of(d, "odd")), "<<=5 "); // not mergeable: left for the reader
}

TEST(YamlTree, SyntaxErrorEndsOnlyItsDocument) {
  std::vector<TreeError> errors;
  auto docs = read_all("ok: 1\n---\nkind: [\n---\nnext: 2\n", &errors);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1].index, 2u);
  EXPECT_EQ(docs[1].node(docs[1].root).at, (Location{5, 1}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].document, 1u);
  EXPECT_FALSE(errors[0].fatal);
  EXPECT_TRUE(errors[0].message.starts_with("invalid YAML: ")) << errors[0].message;
  EXPECT_EQ(errors[0].at.line, 4);
}

TEST(YamlTree, UndefinedAlias) {
  std::vector<TreeError> errors;
  read_all("a: *nope\n", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at, (Location{1, 4}));
  EXPECT_NE(errors[0].message.find("anchor"), std::string::npos);
}

TEST(YamlTree, InputsThatHangYamlCpp) {
  // yaml-cpp 0.7 returns the same empty document forever for these (jbeder/yaml-cpp#1040).
  const char* cases[] = {",",  ",- b",          "# c\n,- b", "- a\n,-", ",[",
                         ",:", "a: 1\n---\n,-", " ,-",       "}"};
  for (const char* text : cases) {
    std::vector<TreeError> errors;
    read_all(text, &errors);
    ASSERT_EQ(errors.size(), 1u) << text;
    EXPECT_TRUE(errors[0].message.starts_with("invalid YAML: ")) << errors[0].message;
  }
}

TEST(YamlTree, SplittingAtDocumentMarkers) {
  struct Case {
    std::string text;
    std::vector<int> root_lines; // of each document, 1-based
  };
  const Case cases[] = {
      {"a: 1\n---\nb: 2\n", {1, 3}},
      {"# comment\n\n%YAML 1.2\n---\na: 1\n", {5}},
      {"--- # first\na: 1\n...\n# between\n---\nb: 2\n", {2, 6}},
      {"a: 1\n...\nb: 2\n", {1, 3}},
      {"a: |\n  ---\n  text\nb: 1\n", {1}}, // indented: content, not a marker
      {"a: |\n ---x\n---x\n", {1}},         // "---x" is no marker
      {"\xEF\xBB\xBF---\na: 1\n---\nb: 1\n", {2, 4}},
      {"a: 1\r\n---\r\nb: 1\r\n", {1, 3}},
      {"---", {1}},
  };
  for (const auto& c : cases) {
    std::vector<TreeError> errors;
    auto docs = read_all(c.text, &errors);
    std::vector<int> lines;
    for (const auto& d : docs) {
      lines.push_back(d.node(d.root).at.line);
    }
    if (c.root_lines.empty()) {
      EXPECT_EQ(errors.size(), 1u) << c.text;
      continue;
    }
    EXPECT_TRUE(errors.empty()) << c.text << errors[0].message;
    EXPECT_EQ(lines, c.root_lines) << c.text;
  }
}

TEST(YamlTree, UnwantedDocumentsAreNotParsedButCounted) {
  std::vector<TreeError> errors;
  auto docs = read_all("skip: [\n---\nwant: 1\n---\nskip: 2\n---\nwant: 3\n", &errors, k_limits,
                       [](std::string_view text) { return text.find("want") != text.npos; });
  EXPECT_TRUE(errors.empty()); // the broken first document was never parsed
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].index, 1u);
  EXPECT_EQ(docs[1].index, 3u);
  EXPECT_EQ(docs[1].node(docs[1].root).at, (Location{7, 1}));
}

TEST(YamlTree, Bounds) {
  struct Case {
    std::string text;
    std::string message;
    bool fatal;
  };
  const Case cases[] = {
      {std::string(60, '[') + std::string(60, ']'), "more than 50 nested collections", false},
      {std::string(30'000, '[') + std::string(30'000, ']'), "more than 50 nested collections",
       false},
      {"a: [" +
           [] {
             std::string s;
             for (int i = 0; i < 10'001; ++i) {
               s += "1,";
             }
             return s;
           }() +
           "]",
       "more than 10000 nodes", false},
      {[] {
         std::string s;
         for (int i = 0; i < 101; ++i) {
           s += "---\na: 1\n";
         }
         return s;
       }(),
       "more than 100 documents", true},
      {std::string((1 << 16) + 1, '['), "document is 65537 bytes, more than the 65536 allowed",
       false},
      {std::string((1 << 20) + 1, ' '), "more than the 1048576 allowed", true},
  };
  for (const auto& c : cases) {
    std::vector<TreeError> errors;
    read_all(c.text, &errors);
    ASSERT_EQ(errors.size(), 1u) << c.message;
    EXPECT_NE(errors[0].message.find(c.message), std::string::npos) << errors[0].message;
    EXPECT_EQ(errors[0].fatal, c.fatal) << c.message;
  }
}

TEST(YamlTree, AliasBombStaysSmall) {
  // The "billion laughs": nine levels of ten aliases each. Expanded that is 10^9 scalars.
  std::string text = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) {
      text += (i ? ",*" : "*") + prev;
    }
    text += "]\n";
  }
  auto docs = read_all(text);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_LT(docs[0].nodes.size(), 50u);
}

TEST(YamlTree, MergeBombIsBounded) {
  // Each map merges the previous one: without a bound the copies grow quadratically.
  std::string text = "m0: &m0 {";
  for (int i = 0; i < 200; ++i) {
    text += (i ? ", k" : "k") + std::to_string(i) + ": v";
  }
  text += "}\n";
  for (int i = 1; i < 200; ++i) {
    text += "m" + std::to_string(i) + ": &m" + std::to_string(i) + " {<<: *m" +
            std::to_string(i - 1) + ", x" + std::to_string(i) + ": v}\n";
  }
  std::vector<TreeError> errors;
  read_all(text, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("more than 10000 nodes"), std::string::npos)
      << errors[0].message;
}

} // namespace
