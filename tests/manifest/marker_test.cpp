#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/manifest/marker.hpp"

namespace common::manifest {
namespace {

struct MarkerCase {
  std::string comment; // as yamlscan gives it: the text after the first '#'
  std::optional<std::string> setter;
};

TEST(ParseMarker, FluxShortHand) {
  const std::vector<MarkerCase> cases = {
      {R"( {"$imagepolicy": "ns:policy"})", "ns:policy"},
      {R"({"$imagepolicy":"ns:policy:tag"})", "ns:policy:tag"},
      {R"(  {"$imagepolicy": "ns:policy:name"}  )", "ns:policy:name"},
      {"\t{\"$imagepolicy\": \"ns:p:digest\"}\t", "ns:p:digest"},
      // Leading '#' are all stripped (kyaml TrimLeft).
      {R"(## {"$imagepolicy": "ns:p"})", "ns:p"},
      // Other string keys are fine; the last duplicate wins (encoding/json).
      {R"({"a": "b", "$imagepolicy": "ns:p"})", "ns:p"},
      {R"({"$imagepolicy": "ns:old", "$imagepolicy": "ns:new"})", "ns:new"},
      {R"({"$imagepolicy": "ns:p", "x": null})", "ns:p"},
      // Escapes are decoded.
      {R"({"$imagepolicy": "ns:\u0070"})", "ns:p"},
      {R"({"\u0024imagepolicy": "ns:p"})", std::nullopt}, // screened out like Flux's file screen
      // Not markers.
      {R"( {"$imagepolicy": "ns:p"} trailing)", std::nullopt},
      {R"( {"$imagepolicy": "ns:p"},)", std::nullopt},
      {R"( {"$imagepolicy": 1})", std::nullopt},
      {R"( {"$imagepolicy": "ns:p", "n": 1})", std::nullopt},
      {R"( {"$imagepolicy": ""})", std::nullopt},
      {R"( {"$imagepolicy": null})", std::nullopt},
      {R"( {'$imagepolicy': 'ns:p'})", std::nullopt},
      {R"( {"$imagepolicy": "ns:p")", std::nullopt},
      {R"( see {"$imagepolicy": "ns:p"})", std::nullopt},
      {R"( {"$imagepolicy": "a	b"})", std::nullopt}, // raw control character in a string
      {R"( ["$imagepolicy", "ns:p"])", std::nullopt},
      {" plain comment", std::nullopt},
      {"", std::nullopt},
  };
  for (const MarkerCase& c : cases) {
    SCOPED_TRACE(c.comment);
    EXPECT_EQ(parse_marker(c.comment), c.setter);
  }
}

TEST(MarkerOf, LineCommentFirstElseHeadComment) {
  const std::string marker = R"( {"$imagepolicy": "ns:p"})";
  EXPECT_EQ(marker_of(marker, {}), "ns:p");
  EXPECT_EQ(marker_of(std::nullopt, {marker}), "ns:p");
  // A line comment that is present hides the head comment, even when it is no marker or empty.
  EXPECT_EQ(marker_of(std::string(" note"), {marker}), std::nullopt);
  EXPECT_EQ(marker_of(std::string(""), {marker}), std::nullopt);
  // Head comments of several lines are joined as yaml.v3 does ("#a\n#b"): not JSON.
  EXPECT_EQ(marker_of(std::nullopt, {" note", marker}), std::nullopt);
  EXPECT_EQ(marker_of(std::nullopt, {marker, " note"}), std::nullopt);
  EXPECT_EQ(marker_of(std::nullopt, {}), std::nullopt);
}

TEST(SetterValue, FourForms) {
  Overrides o;
  o.setters["automation-ns:policy"] = SetterValue{"index.repo.fake/updated", "v1.0.1", ""};
  o.setters["automation-ns:policy-with-digest"] = SetterValue{
      "image", "v1.0.0", "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be"};
  EXPECT_EQ(setter_value(o, "automation-ns:policy"), "index.repo.fake/updated:v1.0.1");
  EXPECT_EQ(setter_value(o, "automation-ns:policy:tag"), "v1.0.1");
  EXPECT_EQ(setter_value(o, "automation-ns:policy:name"), "index.repo.fake/updated");
  EXPECT_EQ(setter_value(o, "automation-ns:policy:digest"), ""); // registered even when empty
  EXPECT_EQ(setter_value(o, "automation-ns:policy-with-digest"),
            "image:v1.0.0@sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be");
  EXPECT_EQ(setter_value(o, "automation-ns:policy-with-digest:digest"),
            "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be");
  EXPECT_EQ(setter_value(o, "automation-ns:policy:other"), std::nullopt);
  EXPECT_EQ(setter_value(o, "other-namespace:policy"), std::nullopt);
  EXPECT_EQ(setter_value(o, "automation-ns"), std::nullopt);
  EXPECT_EQ(setter_value(o, "policy"), std::nullopt);
}

} // namespace
} // namespace common::manifest
