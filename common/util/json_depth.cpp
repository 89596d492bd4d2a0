#include "common/util/json_depth.hpp"

#include <algorithm>

namespace common::util {

namespace {

// Calls `on(c)` for every byte of `text` outside JSON strings (escapes honoured) until it
// returns false.
template <class F>
void outside_strings(std::string_view text, F on) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (!on(c)) {
      return;
    }
  }
}

} // namespace

std::size_t json_nesting(std::string_view text, std::size_t limit) noexcept {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  outside_strings(text, [&](char c) {
    if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    return deepest <= limit;
  });
  return deepest > limit ? limit + 1 : deepest;
}

std::size_t json_values(std::string_view text, std::size_t limit) noexcept {
  std::size_t values = 1;
  outside_strings(text, [&](char c) {
    if (c == '[' || c == '{' || c == ',' || c == ':') {
      ++values;
    }
    return values <= limit;
  });
  return values > limit ? limit + 1 : values;
}

} // namespace common::util
