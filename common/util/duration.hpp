// Go durations (time.ParseDuration), as Flux's `interval` fields are written.
#pragma once

#include <chrono>
#include <string_view>

#include "common/util/error.hpp"

namespace common::util {

// Parses a signed sequence of decimal numbers, each with an optional fraction and a unit:
// "300ms", "-1.5h", "2h45m", "1m30.5s". Units: ns, us (or µs, μs), ms, s, m, h. "0" needs no
// unit. Fails (invalid_input, quoting the text) on anything else, a missing unit, an unknown
// unit or a value beyond ±2^63-1 nanoseconds (about 292 years).
util::Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

} // namespace common::util
