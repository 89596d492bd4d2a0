// needs_quotes() and encode_scalar(), including the round trip: scanning what encode_scalar()
// writes gives the value back, in every style and in block and flow positions.
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/yamlscan/support.hpp"

namespace common::yamlscan {
namespace {

const std::string_view k_non_strings[] = {
    // null and booleans (YAML 1.1 and 1.2, any letter case)
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nUlL",
    "true",
    "True",
    "TRUE",
    "tRuE",
    "false",
    "FALSE",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    // ints
    "0",
    "1",
    "-1",
    "+1",
    "42",
    "0755",
    "08",
    "-017",
    "0x1F",
    "0X1f",
    "0x_FF",
    "0o17",
    "0O17",
    "0b1010",
    "-0b1",
    "1_000",
    "1:20",
    "190:20:30",
    "-1:20",
    // floats
    "1.10",
    "1.0",
    "1.",
    ".5",
    "-.5",
    "1e3",
    "1E+3",
    "1.5e-3",
    "-1.5",
    "+1.5",
    "1_0.5",
    "1:20.5",
    ".inf",
    ".Inf",
    ".INF",
    "-.inf",
    "+.inf",
    ".nan",
    ".NaN",
    ".NAN",
    // YAML 1.1 merge and value keys
    "<<",
    "=",
};

const std::string_view k_not_plain[] = {
    " a",
    "a ",
    "\ta",
    "a\t",
    "a: b",
    "a:",
    "a:\tb",
    "a #b",
    "a\t#b",
    "#a",
    "-",
    "- a",
    "-\ta",
    "?",
    "? a",
    ":",
    ": a",
    "&a",
    "*a",
    "!a",
    "|",
    ">",
    "'a",
    "\"a",
    "%a",
    "@a",
    "`a",
    "[a",
    "]a",
    "{a",
    "}",
    ",a",
    "a,b",
    "a[0]",
    "a{b}",
    "a]",
    "---",
    "--- a",
    "...",
    "...a",
    "a\nb",
    "a\rb",
    "a\x01"
    "b",
    "a\x7f"
    "b",
    "a\xc2\x85"
    "b",
    "a\xe2\x80\xa8"
    "b",
    "\xef\xbb\xbf"
    "a",
};

const std::string_view k_plain_strings[] = {"a",
                                            "nginx",
                                            "nginx:1.25",
                                            "ghcr.io/acme/svc-1:1.1.0",
                                            "registry.k8s.io/x:v1.9.4",
                                            "127.0.0.1:5000/tools/busybox:1.36",
                                            "img@sha256:5d2c7a9a",
                                            "v1",
                                            "v1.0.1",
                                            "1.2.3",
                                            "1.2.3-rc.1",
                                            "2024.01.15",
                                            "sha256:abc",
                                            "a b",
                                            "a#b",
                                            "a:b",
                                            "-a",
                                            "--port=8080",
                                            "?a",
                                            ":a",
                                            "a-",
                                            "a?",
                                            "a!",
                                            "yes-please",
                                            "truex",
                                            "nullable",
                                            "Nope",
                                            "0x",
                                            "0xg",
                                            "0b2",
                                            "1e",
                                            "1.2.3.4",
                                            "1:60",
                                            "1:2:3x",
                                            "_",
                                            "a\tb",
                                            "infinity",
                                            ".info",
                                            "1-2",
                                            "2001-12-14",
                                            "\xc3\xa9",
                                            "a'b",
                                            "a\"b",
                                            "a&b",
                                            "a*b",
                                            "a|b",
                                            "a>b",
                                            "a%b",
                                            "a@b",
                                            "http://x/?a=1#f",
                                            "--",
                                            "-.",
                                            "+",
                                            "\xff"};

TEST(NeedsQuotes, NonStrings) {
  for (const auto v : k_non_strings) {
    EXPECT_TRUE(needs_quotes(v)) << "'" << v << "'";
  }
}

TEST(NeedsQuotes, NotWritablePlain) {
  for (const auto v : k_not_plain) {
    EXPECT_TRUE(needs_quotes(v)) << "'" << test::escape(v) << "'";
  }
}

TEST(NeedsQuotes, PlainStrings) {
  for (const auto v : k_plain_strings) {
    EXPECT_FALSE(needs_quotes(v)) << "'" << v << "'";
  }
}

struct EncodeCase {
  std::string_view value;
  ScalarStyle style;
  std::string_view encoded;
};

const EncodeCase k_encode[] = {
    {"nginx:1.25", ScalarStyle::plain, "nginx:1.25"},
    {"1.10", ScalarStyle::plain, "\"1.10\""},
    {"yes", ScalarStyle::plain, "\"yes\""},
    {"", ScalarStyle::plain, "\"\""},
    {"a: b", ScalarStyle::plain, "\"a: b\""},
    {"1.10", ScalarStyle::single_quoted, "'1.10'"},
    {"it's", ScalarStyle::single_quoted, "'it''s'"},
    {" x ", ScalarStyle::single_quoted, "' x '"},
    {"a\nb", ScalarStyle::single_quoted, "\"a\\nb\""},
    {"v1", ScalarStyle::double_quoted, "\"v1\""},
    {"a\"b\\c", ScalarStyle::double_quoted, "\"a\\\"b\\\\c\""},
    {"tab\there\r\n", ScalarStyle::double_quoted, "\"tab\\there\\r\\n\""},
    {"\x01\x1b\x7f", ScalarStyle::double_quoted, "\"\\x01\\e\\x7f\""},
    {"\xc2\x85\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf", ScalarStyle::double_quoted,
     "\"\\N\\L\\P\\ufeff\""},
    {"\xc3\xa9", ScalarStyle::double_quoted, "\"\xc3\xa9\""},
    {"x\n", ScalarStyle::literal, "\"x\\n\""},
    {"x", ScalarStyle::folded, "\"x\""},
};

TEST(EncodeScalar, Table) {
  for (const auto& c : k_encode) {
    EXPECT_EQ(encode_scalar(c.value, c.style), c.encoded) << test::escape(c.value);
  }
}

// The value read for `encoded` written at the "%" of `context` (the last scalar there).
std::string read_back(std::string_view context, const std::string& encoded) {
  std::string text(context);
  text.replace(text.find('%'), 1, encoded);
  const auto scanned = test::scan_all(text);
  if (scanned.error) {
    return "ERROR " + scanned.error->message;
  }
  if (scanned.docs.size() != 1 || scanned.docs[0].root == k_no_node) {
    return "NO DOCUMENT";
  }
  const Document& doc = scanned.docs[0];
  NodeId id = doc.root;
  // Descend to the only scalar: the value of "k", the item of "- " or "[...]".
  while (doc.nodes[id].kind != NodeKind::scalar) {
    const auto& children = doc.nodes[id].children;
    if (children.empty()) {
      return "NO SCALAR";
    }
    id = children.back();
  }
  return doc.nodes[id].value;
}

std::vector<std::string> sample_values() {
  static constexpr std::string_view k_pieces[] = {"a",        "b",
                                                  " ",        "\t",
                                                  ":",        "#",
                                                  "-",        "?",
                                                  ",",        "[",
                                                  "]",        "{",
                                                  "}",        "'",
                                                  "\"",       "\\",
                                                  "\n",       "\r",
                                                  "\x01",     "\x7f",
                                                  "\xc3\xa9", "\xe2\x80\xa8",
                                                  "\xc2\x85", "\xff",
                                                  "true",     "1",
                                                  "0x",       ".",
                                                  "e",        "~",
                                                  "null",     "&",
                                                  "*",        "!",
                                                  "|",        ">",
                                                  "%",        "@",
                                                  "`",        "---",
                                                  "...",      "<<",
                                                  "=",        "  ",
                                                  "\n\n",     ": ",
                                                  " #",       "1.10",
                                                  "yes"};
  std::mt19937 rng(20240501);
  std::uniform_int_distribution<std::size_t> piece(0, std::size(k_pieces) - 1);
  std::uniform_int_distribution<int> length(0, 7);
  std::vector<std::string> values;
  for (const auto v : k_non_strings) {
    values.emplace_back(v);
  }
  for (const auto v : k_not_plain) {
    values.emplace_back(v);
  }
  for (const auto v : k_plain_strings) {
    values.emplace_back(v);
  }
  for (int i = 0; i < 3000; ++i) {
    std::string v;
    for (int n = length(rng); n > 0; --n) {
      v += k_pieces[piece(rng)];
    }
    values.push_back(std::move(v));
  }
  return values;
}

TEST(EncodeScalar, RoundTrips) {
  static constexpr ScalarStyle k_styles[] = {ScalarStyle::plain, ScalarStyle::single_quoted,
                                             ScalarStyle::double_quoted, ScalarStyle::literal,
                                             ScalarStyle::folded};
  static constexpr std::string_view k_contexts[] = {
      "k: %\n",          "%", "- %\n", "a:\n  - x\n  - z: 1\n    k: %\n", "[%]\n", "{z: 1, k: %}\n",
      "k: % # comment\n"};
  int failures = 0;
  for (const auto& value : sample_values()) {
    for (const auto style : k_styles) {
      const std::string encoded = encode_scalar(value, style);
      for (const auto context : k_contexts) {
        const std::string back = read_back(context, encoded);
        if (back != value && ++failures <= 20) {
          ADD_FAILURE() << "value '" << test::escape(value) << "' style " << static_cast<int>(style)
                        << " encoded " << test::escape(encoded) << " in '" << test::escape(context)
                        << "' reads '" << test::escape(back) << "'";
        }
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

} // namespace
} // namespace common::yamlscan
