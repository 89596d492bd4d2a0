#include "common/util/time.hpp"

#include <cstdint>
#include <limits>

// Hand-written rather than std::chrono::parse: the grammar is tiny, and we want strictness
// (exactly RFC 3339's shape, no locale, no leniency) and error messages that name the field.

namespace common::util {
namespace {

using std::chrono::days;
using std::chrono::nanoseconds;
using std::chrono::seconds;

std::unexpected<Error> bad(std::string_view text, std::string_view why) {
  return fail(ErrorKind::invalid_input,
              "invalid RFC 3339 time \"" + std::string(text) + "\": " + std::string(why));
}

// Reads exactly `width` decimal digits at `pos`; false when any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t width, int& out) noexcept {
  if (pos + width > text.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

bool is_char(std::string_view text, std::size_t pos, char c) noexcept {
  return pos < text.size() && text[pos] == c;
}

} // namespace

Result<Timestamp> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS: fixed positions.
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!read_digits(text, 0, 4, year) || !is_char(text, 4, '-') || !read_digits(text, 5, 2, month) ||
      !is_char(text, 7, '-') || !read_digits(text, 8, 2, day)) {
    return bad(text, "expected YYYY-MM-DD");
  }
  if (!is_char(text, 10, 'T') && !is_char(text, 10, 't')) {
    return bad(text, "expected 'T' after the date");
  }
  if (!read_digits(text, 11, 2, hour) || !is_char(text, 13, ':') ||
      !read_digits(text, 14, 2, minute) || !is_char(text, 16, ':') ||
      !read_digits(text, 17, 2, second)) {
    return bad(text, "expected HH:MM:SS after 'T'");
  }
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.month().ok()) {
    return bad(text, "month out of range");
  }
  if (!ymd.ok()) {
    return bad(text, "day out of range");
  }
  if (hour > 23) {
    return bad(text, "hour out of range");
  }
  if (minute > 59) {
    return bad(text, "minute out of range");
  }
  if (second > 59) { // Go rejects leap seconds too
    return bad(text, "second out of range");
  }

  std::size_t pos = 19;
  std::int64_t fraction = 0;
  if (is_char(text, pos, '.')) {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 9) {
        return bad(text, "more than 9 fraction digits");
      }
      fraction = fraction * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0) {
      return bad(text, "expected digits after '.'");
    }
    for (std::size_t i = digits; i < 9; ++i) {
      fraction *= 10;
    }
  }

  std::int64_t offset_seconds = 0;
  if (is_char(text, pos, 'Z') || is_char(text, pos, 'z')) {
    ++pos;
  } else if (is_char(text, pos, '+') || is_char(text, pos, '-')) {
    const bool negative = text[pos] == '-';
    int offset_hour = 0;
    int offset_minute = 0;
    if (!read_digits(text, pos + 1, 2, offset_hour) || !is_char(text, pos + 3, ':') ||
        !read_digits(text, pos + 4, 2, offset_minute)) {
      return bad(text, "expected a zone offset +HH:MM");
    }
    if (offset_hour > 23 || offset_minute > 59) {
      return bad(text, "zone offset out of range");
    }
    offset_seconds = (offset_hour * 3600 + offset_minute * 60) * (negative ? -1 : 1);
    pos += 6;
  } else {
    return bad(text, "expected 'Z' or a zone offset");
  }
  if (pos != text.size()) {
    return bad(text, "unexpected text after the zone");
  }

  // Local time minus the offset is UTC. Timestamp counts int64 nanoseconds, which covers the
  // years 1677 to 2262; checking in seconds first keeps the multiplication from overflowing.
  const std::int64_t day_count = std::chrono::sys_days{ymd}.time_since_epoch().count();
  const std::int64_t total_seconds =
      day_count * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  constexpr std::int64_t k_max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t k_min = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t k_ns = 1'000'000'000;
  if (total_seconds > (k_max - fraction) / k_ns || total_seconds < k_min / k_ns) {
    return bad(text, "outside the representable years 1677 to 2262");
  }
  return Timestamp{nanoseconds{total_seconds * k_ns + fraction}};
}

std::string format_rfc3339(Timestamp t) {
  const auto day_point = std::chrono::floor<days>(t);
  const std::chrono::year_month_day ymd{day_point};
  const std::chrono::hh_mm_ss<nanoseconds> hms{t - day_point};

  char buffer[40];
  const auto put = [&](std::size_t& at, long long value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buffer[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    at += static_cast<std::size_t>(width);
  };
  std::size_t n = 0;
  put(n, static_cast<int>(ymd.year()), 4);
  buffer[n++] = '-';
  put(n, static_cast<unsigned>(ymd.month()), 2);
  buffer[n++] = '-';
  put(n, static_cast<unsigned>(ymd.day()), 2);
  buffer[n++] = 'T';
  put(n, hms.hours().count(), 2);
  buffer[n++] = ':';
  put(n, hms.minutes().count(), 2);
  buffer[n++] = ':';
  put(n, hms.seconds().count(), 2);
  long long fraction = hms.subseconds().count();
  if (fraction != 0) {
    int width = 9;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --width;
    }
    buffer[n++] = '.';
    put(n, fraction, width);
  }
  buffer[n++] = 'Z';
  return std::string(buffer, n);
}

} // namespace common::util
