// libFuzzer entry point for the version parsers and the ordering: nothing may crash, and every
// accepted version must order consistently against itself and its Flux-parsed twin.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/semver/version.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto loose = common::semver::parse(text);
  const auto strict = common::semver::parse_flux(text);
  if (strict && !loose) {
    std::abort(); // Flux's parse is a restriction of the loose one
  }
  if (loose) {
    if (common::semver::compare(*loose, *loose) != 0 ||
        common::semver::compare_with_tiebreak(*loose, *loose) != 0 || loose->original != text) {
      std::abort();
    }
    if (strict && common::semver::compare(*loose, *strict) != 0) {
      std::abort();
    }
    // Split the input in two and compare the halves both ways: the order must be antisymmetric.
    const auto a = common::semver::parse(text.substr(0, size / 2));
    const auto b = common::semver::parse(text.substr(size / 2));
    if (a && b && common::semver::compare(*a, *b) != -common::semver::compare(*b, *a)) {
      std::abort();
    }
  }
  return 0;
}
