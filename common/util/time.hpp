// RFC 3339 timestamps (the `created` field of image configs, tag lists on stdin). Pure.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::util {

using Timestamp = std::chrono::sys_time<std::chrono::nanoseconds>;

// Parses "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456789+02:00" (Go's RFC3339Nano; 'T'
// or 't', 'Z' or 'z', 1-9 fraction digits). Fails (invalid_input, quoting the text) on anything
// else, including out-of-range fields (month 13, hour 24, Feb 30, second 60, offset +24:00) and
// instants outside what int64 nanoseconds hold (years 1677 to 2262).
Result<Timestamp> parse_rfc3339(std::string_view text);

// Formats as UTC "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the fraction without trailing zeros.
std::string format_rfc3339(Timestamp t);

} // namespace common::util
