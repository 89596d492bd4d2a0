#include "common/image/platform.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/strings.hpp"

namespace common::image {
namespace {

using util::ErrorKind;

// Platform strings come from specs and flags; a quoted bad value is cut so that one garbage
// line cannot flood the log.
constexpr std::size_t k_quote_max = 100;

std::string quote_input(std::string_view s) {
  return util::quote(s, k_quote_max);
}

// [a-z0-9_.-]+: what OCI indexes use. Upper case is refused rather than folded, so that a
// spec says exactly what is compared.
bool valid_part(std::string_view s) noexcept {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

using util::trim;

} // namespace

std::string Platform::to_string() const {
  std::string out = os;
  out += '/';
  out += arch;
  if (!variant.empty()) {
    out += '/';
    out += variant;
  }
  return out;
}

util::Result<Platform> parse_platform(std::string_view text) {
  std::string_view parts[3];
  std::size_t count = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = text.find('/', start);
    if (count == 3) {
      return util::fail(ErrorKind::invalid_input,
                        "invalid platform " + quote_input(text) + ": expected os/arch[/variant]");
    }
    parts[count++] = text.substr(start, slash - start);
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  if (count < 2) {
    return util::fail(ErrorKind::invalid_input,
                      "invalid platform " + quote_input(text) + ": expected os/arch[/variant]");
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (parts[i].empty()) {
      return util::fail(ErrorKind::invalid_input,
                        "invalid platform " + quote_input(text) + ": empty part");
    }
    if (!valid_part(parts[i])) {
      return util::fail(ErrorKind::invalid_input, "invalid platform " + quote_input(text) + ": " +
                                                      quote_input(parts[i]) +
                                                      " is not lower-case [a-z0-9_.-]+");
    }
  }
  return Platform{std::string(parts[0]), std::string(parts[1]),
                  count == 3 ? std::string(parts[2]) : std::string()};
}

util::Result<std::vector<Platform>> parse_platforms(std::string_view text) {
  std::vector<Platform> out;
  if (trim(text).empty()) {
    return out;
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = trim(text.substr(start, comma - start));
    if (item.empty()) {
      return util::fail(ErrorKind::invalid_input, "empty platform in list " + quote_input(text));
    }
    auto platform = parse_platform(item);
    if (!platform) {
      return std::unexpected(std::move(platform.error()));
    }
    out.push_back(std::move(*platform));
    if (comma == std::string_view::npos) {
      return out;
    }
    start = comma + 1;
  }
}

bool matches(const Platform& wanted, const Platform& candidate) noexcept {
  // Argo CD Image Updater's WantsPlatform: a request without a variant takes every variant
  // ("linux/arm64" takes "linux/arm64/v8"); a request with one takes only that variant
  // ("linux/arm/v6" does not take a bare "linux/arm").
  return wanted.os == candidate.os && wanted.arch == candidate.arch &&
         (wanted.variant.empty() || wanted.variant == candidate.variant);
}

} // namespace common::image
