// Small ASCII string helpers shared by the parsers. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common::util {

// Without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r).
std::string_view trim(std::string_view s) noexcept;
// ASCII lower case; other bytes unchanged.
std::string to_lower(std::string_view s);

// The words of `s` split at runs of ASCII white space (Go's strings.Fields); no quoting.
std::vector<std::string> split_fields(std::string_view s);
// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;
// True when `s` starts with `prefix`, ignoring ASCII case.
bool starts_with_icase(std::string_view s, std::string_view prefix) noexcept;
// True when `needle` occurs in `haystack`, ignoring ASCII case ("" occurs everywhere).
bool contains_icase(std::string_view haystack, std::string_view needle) noexcept;

// `s` in double quotes for an error message: quotes and backslashes escaped, control and
// non-ASCII bytes as \xNN, cut after `max` bytes with "..." so garbage cannot flood a log.
std::string quote(std::string_view s, std::size_t max = 200);
// The same appended to `out` (no allocation beyond out's growth: for hot failure paths).
void append_quoted(std::string& out, std::string_view s, std::size_t max = 200);

// Appends the UTF-8 encoding of code point `cp` (callers pass valid scalar values: escape
// decoders check the range first).
void append_utf8(std::string& out, std::uint32_t cp);

// RFC 4648 base64 decoding (standard alphabet; padding optional, but when present it must
// complete the last quantum; no white space). nullopt on any invalid input.
std::optional<std::string> decode_base64(std::string_view text);

} // namespace common::util
