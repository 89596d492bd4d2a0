// Real-world streams: the Flux setters fixtures (../shared, skipped when absent) and the
// gen-manifests benchmark stream. Every scalar's text [begin, end), scanned alone, gives the same
// value: the property the manifest layer relies on when it patches a scalar in place.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/yamlscan/support.hpp"

namespace common::yamlscan {
namespace {

namespace fs = std::filesystem;

const char* const k_setters = IU_SOURCE_DIR "/../shared/conformance/flux-setters";
const char* const k_gen_manifests =
    IU_SOURCE_DIR "/../shared/reference/bench-peers/gen-manifests.sh";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool is_break(char c) {
  return c == '\n' || c == '\r';
}

// The text to scan alone for a scalar: its token; for a block scalar also the line break after
// it and the blank lines that follow (they hold its final line breaks).
std::string_view token_alone(std::string_view text, const Node& node) {
  std::size_t end = node.end;
  if (node.style == ScalarStyle::literal || node.style == ScalarStyle::folded) {
    for (;;) {
      std::size_t i = end;
      if (i < text.size() && text[i] == '\r') {
        ++i;
      }
      if (i < text.size() && text[i] == '\n') {
        ++i;
      }
      if (i == end) {
        break;
      }
      end = i;
      std::size_t j = end;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) {
        ++j;
      }
      if (j < text.size() && !is_break(text[j])) {
        break;
      }
      end = j;
    }
  }
  return text.substr(node.begin.offset, end - node.begin.offset);
}

// Checks the property over a whole stream; returns the number of scalars checked.
std::size_t check_stream(std::string_view text, const std::string& name) {
  const auto scanned = test::scan_all(text);
  EXPECT_FALSE(scanned.error) << name << ": " << scanned.error->message;
  std::size_t checked = 0;
  for (const auto& doc : scanned.docs) {
    if (doc.root == k_no_node) {
      continue;
    }
    test::for_each_node(doc, doc.root, [&](const Node& node) {
      EXPECT_LE(node.begin.offset, node.end) << name;
      EXPECT_LE(node.end, text.size()) << name;
      if (node.kind != NodeKind::scalar || node.begin.offset == node.end) {
        return;
      }
      const std::string_view header = text.substr(node.begin.offset, 3);
      if ((node.style == ScalarStyle::literal || node.style == ScalarStyle::folded) &&
          std::any_of(header.begin(), header.end(), [](char c) { return c >= '1' && c <= '9'; })) {
        return; // an indentation indicator is relative to the context
      }
      const std::string_view alone = token_alone(text, node);
      const auto again = test::scan_all(alone);
      ASSERT_FALSE(again.error) << name << ": " << alone << ": " << again.error->message;
      ASSERT_EQ(again.docs.size(), 1u) << name << ": " << alone;
      const Document& single = again.docs[0];
      ASSERT_NE(single.root, k_no_node) << name << ": " << alone;
      EXPECT_EQ(single.nodes[single.root].kind, NodeKind::scalar) << name << ": " << alone;
      EXPECT_EQ(single.nodes[single.root].style, node.style) << name << ": " << alone;
      EXPECT_EQ(single.nodes[single.root].value, node.value) << name << ": " << alone;
      ++checked;
    });
  }
  return checked;
}

std::vector<fs::path> setter_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(k_setters)) {
    const fs::path& path = entry.path();
    if (!entry.is_regular_file() || path.extension() == ".md") {
      continue; // test.yaml is a dangling symlink on purpose
    }
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(RoundTrip, FluxSetterFixtures) {
  if (!fs::is_directory(k_setters)) {
    GTEST_SKIP() << k_setters << " not found: conformance data is in ../shared (absent in a user "
                 << "checkout)";
  }
  std::size_t checked = 0;
  for (const auto& path : setter_files()) {
    checked += check_stream(read_file(path), path.string());
  }
  EXPECT_GT(checked, 100u);
}

// The markers of kustomization.yml are line comments of exactly the scalars Flux rewrites.
TEST(RoundTrip, FluxMarkersAreLineComments) {
  const fs::path file =
      fs::path(k_setters) / "internal/update/testdata/setters/original/kustomization.yml";
  if (!fs::exists(file)) {
    GTEST_SKIP() << file << " not found: conformance data is in ../shared";
  }
  const std::string text = read_file(file);
  const auto scanned = test::scan_all(text);
  ASSERT_FALSE(scanned.error) << scanned.error->message;
  std::vector<std::string> marked;
  for (const auto& node : scanned.docs.at(0).nodes) {
    if (node.line_comment && node.line_comment->find("$imagepolicy") != std::string::npos) {
      marked.push_back(node.value + " #" + *node.line_comment);
    }
  }
  const std::vector<std::string> expected = {
      "replaced # {\"$imagepolicy\": \"automation-ns:policy:name\"}",
      "v1 # {\"$imagepolicy\": \"automation-ns:policy:tag\"}",
      "sha256:1234567890abcdef # {\"$imagepolicy\": \"automation-ns:policy-with-digest:digest\"}",
      "image # {\"$imagepolicy\": \"automation-ns:policy-with-digest\"}"};
  EXPECT_EQ(marked, expected);
  // The head comment of "patches" and the literal block of the JSON6902 patch.
  const std::string tree = test::render(text);
  EXPECT_NE(tree.find("#^( Prove fix for https://github.com/fluxcd/flux2/issues/3284)p(patches)"),
            std::string::npos)
      << tree;
  EXPECT_NE(tree.find("p(patch): l(- op: replace\\n  path: /spec/template/spec/containers/0/"),
            std::string::npos)
      << tree;
}

TEST(RoundTrip, GeneratedManifests) {
  if (!fs::exists(k_gen_manifests)) {
    GTEST_SKIP() << k_gen_manifests << " not found: it is in ../shared (absent in a user checkout)";
  }
  test_support::TempDir dir;
  const auto run = test_support::run_process({"/bin/sh", k_gen_manifests, "30", dir.path()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string stream = read_file(fs::path(dir.path()) / "images/deployments.yaml");
  EXPECT_GT(check_stream(stream, "deployments.yaml"), 30u * 200);
  EXPECT_GT(check_stream(read_file(fs::path(dir.path()) / "images/kustomization.yaml"),
                         "kustomization.yaml"),
            10u);

  // Shape: 30 Deployments, 3 plain image fields each, and quoted annotations stay quoted.
  const auto scanned = test::scan_all(stream);
  ASSERT_EQ(scanned.docs.size(), 30u);
  std::size_t images = 0, quoted = 0;
  for (const auto& doc : scanned.docs) {
    EXPECT_TRUE(doc.explicit_start);
    for (std::size_t i = 0; i < doc.nodes.size(); ++i) {
      const Node& node = doc.nodes[i];
      if (node.kind != NodeKind::mapping) {
        continue;
      }
      for (std::size_t k = 0; k + 1 < node.children.size(); k += 2) {
        const Node& key = doc.nodes[node.children[k]];
        const Node& value = doc.nodes[node.children[k + 1]];
        if (key.value == "image") {
          ++images;
          EXPECT_EQ(value.style, ScalarStyle::plain);
          EXPECT_EQ(stream.substr(value.begin.offset, value.end - value.begin.offset), value.value);
        }
        if (key.value == "prometheus.io/scrape") {
          ++quoted;
          EXPECT_EQ(value.style, ScalarStyle::double_quoted);
          EXPECT_EQ(value.value, "true");
        }
      }
    }
  }
  EXPECT_EQ(images, 90u);
  EXPECT_EQ(quoted, 30u);
}

} // namespace
} // namespace common::yamlscan
