#include "common/registry/retry.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/registry/detail.hpp"
#include "common/util/deadline.hpp"

namespace common::registry {

namespace {

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (s[pos] == ' ') {
      ++pos;
      continue;
    }
    const std::size_t end = std::min(s.find(' ', pos), s.size());
    out.push_back(s.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

bool number(std::string_view s, std::size_t min_digits, std::size_t max_digits, int& out) {
  if (s.size() < min_digits || s.size() > max_digits) {
    return false;
  }
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

bool day_name(std::string_view s) {
  return s.size() >= 3 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalpha(static_cast<unsigned char>(c)) != 0;
         });
}

int month(std::string_view s) {
  constexpr std::string_view k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (s == k_months[i]) {
      return i + 1;
    }
  }
  return 0;
}

// The three HTTP-date forms RFC 9110 section 5.6.7 requires recipients to accept, strictly:
// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and
// asctime "Sun Nov  6 08:49:37 1994".
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  const std::vector<std::string_view> t = split_spaces(text);
  int year = 0;
  int mon = 0;
  int day = 0;
  std::string_view time;
  if (t.size() == 6 && t[0].size() == 4 && t[0].back() == ',' && t[5] == "GMT") {
    mon = month(t[2]);
    if (!number(t[1], 2, 2, day) || !number(t[3], 4, 4, year)) {
      return std::nullopt;
    }
    time = t[4];
  } else if (t.size() == 4 && t[0].size() > 4 && t[0].back() == ',' && t[3] == "GMT" &&
             t[1].size() == 9 && t[1][2] == '-' && t[1][6] == '-') {
    mon = month(t[1].substr(3, 3));
    if (!number(t[1].substr(0, 2), 2, 2, day) || !number(t[1].substr(7), 2, 2, year)) {
      return std::nullopt;
    }
    year += year < 70 ? 2000 : 1900;
    time = t[2];
  } else if (t.size() == 5 && t[0].size() == 3) {
    mon = month(t[1]);
    if (!number(t[2], 1, 2, day) || !number(t[4], 4, 4, year)) {
      return std::nullopt;
    }
    time = t[3];
  } else {
    return std::nullopt;
  }
  if (!day_name(t[0].substr(0, t[0].size() - (t[0].back() == ',' ? 1 : 0))) || mon == 0) {
    return std::nullopt;
  }
  int hh = 0;
  int mm = 0;
  int ss = 0;
  if (time.size() != 8 || time[2] != ':' || time[5] != ':' ||
      !number(time.substr(0, 2), 2, 2, hh) || !number(time.substr(3, 2), 2, 2, mm) ||
      !number(time.substr(6, 2), 2, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(mon)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) {
    return std::nullopt;
  }
  return std::chrono::sys_days(date) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
         std::chrono::seconds(ss);
}

} // namespace

std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, double jitter,
                                        double unit) noexcept {
  // Doubling stops once past max, so large retry numbers cannot overflow.
  long long delay = std::max<long long>(0, base.count());
  for (int i = 0; i < retry && delay < max.count(); ++i) {
    delay *= 2;
  }
  delay = std::min<long long>(delay, max.count());
  jitter = std::clamp(jitter, 0.0, 1.0);
  unit = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(delay) * (1.0 - jitter * unit)));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::isdigit(static_cast<unsigned char>(value.front())) != 0) {
    long long seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) {
      return std::chrono::seconds(std::chrono::seconds::max());
    }
    if (ec != std::errc{} || end != value.data() + value.size()) {
      return std::nullopt;
    }
    return std::chrono::seconds(seconds);
  }
  if (std::isalpha(static_cast<unsigned char>(value.front())) == 0) {
    return std::nullopt;
  }
  const auto when = parse_http_date(value);
  if (!when) {
    return std::nullopt;
  }
  if (*when <= now) {
    return std::chrono::seconds(0);
  }
  // Round up: waiting a fraction too long is harmless, too short earns another 429.
  return std::chrono::ceil<std::chrono::seconds>(*when - now);
}

} // namespace common::registry

// ---- the client's retry loop ----------------------------------------------------------------

namespace common::registry {
namespace {

bool retryable_status(int status) noexcept {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429;
}

} // namespace

std::chrono::nanoseconds Client::Impl::backoff(int retry) {
  double unit = 0;
  {
    std::lock_guard lock(m_mutex);
    unit = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
  }
  return backoff_delay(retry, options.backoff_base, options.backoff_max, options.jitter, unit);
}

util::Result<http::Response> Client::Impl::send(http::Request request, const Url& url) {
  if (!http::find_header(request.headers, "User-Agent") && !options.user_agent.empty()) {
    request.headers.emplace_back("User-Agent", options.user_agent);
  }
  const std::string shown = own_origin(url) ? http::to_string(url) : detail::shown(url);
  const std::string what = request.method + " " + shown;
  const int max_retries = std::max(0, options.max_retries);
  // Time left before the deadline, if there is one: the client's own (a run's --timeout, on the
  // client's clock) and the calling thread's (one reconcile's registry work in the service),
  // whichever comes first. A thread deadline is real time, as the sockets' watchdog reads it, so
  // it is measured against the real steady clock: measured against an injected clock that runs
  // ahead (a driver simulating the next interval) every request would find it passed.
  const auto left = [&]() -> std::optional<std::chrono::nanoseconds> {
    std::optional<std::chrono::nanoseconds> l;
    if (options.deadline) {
      l = *options.deadline - clock.steady_now();
    }
    if (const auto mine = util::thread_deadline()) {
      const std::chrono::nanoseconds thread_left = *mine - std::chrono::steady_clock::now();
      if (!l || thread_left < *l) {
        l = thread_left;
      }
    }
    return l;
  };
  // Whether waiting `delay` and trying again still fits before the deadline.
  const auto can_wait = [&](std::chrono::nanoseconds delay) {
    const auto l = left();
    return !l || delay < *l;
  };
  const auto deadline_passed = [&](const std::string& attempts) {
    return util::fail(util::ErrorKind::transient,
                      label() + ": " + what + ": the deadline of this run was reached" + attempts);
  };
  for (int attempt = 0;; ++attempt) {
    const std::string attempts =
        attempt == 0 ? std::string() : " (after " + std::to_string(attempt + 1) + " attempts)";
    http::Limits limits = options.limits;
    if (const auto l = left()) {
      if (*l <= std::chrono::nanoseconds::zero()) {
        return deadline_passed(attempts);
      }
      // Never wait past the deadline for one request either.
      const auto cap = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*l),
                                std::chrono::milliseconds(1));
      limits.connect_timeout = std::min(limits.connect_timeout, cap);
      limits.read_timeout = std::min(limits.read_timeout, cap);
    }
    limiter->acquire();
    auto response = http.send(request, limits);
    const bool last = attempt >= max_retries;
    if (!response) {
      if (response.error().kind == util::ErrorKind::transient && !last) {
        if (const auto delay = backoff(attempt); can_wait(delay)) {
          clock.sleep_for(delay);
          continue;
        }
      }
      // The http layer's messages already name the request ("GET <url>: ..."); say it once.
      const std::string& why = response.error().message;
      const bool named = why.starts_with(request.method + " ");
      const bool out_of_time = response.error().kind == util::ErrorKind::transient && !last;
      return util::fail(
          response.error().kind,
          label() + ": " + (named ? why : what + ": " + why) + attempts +
              (out_of_time ? " (no time left to retry before the deadline of this run)" : ""));
    }
    const int status = response->status;
    if (!retryable_status(status)) {
      return response;
    }
    std::optional<std::chrono::seconds> retry_after;
    if (status == 429 || status == 503) {
      if (auto value = http::find_header(response->headers, "Retry-After")) {
        retry_after = parse_retry_after(*value, clock.now());
      }
    }
    if (retry_after && *retry_after > options.max_retry_after) {
      return util::fail(
          util::ErrorKind::transient,
          "rate limited by " + label() + ", Retry-After " + std::to_string(retry_after->count()) +
              " s (HTTP " + std::to_string(status) + " for " + what + "; more than the " +
              std::to_string(options.max_retry_after.count()) + " s this client waits)");
    }
    if (!last) {
      const std::chrono::nanoseconds delay = retry_after ? *retry_after : backoff(attempt);
      if (can_wait(delay)) {
        clock.sleep_for(delay);
        continue;
      }
      return util::fail(util::ErrorKind::transient,
                        label() + ": " + what + " answered " + std::to_string(status) + attempts +
                            (retry_after
                                 ? ", Retry-After " + std::to_string(retry_after->count()) + " s"
                                 : std::string()) +
                            " (no time left to retry before the deadline of this run)");
    }
    if (status == 429) {
      return util::fail(util::ErrorKind::transient,
                        "rate limited by " + label() + " (HTTP 429 for " + what + ")" + attempts);
    }
    return util::fail(util::ErrorKind::transient,
                      label() + ": " + what + " answered " + std::to_string(status) + attempts);
  }
}

} // namespace common::registry
