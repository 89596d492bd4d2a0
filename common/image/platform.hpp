// Platforms as OCI image indexes name them: "os/arch[/variant]" ("linux/amd64",
// "linux/arm/v7", "linux/arm64/v8"). Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::image {

struct Platform {
  std::string os;
  std::string arch;
  std::string variant; // "" when none

  std::string to_string() const;
  friend bool operator==(const Platform&, const Platform&) = default;
};

// Parses "os/arch[/variant]"; each part is [a-z0-9_.-]+ (lower case, not folded; no space
// trimmed). Fails (invalid_input, "invalid platform \"<text>\": ...") on fewer than 2 or more
// than 3 parts or an empty or illegal part.
util::Result<Platform> parse_platform(std::string_view text);

// Parses a comma-separated list ("linux/amd64, linux/arm64"); spaces around items are ignored.
// Blank text is the empty list. Order and duplicates are kept. Fails on the first bad item,
// naming it, and on an empty item ("a/b,,c/d", a trailing ',').
util::Result<std::vector<Platform>> parse_platforms(std::string_view text);

// The anchors' matching rule: os and arch must be equal; a wanted platform without a variant
// matches any variant; a wanted variant must match exactly.
bool matches(const Platform& wanted, const Platform& candidate) noexcept;

} // namespace common::image
