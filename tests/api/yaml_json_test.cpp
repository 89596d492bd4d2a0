#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/api/yaml_json.hpp"

namespace {

using common::api::detail::yaml_to_json;
using nlohmann::json;

TEST(YamlJson, Converts) {
  const std::pair<const char*, const char*> cases[] = {
      {"a: 1", R"({"a":1})"},
      {"a: -2", R"({"a":-2})"},
      {"a: 1.5", R"({"a":1.5})"},
      {"a: 0x1f", R"({"a":31})"},
      {"a: '1'", R"({"a":"1"})"},
      {"a: !!str 1", R"({"a":"1"})"},
      {"a: true\nb: False\nc: yes", R"({"a":true,"b":false,"c":"yes"})"},
      {"a: ~\nb: null\nc:", R"({"a":null,"b":null,"c":null})"},
      {"a: [x, 'y', \"z\"]", R"({"a":["x","y","z"]})"},
      {"a: {b: {c: d}}", R"({"a":{"b":{"c":"d"}}})"},
      {"- a\n- b", R"(["a","b"])"},
      {"plain", R"("plain")"},
      {"a: &x [1, 2]\nb: *x", R"({"a":[1,2],"b":[1,2]})"},
      {"a: nginx:^0.1", R"({"a":"nginx:^0.1"})"},
      {"a: .inf", R"({"a":".inf"})"},
      {"a: 1e3", R"({"a":1000.0})"},
      {"---\na: 1\n...\n", R"({"a":1})"},
      {"1: one", R"({"1":"one"})"},
  };
  for (const auto& [yaml, want] : cases) {
    auto got = yaml_to_json(yaml);
    ASSERT_TRUE(got) << yaml << ": " << got.error().message;
    EXPECT_EQ(json::parse(*got), json::parse(want)) << yaml;
  }
}

TEST(YamlJson, Refuses) {
  const std::pair<std::string, const char*> cases[] = {
      {"", "no document"},
      {"# only a comment\n", "no document"},
      {"a: [b\nc: d", "line"},
      {"a: 1\n---\nb: 2", "more than one document"},
      {"a: 1\na: 2", "duplicate mapping key \"a\""},
      {"[a]: 1", "mapping keys must be strings"},
      {"a: *nothing", "invalid YAML"},
      {",", "invalid YAML"},
      {"}", "invalid YAML"},
      {std::string(150, '[') + std::string(150, ']'), "nested collections"},
      // A billion laughs: every alias copy counts.
      {"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
       "YAML nodes"},
  };
  for (const auto& [yaml, want] : cases) {
    auto got = yaml_to_json(yaml);
    ASSERT_FALSE(got) << yaml << " gave " << *got;
    EXPECT_EQ(got.error().kind, common::util::ErrorKind::invalid_input);
    EXPECT_NE(got.error().message.find(want), std::string::npos)
        << yaml << ": " << got.error().message;
    EXPECT_TRUE(got.error().message.starts_with("invalid YAML: ")) << got.error().message;
  }
}

} // namespace
