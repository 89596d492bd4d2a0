// The pieces of the registry client's retry policy that are worth testing on their own:
// exponential backoff with jitter, and Retry-After parsing. Pure: the caller passes the time.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace common::registry {

// Delay before retry number `retry` (0 = the first retry): min(max, base * 2^retry), minus up
// to `jitter` (0..1) of it: d * (1 - jitter * unit), where `unit` in [0, 1) is the caller's
// random draw. jitter 0 gives the exact doubling sequence.
std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, double jitter,
                                        double unit) noexcept;

// A Retry-After value: delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT",
// also the obsolete RFC 850 and asctime forms), relative to `now`. A date in the past is 0 s.
// Nullopt for anything else (negative, garbage, empty): the caller falls back to its backoff.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

} // namespace common::registry
