#include "common/semver/version.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/semver/detail.hpp"
#include "common/util/strings.hpp"

// The policy engine parses every tag of a repository (100,000 in the benchmark), most of which
// are not versions at all, so parse() is a single forward scan: no regex, no exceptions, and the
// only allocations are the strings of the result (or the error message).
//
// The grammar is Masterminds' loose regex, anchored at both ends:
//   v?[0-9]+(\.[0-9]+)?(\.[0-9]+)?(-I(\.I)*)?(\+I(\.I)*)?   with I = [0-9A-Za-z-]+
// followed by its validatePrerelease (no leading zero in a numeric identifier) and the uint64
// range check of strconv.ParseUint.

namespace common::semver {

namespace detail {

namespace {

bool parse_u64(std::string_view digits, std::uint64_t& out) noexcept {
  // strconv.ParseUint(s, 10, 64): digits only, non-empty, fits 64 bits (leading zeros are fine).
  if (digits.empty()) {
    return false;
  }
  const char* const end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

// comparePrePart: equal strings tie; an absent identifier ranks lowest; identifiers that
// ParseUint accepts are numbers, rank below the others and compare numerically; the rest
// compare byte-wise. An all-digit identifier too large for 64 bits is therefore a string.
int compare_part(std::string_view s, std::string_view o) noexcept {
  if (s == o) {
    return 0;
  }
  if (s.empty()) {
    return -1;
  }
  if (o.empty()) {
    return 1;
  }
  std::uint64_t si = 0;
  std::uint64_t oi = 0;
  const bool s_num = parse_u64(s, si);
  const bool o_num = parse_u64(o, oi);
  if (!s_num && !o_num) {
    return s > o ? 1 : -1;
  }
  if (!o_num) {
    return -1;
  }
  if (!s_num) {
    return 1;
  }
  return si > oi ? 1 : -1;
}

// Walks the parts of strings.Split(s, "."): "" has one empty part, "a." has two.
class PartCursor {
public:
  explicit PartCursor(std::string_view s) noexcept : m_rest(s) {}
  bool done() const noexcept { return m_done; }
  std::string_view next() noexcept {
    if (m_done) {
      return {};
    }
    const auto dot = m_rest.find('.');
    if (dot == std::string_view::npos) {
      m_done = true;
      return m_rest;
    }
    const auto part = m_rest.substr(0, dot);
    m_rest.remove_prefix(dot + 1);
    return part;
  }

private:
  std::string_view m_rest;
  bool m_done = false;
};

} // namespace

int compare_prerelease(std::string_view a, std::string_view b) noexcept {
  PartCursor ca(a);
  PartCursor cb(b);
  while (!ca.done() || !cb.done()) {
    if (const int d = compare_part(ca.next(), cb.next()); d != 0) {
      return d;
    }
  }
  return 0;
}

} // namespace detail

namespace {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

constexpr bool is_ident_char(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

// Most tags of a repository are not versions, so the failure path is hot too: one allocation.
util::Result<Version> invalid(std::string_view text, std::string_view why) {
  static constexpr std::string_view k_prefix = "invalid semantic version ";
  std::string message;
  message.reserve(k_prefix.size() + text.size() + 4 + why.size());
  message += k_prefix;
  util::append_quoted(message, text);
  message += ": ";
  message += why;
  return util::fail(util::ErrorKind::invalid_input, std::move(message));
}

// Scans I(\.I)* from i, stopping at the first byte that is neither an identifier byte nor a dot
// (the caller judges it); false on an empty identifier. With leading_zero, also applies
// validatePrerelease's rule in the same pass: a numeric identifier has no leading zero ("0" is
// fine, "01" is not).
bool scan_identifiers(std::string_view s, std::size_t& i, bool* leading_zero) noexcept {
  const std::size_t n = s.size();
  for (;;) {
    const std::size_t begin = i;
    bool numeric = true;
    while (i < n && is_ident_char(s[i])) {
      numeric = numeric && is_digit(s[i]);
      ++i;
    }
    if (i == begin) {
      return false;
    }
    if (leading_zero != nullptr && numeric && i - begin > 1 && s[begin] == '0') {
      *leading_zero = true;
    }
    if (i < n && s[i] == '.') {
      ++i;
      continue;
    }
    return true;
  }
}

int sign(int x) noexcept {
  return (x > 0) - (x < 0);
}

struct Scanned {
  std::uint64_t numbers[3] = {0, 0, 0};
  std::string_view prerelease;
  std::string_view metadata;
};

// The loose grammar in one pass; returns why the text is not a version, or nullptr.
const char* scan_version(std::string_view text, Scanned& out) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  if (i < n && text[i] == 'v') {
    ++i;
  }

  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (i >= n || text[i] != '.') {
        break;
      }
      ++i;
    }
    const std::size_t begin = i;
    std::uint64_t value = 0;
    while (i < n && is_digit(text[i])) {
      value = value * 10 + static_cast<std::uint64_t>(text[i] - '0'); // checked below if long
      ++i;
    }
    if (i == begin) {
      return part == 0 ? "expected a number" : "expected a number after '.'";
    }
    // Up to 19 digits always fit 64 bits; longer runs (maybe leading zeros) take the slow path.
    if (i - begin > 19 && !detail::parse_u64(text.substr(begin, i - begin), value)) {
      return "number does not fit 64 bits";
    }
    out.numbers[part] = value;
  }

  // A leading zero is only reported once the rest matched, as Go validates after the regex.
  bool leading_zero = false;
  if (i < n && text[i] == '-') {
    const std::size_t begin = ++i;
    if (!scan_identifiers(text, i, &leading_zero)) {
      return "empty pre-release identifier";
    }
    out.prerelease = text.substr(begin, i - begin);
  }
  if (i < n && text[i] == '+') {
    const std::size_t begin = ++i;
    if (!scan_identifiers(text, i, nullptr)) {
      return "empty build metadata identifier";
    }
    out.metadata = text.substr(begin, i - begin);
  }
  if (i != n) {
    return text[i] == '.' ? "more than three version parts or a misplaced '.'"
                          : "unexpected character";
  }
  if (leading_zero) {
    return "numeric pre-release identifier with a leading zero";
  }
  return nullptr;
}

} // namespace

util::Result<Version> parse(std::string_view text) {
  Scanned scanned;
  if (const char* why = scan_version(text, scanned)) {
    return invalid(text, why);
  }
  // Built in place: the strings are the only allocations, and only past 15 bytes (SSO).
  util::Result<Version> result(std::in_place);
  Version& v = *result;
  v.major = scanned.numbers[0];
  v.minor = scanned.numbers[1];
  v.patch = scanned.numbers[2];
  if (!scanned.prerelease.empty()) {
    v.prerelease.assign(scanned.prerelease);
  }
  if (!scanned.metadata.empty()) {
    v.metadata.assign(scanned.metadata);
  }
  v.original.assign(text);
  return result;
}

util::Result<Version> parse_flux(std::string_view text) {
  // fluxcd/pkg version.ParseVersion: strings.SplitN(v, ".", 3) must give three parts, that is
  // the text holds at least two dots; then the lenient parse (leading zeros allowed).
  const auto dot1 = text.find('.');
  if (dot1 == std::string_view::npos || text.find('.', dot1 + 1) == std::string_view::npos) {
    return invalid(text, "Flux needs three dot-separated parts (major.minor.patch)");
  }
  return parse(text);
}

int compare(const Version& a, const Version& b) noexcept {
  if (a.major != b.major) {
    return a.major < b.major ? -1 : 1;
  }
  if (a.minor != b.minor) {
    return a.minor < b.minor ? -1 : 1;
  }
  if (a.patch != b.patch) {
    return a.patch < b.patch ? -1 : 1;
  }
  if (a.prerelease.empty() && b.prerelease.empty()) {
    return 0;
  }
  if (a.prerelease.empty()) {
    return 1;
  }
  if (b.prerelease.empty()) {
    return -1;
  }
  return detail::compare_prerelease(a.prerelease, b.prerelease);
}

int compare_with_tiebreak(const Version& a, const Version& b) noexcept {
  if (const int c = compare(a, b); c != 0) {
    return c;
  }
  return sign(a.original.compare(b.original));
}

} // namespace common::semver
