// Semantic versions as Masterminds/semver v3 (v3.4.0) reads them, the engine behind both
// Argo CD Image Updater and Flux. Pure: no I/O, no allocation beyond the result.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::semver {

struct Version {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::uint64_t patch = 0;
  std::string prerelease; // without the leading '-', "" when none
  std::string metadata;   // without the leading '+', "" when none
  std::string original;   // the text as given, used for the anchors' tie-break
};

// Lenient parse, as Masterminds NewVersion (CoerceNewVersion): optional 'v', 1 to 3 numeric
// parts (missing parts are 0, leading zeros allowed), optional "-prerelease" and "+metadata".
// Examples: "1.2.3", "v1.2", "1", "01.1.1", "1.2-5" (= 1.2.0-5), "2024.01.15".
// Fails (invalid_input) on 4 parts, empty identifiers, '_' or other characters outside
// [0-9A-Za-z-.], leading zeros in numeric pre-release identifiers, leading whitespace and
// numbers that do not fit 64 bits.
util::Result<Version> parse(std::string_view text);

// Flux's parse (fluxcd/pkg version.ParseVersion since it admitted calendar versions): the text
// must split into exactly three dot-separated parts (strings.SplitN(v, ".", 3)), then parse()
// applies: "1.2.3", "v1.2.3-rc.1", "v2025.02.03-rc.1" are versions, "1.2" and "1.2-5" are not.
util::Result<Version> parse_flux(std::string_view text);

// Masterminds Compare: -1, 0 or 1. Metadata is ignored; a release ranks above its
// pre-releases; pre-release identifiers compare numerically when both are numeric, numeric
// ranks below alphanumeric, ASCII otherwise, and a longer identifier list wins a common prefix
// ("rc9" > "rc10", "BETA" < "alpha", "beta" < "beta.2"). A numeric identifier too large for
// 64 bits counts as alphanumeric, as in Go. Never allocates.
int compare(const Version& a, const Version& b) noexcept;

// The anchors' total order for choosing the newest: compare(), then ties broken by the
// byte-wise comparison of the original text (so "v2.0.0" beats "2.0.0" and "v2.0").
int compare_with_tiebreak(const Version& a, const Version& b) noexcept;

} // namespace common::semver
