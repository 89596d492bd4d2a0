#include "common/policy/filter.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

#include <re2/re2.h>

#include "common/util/strings.hpp"

namespace common::policy::detail {
namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_hex_letter(char c) noexcept {
  return lower(c) >= 'a' && lower(c) <= 'f';
}
bool is_name_char(char c) noexcept {
  return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z') || c == '_';
}

// Go's regexp defaults: leftmost-first, Perl classes, '.' without newline. RE2 must not log
// a bad pattern to stderr: the error is returned to the caller.
std::unique_ptr<re2::RE2> compile_regexp(std::string_view text, std::string& error) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(re2::StringPiece(text.data(), text.size()), options);
  if (!re->ok()) {
    error = re->error();
    return nullptr;
  }
  return re;
}

} // namespace

// ---- AllowTags ----

AllowTags::AllowTags() = default;
AllowTags::AllowTags(AllowTags&&) noexcept = default;
AllowTags& AllowTags::operator=(AllowTags&&) noexcept = default;
AllowTags::~AllowTags() = default;

util::Result<AllowTags> AllowTags::compile(std::string_view expression) {
  AllowTags out;
  if (expression.empty() || util::iequals(expression, "any")) {
    return out;
  }
  const std::size_t colon = expression.find(':');
  if (colon == std::string_view::npos || !util::iequals(expression.substr(0, colon), "regexp")) {
    return util::fail(util::ErrorKind::invalid_input,
                      "invalid allow-tags " + util::quote(expression) +
                          ": expected \"\", \"any\" or \"regexp:<expression>\"");
  }
  std::string error;
  out.m_regexp = compile_regexp(expression.substr(colon + 1), error);
  if (!out.m_regexp) {
    return util::fail(util::ErrorKind::invalid_input,
                      "invalid allow-tags " + util::quote(expression) + ": " + error);
  }
  return out;
}

bool AllowTags::allows(std::string_view tag) const noexcept {
  return m_regexp == nullptr ||
         RE2::PartialMatch(re2::StringPiece(tag.data(), tag.size()), *m_regexp);
}

// ---- TagPattern ----

TagPattern::TagPattern() = default;
TagPattern::TagPattern(TagPattern&&) noexcept = default;
TagPattern& TagPattern::operator=(TagPattern&&) noexcept = default;
TagPattern::~TagPattern() = default;

util::Result<TagPattern> TagPattern::compile(std::string_view pattern, std::string_view extract) {
  // The option at fault is also the error's field, for callers that map it to their own path.
  const auto bad_extract = [&](const std::string& why) {
    return std::unexpected(
        util::Error(util::ErrorKind::invalid_input,
                    "invalid filterTags.extract " + util::quote(extract) + ": " + why,
                    util::at_field("filterTags.extract")));
  };
  if (pattern.empty() && !extract.empty()) {
    return bad_extract("it needs a filterTags.pattern to take groups from");
  }
  TagPattern out;
  std::string error;
  out.m_regexp = compile_regexp(pattern, error);
  if (!out.m_regexp) {
    return std::unexpected(
        util::Error(util::ErrorKind::invalid_input,
                    "invalid filterTags.pattern " + util::quote(pattern) + ": " + error,
                    util::at_field("filterTags.pattern")));
  }
  if (extract.empty()) {
    return out;
  }
  out.m_extracts = true;
  const int group_count = out.m_regexp->NumberOfCapturingGroups();
  const auto& named_by_index = out.m_regexp->CapturingGroupNames(); // ordered by index

  // Go's Regexp.expand/extract, resolved once: the template becomes literal + group pieces.
  std::string literal;
  std::string_view rest = extract;
  while (!rest.empty()) {
    const std::size_t dollar = rest.find('$');
    if (dollar == std::string_view::npos) {
      break;
    }
    literal += rest.substr(0, dollar);
    rest.remove_prefix(dollar + 1);
    if (!rest.empty() && rest.front() == '$') {
      literal += '$';
      rest.remove_prefix(1);
      continue;
    }
    const bool brace = !rest.empty() && rest.front() == '{';
    std::size_t i = brace ? 1 : 0;
    const std::size_t name_start = i;
    while (i < rest.size() && is_name_char(rest[i])) {
      ++i;
    }
    const std::string_view name = rest.substr(name_start, i - name_start);
    if (brace && (name.empty() || i >= rest.size() || rest[i] != '}')) {
      return bad_extract("\"${\" needs a group name or number and a closing \"}\"");
    }
    if (name.empty()) { // Go: a '$' not followed by a name is literal text
      literal += '$';
      continue;
    }
    rest.remove_prefix(brace ? i + 1 : i);

    // Go: a number is all digits, below 1e8 before its last digit, without a leading zero.
    int number = 0;
    for (char c : name) {
      if (!is_digit(c) || number >= 100'000'000) {
        number = -1;
        break;
      }
      number = number * 10 + (c - '0');
    }
    if (name.size() > 1 && name.front() == '0') {
      number = -1;
    }
    std::vector<int> groups;
    if (number >= 0) {
      if (number > group_count) {
        return bad_extract("group " + std::string(name) + " does not exist: the pattern has " +
                           std::to_string(group_count) + " group(s)");
      }
      groups.push_back(number);
    } else {
      // Go allows several groups of one name and expands the first that took part in the match.
      for (const auto& [index, group_name] : named_by_index) {
        if (group_name == name) {
          groups.push_back(index);
        }
      }
      if (groups.empty()) {
        std::string hint;
        if (!brace && is_digit(name.front())) {
          hint = " (write ${N} when a group number is followed by letters or digits)";
        }
        return bad_extract("the pattern has no group named " + util::quote(name) + hint);
      }
    }
    out.m_groups_needed = std::max(out.m_groups_needed, groups.back() + 1);
    out.m_template.push_back(Piece{std::move(literal), std::move(groups)});
    literal.clear();
  }
  literal += rest;
  if (!literal.empty()) {
    out.m_template.push_back(Piece{std::move(literal), {}});
  }
  return out;
}

bool TagPattern::apply(std::string_view tag, std::string& scratch, std::string_view& value) const {
  const re2::StringPiece text(tag.data(), tag.size());
  if (!m_extracts) {
    if (!RE2::PartialMatch(text, *m_regexp)) {
      return false;
    }
    value = tag;
    return true;
  }
  constexpr int k_inline_groups = 16;
  std::array<re2::StringPiece, k_inline_groups> inline_groups;
  std::vector<re2::StringPiece> many_groups; // only for templates naming group 16 or later
  re2::StringPiece* groups = inline_groups.data();
  if (m_groups_needed > k_inline_groups) {
    many_groups.resize(static_cast<std::size_t>(m_groups_needed));
    groups = many_groups.data();
  }
  if (!m_regexp->Match(text, 0, text.size(), RE2::UNANCHORED, groups, m_groups_needed)) {
    return false;
  }
  scratch.clear();
  for (const Piece& piece : m_template) {
    scratch += piece.literal;
    for (int index : piece.groups) {
      const re2::StringPiece& g = groups[index];
      if (g.data() != nullptr) { // a group that took no part in the match expands to nothing
        scratch.append(g.data(), g.size());
        break;
      }
    }
  }
  value = scratch;
  return true;
}

// ---- Go strconv.ParseFloat ----

namespace {

// Go's strconv.underscoreOK: '_' only between digits (or after a base prefix).
bool underscores_ok(std::string_view s) noexcept {
  char saw = '^';
  std::size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    s.remove_prefix(1);
  }
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if (is_digit(s[i]) || (hex && is_hex_letter(s[i]))) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') {
        return false;
      }
      saw = '_';
      continue;
    }
    if (saw == '_') {
      return false;
    }
    saw = '!';
  }
  return saw != '_';
}

std::size_t common_prefix_ignore_case(std::string_view s, std::string_view prefix) noexcept {
  std::size_t n = 0;
  while (n < s.size() && n < prefix.size() && lower(s[n]) == prefix[n]) {
    ++n;
  }
  return n;
}

// Whether an out-of-range literal overflows (true) or underflows (false): the sign of the
// position of its first significant digit plus its exponent is enough to tell.
bool overflows(std::string_view body, bool hex) noexcept {
  const char exp_char = hex ? 'p' : 'e';
  std::size_t exp_at = 0;
  while (exp_at < body.size() && lower(body[exp_at]) != exp_char) {
    ++exp_at;
  }
  std::int64_t exponent = 0;
  if (exp_at < body.size()) {
    std::string_view e = body.substr(exp_at + 1);
    const bool negative = !e.empty() && e.front() == '-';
    if (!e.empty() && (e.front() == '-' || e.front() == '+')) {
      e.remove_prefix(1);
    }
    for (char c : e) {
      exponent = std::min<std::int64_t>(exponent * 10 + (c - '0'), 1'000'000'000);
    }
    exponent = negative ? -exponent : exponent;
  }
  std::int64_t position = 0; // digits before the point from the first significant one
  bool seen_point = false;
  bool significant = false;
  for (std::size_t i = 0; i < exp_at; ++i) {
    if (body[i] == '.') {
      seen_point = true;
    } else if (body[i] != '0' || significant) {
      if (!significant) {
        significant = true;
        if (seen_point) {
          break;
        }
      }
      if (!seen_point) {
        ++position;
      }
    } else if (seen_point) {
      --position;
    }
  }
  return position * (hex ? 4 : 1) + exponent > 0;
}

} // namespace

std::optional<double> parse_go_float(std::string_view s) noexcept {
  if (s.empty()) {
    return std::nullopt;
  }
  // Go's special(): [+-]inf, [+-]infinity, nan (any case).
  {
    const bool signed_ = s[0] == '+' || s[0] == '-';
    const std::string_view rest = s.substr(signed_ ? 1 : 0);
    std::size_t n = common_prefix_ignore_case(rest, "infinity");
    if (n > 3 && n < 8) {
      n = 3;
    }
    if (n == 3 || n == 8) {
      if (n != rest.size()) {
        return std::nullopt;
      }
      return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
    }
    if (!signed_ && common_prefix_ignore_case(s, "nan") == 3) {
      if (s.size() != 3) {
        return std::nullopt;
      }
      return std::numeric_limits<double>::quiet_NaN();
    }
  }

  // Go's readFloat, syntax only.
  std::size_t i = 0;
  const bool negative = s[0] == '-';
  if (s[0] == '+' || s[0] == '-') {
    ++i;
  }
  bool hex = false;
  if (i + 2 < s.size() && s[i] == '0' && lower(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  const std::size_t body_start = i;
  bool underscores = false;
  bool saw_dot = false;
  bool saw_digits = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (saw_dot) {
        break;
      }
      saw_dot = true;
    } else if (is_digit(c) || (hex && is_hex_letter(c))) {
      saw_digits = true;
    } else {
      break;
    }
  }
  if (!saw_digits) {
    return std::nullopt;
  }
  if (i < s.size() && lower(s[i]) == (hex ? 'p' : 'e')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    if (i >= s.size() || !is_digit(s[i])) {
      return std::nullopt;
    }
    for (; i < s.size() && (is_digit(s[i]) || s[i] == '_'); ++i) {
      underscores = underscores || s[i] == '_';
    }
  } else if (hex) {
    return std::nullopt; // a hexadecimal mantissa needs a 'p' exponent
  }
  if (i != s.size() || (underscores && !underscores_ok(s))) {
    return std::nullopt;
  }

  // The value: std::from_chars rounds correctly, as Go does. It takes neither a sign nor "0x".
  std::string cleaned;
  std::string_view body = s.substr(body_start);
  if (underscores) {
    for (char c : body) {
      if (c != '_') {
        cleaned += c;
      }
    }
    body = cleaned;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value,
                                         hex ? std::chars_format::hex : std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    if (overflows(body, hex)) {
      return std::nullopt; // Go: ±Inf with ErrRange, an error for Flux
    }
    value = 0; // Go rounds an underflow to zero without an error
  } else if (ec != std::errc{} || end != body.data() + body.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

} // namespace common::policy::detail
