// Structure, values, styles, properties and comments of scanned documents (render() in
// support.hpp gives the notation).
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/yamlscan/support.hpp"

namespace common::yamlscan {
namespace {

struct Case {
  std::string_view name;
  std::string_view yaml;
  std::string_view tree;
};

const Case k_block[] = {
    {"mapping", "a: b\nc: d\n", "{p(a): p(b), p(c): p(d)}"},
    {"nested mapping", "a:\n  b: c\n  d:\n    e: f\ng: h\n",
     "{p(a): {p(b): p(c), p(d): {p(e): p(f)}}, p(g): p(h)}"},
    {"sequence", "- a\n- b\n", "[p(a), p(b)]"},
    {"sequence indented under key", "k:\n  - a\n  - b\nz: 1\n", "{p(k): [p(a), p(b)], p(z): p(1)}"},
    {"compact sequence at the key's column", "k:\n- a\n- b\nz: 1\n",
     "{p(k): [p(a), p(b)], p(z): p(1)}"},
    {"mapping in sequence", "- name: c\n  image: i\n- name: d\n",
     "[{p(name): p(c), p(image): p(i)}, {p(name): p(d)}]"},
    {"mapping in sequence, wider", "-   a: 1\n    b: 2\n", "[{p(a): p(1), p(b): p(2)}]"},
    {"nested sequences", "- - a\n  - b\n- - c\n", "[[p(a), p(b)], [p(c)]]"},
    {"sequence of mapping with compact sequence", "- k:\n  - a\n  l: b\n",
     "[{p(k): [p(a)], p(l): p(b)}]"},
    {"empty values", "a:\nb:   \nc: # c\nd:\n",
     "{p(a): p(), p(b): p(), p(c) #( c): p(), p(d): p()}"},
    {"empty sequence items", "-\n- a\n-\n", "[p(), p(a), p()]"},
    {"item on the next line", "-\n  a: b\n", "[{p(a): p(b)}]"},
    {"value on the next line", "a:\n  text\nb:\n  [x]\n", "{p(a): p(text), p(b): f[p(x)]}"},
    {"explicit keys", "? a\n: b\n? [c]\n: d\n? e\nf: g\n",
     "{p(a): p(b), f[p(c)]: p(d), p(e): p(), p(f): p(g)}"},
    {"explicit key with block collections", "? - a\n  - b\n: - c\n", "{[p(a), p(b)]: [p(c)]}"},
    {"explicit entry in a sequence", "- ? a\n  : b\n", "[{p(a): p(b)}]"},
    {"quoted keys", "\"a b\": 1\n'c': 2\n", "{d(a b): p(1), s(c): p(2)}"},
    {"flow key", "[a, b]: c\n", "{f[p(a), p(b)]: p(c)}"},
    {"alias key", "x: &a k\n*a : v\n", "{p(x): &a p(k), *a: p(v)}"},
    {"merge key", "b: &base\n  x: 1\nc:\n  <<: *base\n  y: 2\n",
     "{p(b): &base {p(x): p(1)}, p(c): {p(<<): *base, p(y): p(2)}}"},
    {"empty key", ": v\n", "{p(): p(v)}"},
    {"tagged empty key", "!t : v\n", "{!t p(): p(v)}"},
    {"deep indentation steps", "a:\n     b:\n        - c\n", "{p(a): {p(b): [p(c)]}}"},
    {"root at an indentation", "  a: 1\n  b: 2\n", "{p(a): p(1), p(b): p(2)}"},
    {"document is a scalar", "just text\n", "p(just text)"},
    {"document is a quoted scalar", "\"x\"\n", "d(x)"},
};

const Case k_scalars[] = {
    {"plain with indicators inside", "a: b:c d#e -f ?g :h\n", "{p(a): p(b:c d#e -f ?g :h)}"},
    {"plain url and image", "u: http://x.io:80/p?q=1#f\ni: ghcr.io/a/b:1.2@sha256:00\n",
     "{p(u): p(http://x.io:80/p?q=1#f), p(i): p(ghcr.io/a/b:1.2@sha256:00)}"},
    {"plain trailing blanks", "a: b  \t\n", "{p(a): p(b)}"},
    {"plain multi-line", "a: one\n  two\n\n  three\n\n\n  four\nb: x\n",
     "{p(a): p(one two\\nthree\\n\\nfour), p(b): p(x)}"},
    {"plain multi-line in sequence", "- a\n  b\n- c\n", "[p(a b), p(c)]"},
    {"plain multi-line root", "a\nb\n\nc\n", "p(a b\\nc)"},
    {"plain ends at comment line", "a: b\n  # c\n  \nd: e\n", "{p(a): p(b), p(d): p(e)}"},
    {"plain continuation with a dash", "a: x\n  - y\n", "{p(a): p(x - y)}"},
    {"plain continuation with tab after indentation", "a: x\n  \ty\n", "{p(a): p(x y)}"},
    {"single quoted", "a: 'it''s # not a comment'\n", "{p(a): s(it's # not a comment)}"},
    {"single quoted folding", "a: 'x  \n   y\n\n  z '\n", "{p(a): s(x y\\nz )}"},
    {"single quoted empty", "a: ''\n", "{p(a): s()}"},
    {"double quoted escapes", "a: \"\\a\\b\\t\\\t\\n\\v\\f\\r\\e\\ \\\"\\/\\\\\"\n",
     "{p(a): d(\a\b\\t\\t\\n\v\f\\r\x1b \"/\\\\)}"},
    {"double quoted unicode escapes", "a: \"\\x41\\xe9\\u00e9\\u20ac\\U0001F600\\N\\_\\L\\P\"\n",
     "{p(a): "
     "d(A\xc3\xa9\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc2\x85\xc2\xa0\xe2\x80\xa8\xe2\x80\xa9)}"},
    {"double quoted folding", "a: \"x  \n   y\n\n  z \"\n", "{p(a): d(x y\\nz )}"},
    {"double quoted escaped line break", "a: \"x\\\n   y\\\n\n z\"\n", "{p(a): d(xy\\nz)}"},
    {"double quoted escaped blank kept", "a: \"x\\t \n y\"\n", "{p(a): d(x\\t y)}"},
    {"literal", "a: |\n  l1\n    l2\n\n  l3\nb: x\n",
     "{p(a): l(l1\\n  l2\\n\\nl3\\n), p(b): p(x)}"},
    {"literal strip", "a: |-\n  x\n\n", "{p(a): l(x)}"},
    {"literal keep", "a: |+\n  x\n\n\nb: c\n", "{p(a): l(x\\n\\n\\n), p(b): p(c)}"},
    {"literal keep at end of input", "a: |+\n  x", "{p(a): l(x)}"},
    {"literal clip without final break", "a: |\n  x", "{p(a): l(x)}"},
    {"literal indentation indicator", "a: |2\n    x\n   y\n", "{p(a): l(  x\\n y\\n)}"},
    {"literal indicators in either order", "a: |-1\n  x\nb: |1-\n  y\n",
     "{p(a): l( x), p(b): l( y)}"},
    {"literal leading empty lines", "a: |\n\n  \n  x\n", "{p(a): l(\\n\\nx\\n)}"},
    {"literal with comment-like line", "a: |\n  # not a comment\n  x\n",
     "{p(a): l(# not a comment\\nx\\n)}"},
    {"literal whitespace-only line beyond indentation", "a: |\n  x\n    \n  y\n",
     "{p(a): l(x\\n  \\ny\\n)}"},
    {"literal empty", "a: |\nb: c\n", "{p(a): l(), p(b): p(c)}"},
    {"literal empty keep", "a: |+\n\n\nb: c\n", "{p(a): l(\\n\\n), p(b): p(c)}"},
    {"folded", "a: >\n  one\n  two\n\n  three\n", "{p(a): f(one two\\nthree\\n)}"},
    {"folded more indented", "a: >\n  x\n    more\n  y\n\n   z\n",
     "{p(a): f(x\\n  more\\ny\\n\\n z\\n)}"},
    {"folded strip", "a: >-\n  x\n  y\n", "{p(a): f(x y)}"},
    {"folded leading empty line", "a: >\n\n  x\n", "{p(a): f(\\nx\\n)}"},
    {"block scalar in sequence", "- |\n  x\n- >-\n  y\n  z\n", "[l(x\\n), f(y z)]"},
    {"block scalar at root", "--- |\n  x\n", "l(x\\n)"},
    {"block scalar in compact mapping", "- k: |\n    x\n  l: y\n", "[{p(k): l(x\\n), p(l): p(y)}]"},
};

const Case k_flow[] = {
    {"flow sequence", "a: [1, b, \"c\", 'd']\n", "{p(a): f[p(1), p(b), d(c), s(d)]}"},
    {"flow mapping", "a: {x: 1, y: [2, 3]}\n", "{p(a): f{p(x): p(1), p(y): f[p(2), p(3)]}}"},
    {"nested flow", "[[[]], {}, [{}]]\n", "f[f[f[]], f{}, f[f{}]]"},
    {"trailing comma", "[a, b,]\n", "f[p(a), p(b)]"},
    {"flow over lines with comments", "a: [\n  x, # c\n  # h\n  y\n]\n",
     "{p(a): f[p(x), #^( h)p(y)]}"},
    {"flow plain over lines", "[a\n  b, c]\n", "f[p(a b), p(c)]"},
    {"flow mapping without values", "{a, b: , c}\n", "f{p(a): p(), p(b): p(), p(c): p()}"},
    {"flow explicit key", "{? a : b, ? c}\n", "f{p(a): p(b), p(c): p()}"},
    {"single pair in sequence", "[a: b, c]\n", "f[f{p(a): p(b)}, p(c)]"},
    {"json", "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":\"e\"}}\n",
     "f{d(a): p(1), d(b): f[p(true), p(null), d(x)], d(c): f{d(d): d(e)}}"},
    {"json pretty", "{\n  \"a\": [\n    1,\n    2\n  ],\n\t\"b\": {}\n}\n",
     "f{d(a): f[p(1), p(2)], d(b): f{}}"},
    {"flow plain with colons", "[a:b, http://x, c: d]\n", "f[p(a:b), p(http://x), f{p(c): p(d)}]"},
    {"flow dash", "{a: -, b: [-1]}\n", "f{p(a): p(-), p(b): f[p(-1)]}"},
    {"flow with properties", "[&a x, !t y, &b , *a]\n", "f[&a p(x), !t p(y), &b p(), *a]"},
    {"helm braces are flow mappings", "a: {{ .Values.x }}\n",
     "{p(a): f{f{p(.Values.x): p()}: p()}}"},
};

const Case k_properties[] = {
    {"anchor and tag on scalar", "a: &x !!str 1\nb: *x\n", "{p(a): !!str &x p(1), p(b): *x}"},
    {"tag first", "a: !!int &y 2\n", "{p(a): !!int &y p(2)}"},
    {"properties of a mapping on their own line", "a: &m\n  b: c\n", "{p(a): &m {p(b): p(c)}}"},
    {"properties of a sequence", "a: !seq\n- x\n", "{p(a): !seq [p(x)]}"},
    {"properties of the first key", "- &k a: b\n  c: d\n", "[{&k p(a): p(b), p(c): p(d)}]"},
    {"mapping and key properties", "x: &m\n  &k a: b\n", "{p(x): &m {&k p(a): p(b)}}"},
    {"properties over two lines", "--- !!str\n  &m a:b\n", "!!str &m p(a:b)"},
    {"properties over three lines", "x: !t\n  &a\n  - y\n", "{p(x): !t &a [p(y)]}"},
    {"verbatim tag", "a: !<tag:yaml.org,2002:str> x\n", "{p(a): !<tag:yaml.org,2002:str> p(x)}"},
    {"non-specific tag", "a: ! x\n", "{p(a): ! p(x)}"},
    {"properties of an empty value", "a: &e\nb: !!null\n", "{p(a): &e p(), p(b): !!null p()}"},
    {"tagged block scalar", "a: !!binary |\n  R0lG\n", "{p(a): !!binary l(R0lG\\n)}"},
    {"anchored flow", "a: &f [1]\nb: *f\n", "{p(a): &f f[p(1)], p(b): *f}"},
    {"aliases are not expanded", "a: &a [x]\nb: [*a, *a, *a]\n",
     "{p(a): &a f[p(x)], p(b): f[*a, *a, *a]}"},
    {"anchor redefined", "a: &x 1\nb: &x 2\nc: *x\n", "{p(a): &x p(1), p(b): &x p(2), p(c): *x}"},
};

const Case k_comments[] = {
    {"line comment on value", "image: a:1 # c\n", "{p(image): p(a:1) #( c)}"},
    {"line comment on quoted and alias", "a: \"x\" #q\nb: &n y\nc: *n   # al \n",
     "{p(a): d(x) #(q), p(b): &n p(y), p(c): *n #( al )}"},
    {"flux marker", "image: img:v1 # {\"$imagepolicy\": \"ns:p\"}\n",
     "{p(image): p(img:v1) #( {\"$imagepolicy\": \"ns:p\"})}"},
    {"key gets comment of an empty-line value", "spec: # c\n  a: b\n",
     "{p(spec) #( c): {p(a): p(b)}}"},
    {"key gets comment after properties", "spec: &s # c\n  a: b\n",
     "{p(spec) #( c): &s {p(a): p(b)}}"},
    {"head comments on key", "# one\n#two\nkey: v\n", "{#^( one|two)p(key): p(v)}"},
    {"blank line drops comments", "# gone\n\n# kept\na: b\n", "{#^( kept)p(a): p(b)}"},
    {"head comment on item", "- a\n# c\n- b\n", "[p(a), #^( c)p(b)]"},
    {"head comment on item key", "-  x\n  # c\n- name: n\n", "[p(x), {#^( c)p(name): p(n)}]"},
    {"indented head comments", "a:\n  # c1\n    # c2\n  b: c\n", "{p(a): {#^( c1| c2)p(b): p(c)}}"},
    {"comments above --- belong to nothing", "# c\n--- a\n", "p(a)"},
    {"comment after ---", "--- # c\n# h\nk: v\n", "{#^( h)p(k): p(v)}"},
    {"block scalar header comment", "a: | # c\n  x\n", "{p(a): l(x\\n) #( c)}"},
    {"comment after flow collection is attached to nothing", "a: [x] # c\n", "{p(a): f[p(x)]}"},
    {"comment after dash is attached to nothing", "- # c\n  a: b\n", "[{p(a): p(b)}]"},
    {"comment inside flow after scalar", "[x # c\n, y]\n", "f[p(x) #( c), p(y)]"},
    {"multi-line plain comment at end", "a: x\n  y # c\n", "{p(a): p(x y) #( c)}"},
    {"hash without blank is content", "a: x#y\n", "{p(a): p(x#y)}"},
    {"non-ascii comment", "spec: # \xec\xbb\xa8\n  a: b\n",
     "{p(spec) #( \xec\xbb\xa8): {p(a): p(b)}}"},
    {"comment with crlf", "a: b # c\r\n", "{p(a): p(b) #( c)}"},
};

const Case k_documents[] = {
    {"two documents", "a: 1\n---\nb: 2\n", "{p(a): p(1)} | {p(b): p(2)}"},
    {"explicit documents", "---\na: 1\n---\nb: 2\n", "{p(a): p(1)} | {p(b): p(2)}"},
    {"document end", "a: 1\n...\n---\nb: 2\n...\n", "{p(a): p(1)} | {p(b): p(2)}"},
    {"bare document after end", "a: 1\n...\nb: 2\n", "{p(a): p(1)} | {p(b): p(2)}"},
    {"empty documents", "---\n---\n--- a\n---\n", "~ | ~ | p(a) | ~"},
    {"values on the --- line", "--- a\n--- \"b\"\n--- [c]\n--- >\n d\n",
     "p(a) | d(b) | f[p(c)] | f(d\\n)"},
    {"directives", "%YAML 1.2\n%TAG ! tag:x,2000:\n--- !foo\na: 1\n", "!foo {p(a): p(1)}"},
    {"only comments", "# a\n\n# b\n", ""},
    {"empty stream", "", ""},
    {"stray document end", "...\n...\n", ""},
    {"bom",
     "\xef\xbb\xbf"
     "a: b\n",
     "{p(a): p(b)}"},
    {"crlf", "a: b\r\nc:\r\n  - d\r\n  - |\r\n    x\r\n    y\r\ne: \"p\r\n  q\"\r\n",
     "{p(a): p(b), p(c): [p(d), l(x\\ny\\n)], p(e): d(p q)}"},
    {"lone cr", "a: b\rc: d\r", "{p(a): p(b), p(c): p(d)}"},
    {"no final line break", "a: b", "{p(a): p(b)}"},
    {"--- inside a value is text", "a: ---\nb: x---\n", "{p(a): p(---), p(b): p(x---)}"},
    {"marker-like indented", "a:\n  ---x\n", "{p(a): p(---x)}"},
};

void run(const Case& c) {
  EXPECT_EQ(test::render(c.yaml), c.tree) << c.name << "\n" << c.yaml;
}

TEST(Scan, BlockStructure) {
  for (const auto& c : k_block) {
    run(c);
  }
}

TEST(Scan, Scalars) {
  for (const auto& c : k_scalars) {
    run(c);
  }
}

TEST(Scan, FlowCollections) {
  for (const auto& c : k_flow) {
    run(c);
  }
}

TEST(Scan, Properties) {
  for (const auto& c : k_properties) {
    run(c);
  }
}

TEST(Scan, Comments) {
  for (const auto& c : k_comments) {
    run(c);
  }
}

TEST(Scan, Documents) {
  for (const auto& c : k_documents) {
    run(c);
  }
}

} // namespace
} // namespace common::yamlscan
