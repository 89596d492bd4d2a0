// A cheap screen run before a JSON text is parsed into a tree: how deeply its arrays and objects
// nest. A tree parser spends memory per nesting level (and recursion, for some), so a body of
// a million '[' costs hundreds of megabytes before it fails; this scan costs nothing but a pass.
#pragma once

#include <cstddef>
#include <string_view>

namespace common::util {

// The deepest nesting of '[' and '{' in `text`, outside JSON strings (escapes honoured); stops
// counting once `limit` is exceeded and returns limit + 1. Not a validator: brackets need not
// balance.
std::size_t json_nesting(std::string_view text, std::size_t limit) noexcept;

// An upper bound of the number of values in `text` (one per '[', '{', ',' and ':' outside
// strings, plus one): what a tree of it costs in nodes. Stops counting past `limit` and returns
// limit + 1.
std::size_t json_values(std::string_view text, std::size_t limit) noexcept;

// Nesting deeper than this is refused wherever the service parses JSON from a peer (request
// bodies, registry answers); real documents stay far below it.
inline constexpr std::size_t k_max_json_nesting = 64;

} // namespace common::util
