// Internal to common/api: a request body (YAML or JSON) as bounded JSON text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::api::detail {

struct YamlLimits {
  std::size_t max_nodes = 100'000; // counting every copy an alias makes
  std::size_t max_depth = 100;     // nesting of collections
};

// Converts one YAML document (a mapping, sequence or scalar) to compact JSON text. Plain scalars
// are typed by the YAML 1.2 core schema (null, true/false, integers, floats); quoted scalars and
// !!str are strings; an alias is a copy of its anchor's value. Fails with invalid_input on a
// syntax error ("line L, column C: ..."), more than one document, a non-scalar or duplicate
// mapping key, an undefined alias, or an exceeded bound. Never throws.
util::Result<std::string> yaml_to_json(std::string_view text, const YamlLimits& limits = {});

inline constexpr std::size_t k_max_json_depth = 100;      // nesting of a body, as YAML's bound
inline constexpr std::size_t k_max_json_values = 100'000; // values of a body, as YAML's nodes

// Refuses JSON text a tree would cost too much for, before one is built: invalid_input "invalid
// JSON: more than N values" (a 1 MiB body of "1," is half a million nodes), then "... nested
// values" (nlohmann's parser and dump recurse). Counts only; the syntax is the parser's.
util::Result<void> check_json_bounds(std::string_view text);

// JSON text as one block-style YAML document (no "---"), keys sorted; "" when the
// text is not JSON. Deterministic; strings that YAML would read as something else are quoted.
std::string json_to_yaml(std::string_view json_text);

} // namespace common::api::detail
