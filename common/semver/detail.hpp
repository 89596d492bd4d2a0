// Internals shared by version.cpp and constraint.cpp. Not part of the module's API.
#pragma once

#include <string>
#include <string_view>

namespace common::semver::detail {

// Masterminds comparePrerelease on two pre-release strings (without '-'): -1, 0 or 1.
// Both are split on '.' as strings.Split does, so "" is one empty identifier.
int compare_prerelease(std::string_view a, std::string_view b) noexcept;

} // namespace common::semver::detail
