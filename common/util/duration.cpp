#include "common/util/duration.hpp"

#include <cstdint>
#include <limits>
#include <string>

namespace common::util {
namespace {

struct Unit {
  std::string_view name;
  std::uint64_t nanoseconds;
};

// Longest names first so "ms" is not read as "m" followed by garbage.
constexpr Unit k_units[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000}, // U+00B5 micro sign
    {"\xCE\xBCs", 1'000}, // U+03BC Greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

} // namespace

util::Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return util::fail(util::ErrorKind::invalid_input,
                      "invalid duration \"" + std::string(text) + "\": " + std::string(why));
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    return std::chrono::nanoseconds{0};
  }
  if (s.empty()) {
    return bad("empty");
  }
  // Go accumulates in uint64 and allows exactly 2^63 for a negative duration.
  constexpr std::uint64_t k_max = static_cast<std::uint64_t>(1) << 63;
  std::uint64_t total = 0;
  while (!s.empty()) {
    std::uint64_t whole = 0;
    std::size_t digits = 0;
    bool overflow = false;
    while (!s.empty() && is_digit(s[0])) {
      // Go's leadingInt: fails once the value passes 2^63.
      if (whole > k_max / 10) {
        overflow = true;
      } else {
        whole = whole * 10 + static_cast<std::uint64_t>(s[0] - '0');
        overflow = overflow || whole > k_max;
      }
      s.remove_prefix(1);
      ++digits;
    }
    if (overflow) {
      return bad("out of range");
    }
    // The fraction as Go's leadingFraction reads it: digits past uint64 precision are dropped.
    std::uint64_t fraction = 0;
    double scale = 1;
    bool has_dot = false;
    if (!s.empty() && s[0] == '.') {
      has_dot = true;
      s.remove_prefix(1);
      bool full = false;
      while (!s.empty() && is_digit(s[0])) {
        if (!full && fraction > (k_max - 1) / 10) {
          full = true;
        }
        if (!full) {
          fraction = fraction * 10 + static_cast<std::uint64_t>(s[0] - '0');
          scale *= 10;
        }
        s.remove_prefix(1);
        ++digits;
      }
    }
    if (digits == 0) {
      return bad(has_dot ? "a number needs digits" : "expected a number");
    }
    const Unit* unit = nullptr;
    for (const Unit& u : k_units) {
      if (s.starts_with(u.name) && (unit == nullptr || u.name.size() > unit->name.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      std::size_t end = 0;
      while (end < s.size() && !is_digit(s[end]) && s[end] != '.') {
        ++end;
      }
      return bad(end == 0 ? "missing unit (ns, us, ms, s, m, h)"
                          : "unknown unit \"" + std::string(s.substr(0, end)) + "\"");
    }
    s.remove_prefix(unit->name.size());
    if (whole > k_max / unit->nanoseconds) {
      return bad("out of range");
    }
    std::uint64_t value = whole * unit->nanoseconds;
    if (fraction > 0) {
      // Go: v += uint64(float64(f) * (float64(unit) / scale)).
      value += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                          (static_cast<double>(unit->nanoseconds) / scale));
    }
    if (value > k_max || total > k_max - value) {
      return bad("out of range");
    }
    total += value;
  }
  if (total == k_max && !negative) {
    return bad("out of range");
  }
  if (negative) {
    if (total == k_max) {
      return std::chrono::nanoseconds{std::numeric_limits<std::int64_t>::min()};
    }
    return std::chrono::nanoseconds{-static_cast<std::int64_t>(total)};
  }
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total)};
}

} // namespace common::util
