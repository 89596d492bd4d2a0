// Flux image-automation setter markers: a YAML comment `# {"$imagepolicy":
// "ns:name[:tag|:name|:digest]"}` on a scalar, as image-automation-controller reads it (kyaml
// fieldmeta short-hand). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/manifest/overrides.hpp"

namespace common::manifest {

// The setter named by a comment, or nullopt when the comment is no marker. `comment` is the
// comment's text as yamlscan gives it (after the first '#'); further leading '#' are dropped
// and the rest must be exactly one JSON object whose values are all strings (or null),
// surrounded by JSON white space only, holding a non-empty "$imagepolicy" (the last one when
// repeated). Anything else (other text, trailing text after '}', a number value) is no marker.
std::optional<std::string> parse_marker(std::string_view comment);

// The comment that counts for a scalar, by Flux's rule: its line comment when there is one
// (even an empty "#"), else
// its head comment lines joined as yaml.v3 joins them ("#a\n#b" -> the text after the first
// '#': "a\n#b", which is a marker only when there is one line). Then parse_marker().
std::optional<std::string> marker_of(const std::optional<std::string>& line_comment,
                                     const std::vector<std::string>& head_comments);

// The value a setter writes, or nullopt when no setter has that name. `setter` is the marker's
// value: "ns:name" (full reference), "ns:name:tag", "ns:name:name" or "ns:name:digest".
std::optional<std::string> setter_value(const Overrides& overrides, std::string_view setter);

} // namespace common::manifest
