#include "common/semver/constraint.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/semver/detail.hpp"
#include "common/util/strings.hpp"

// A port of Masterminds/semver v3.4.0 constraints.go without its regexes. NewConstraint there is
//   1. rewriteRange: every match of  \s*(CV)\s+-\s+(CV)\s*  becomes ">= A, <= B " (each replaced
//      at the first occurrence of its matched text, as strings.Replace(o, m, t, 1) does);
//   2. strings.Split(c, "||");
//   3. per segment, validation by  ^\s*OP\s*CV\s*((\s+|,\s*)OP\s*CV\s*)*$  and tokens by
//      FindAll(OP\s*CV), where OP is one of = != > < >= => <= =< ~ ~> ^ or nothing and
//      CV = v?P(\.P)?(\.P)?(-I(\.I)*)?(\+I(\.I)*)?  with P = [0-9xX*|]+ and I = [0-9A-Za-z-]+
//      (the '|' in P is a quirk of the original character class "[0-9|x|X|\*]");
//   4. parseConstraint: a wildcard or missing part makes the constraint dirty from that part on
//      and the version is rebuilt as "0.0.0", "M.0.0" or "M.m.0" plus the pre-release (the
//      metadata and whatever followed the wildcard are dropped), then parsed by NewVersion.
// The scanners below reproduce what those regexes match (Go's leftmost-first semantics; a CV
// never contains a space or a comma, so a greedy scan is what backtracking would settle on).
// The result is precompiled: a vector of OR groups, each a vector of atoms with their operator
// as an enum and the bound as a parsed Version, so check() only compares integers and, rarely,
// pre-release strings, and never allocates.

namespace common::semver {

namespace {

enum class Op : std::uint8_t {
  tilde_or_equal, // "" and "=": equality, or tilde when dirty
  not_equal,      // "!="
  greater,        // ">"
  less,           // "<"
  greater_equal,  // ">=" and "=>"
  less_equal,     // "<=" and "=<"
  tilde,          // "~" and "~>"
  caret,          // "^"
};

// Go's regexp \s: [\t\n\f\r ] (no vertical tab).
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

constexpr bool is_part_char(char c) noexcept {
  return (c >= '0' && c <= '9') || c == 'x' || c == 'X' || c == '*' || c == '|';
}

constexpr bool is_ident_char(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

constexpr bool is_x(std::string_view s) noexcept {
  return s == "x" || s == "X" || s == "*";
}

std::size_t skip_spaces(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && is_space(s[i])) {
    ++i;
  }
  return i;
}

// One CV match: the parts as the regex groups hold them, without their leading '.'.
struct CvMatch {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string_view major;
  std::string_view minor;           // empty when absent
  std::string_view patch;           // empty when absent
  std::string_view dash_prerelease; // "-pre" with its dash, empty when absent
};

// I(\.I)* from i, greedy; the caller has checked that s[i] is an identifier byte.
std::size_t scan_identifiers(std::string_view s, std::size_t i) noexcept {
  const std::size_t n = s.size();
  while (i < n && is_ident_char(s[i])) {
    ++i;
  }
  while (i + 1 < n && s[i] == '.' && is_ident_char(s[i + 1])) {
    i += 2;
    while (i < n && is_ident_char(s[i])) {
      ++i;
    }
  }
  return i;
}

// Matches CV at exactly position pos (greedy, as leftmost-first regex matching settles on).
std::optional<CvMatch> match_cv(std::string_view s, std::size_t pos) noexcept {
  const std::size_t n = s.size();
  const auto starts = [&](std::size_t i, char lead, auto&& body_char) {
    return i + 1 < n && s[i] == lead && body_char(s[i + 1]);
  };
  const auto part_char = [](char c) { return is_part_char(c); };
  const auto ident_char = [](char c) { return is_ident_char(c); };
  const auto scan_part = [&](std::size_t i) {
    while (i < n && is_part_char(s[i])) {
      ++i;
    }
    return i;
  };

  CvMatch m;
  m.begin = pos;
  std::size_t i = pos;
  if (starts(i, 'v', part_char)) {
    ++i;
  }
  std::size_t e = scan_part(i);
  if (e == i) {
    return std::nullopt;
  }
  m.major = s.substr(i, e - i);
  i = e;
  if (starts(i, '.', part_char)) {
    e = scan_part(i + 1);
    m.minor = s.substr(i + 1, e - i - 1);
    i = e;
    if (starts(i, '.', part_char)) {
      e = scan_part(i + 1);
      m.patch = s.substr(i + 1, e - i - 1);
      i = e;
    }
  }
  if (starts(i, '-', ident_char)) {
    e = scan_identifiers(s, i + 1);
    m.dash_prerelease = s.substr(i, e - i);
    i = e;
  }
  if (starts(i, '+', ident_char)) {
    i = scan_identifiers(s, i + 1);
  }
  m.end = i;
  return m;
}

// rewriteRange: FindAllStringSubmatch over the original text, then one strings.Replace(o, match,
// ">= A, <= B ", 1) per match on the text rewritten so far.
std::string rewrite_ranges(std::string_view in) {
  std::string out(in);
  const std::size_t n = in.size();
  std::size_t p = 0;
  while (p < n) {
    // A match starting at p skips p's run of spaces, so a failed attempt fails for every start
    // up to the first non-space: resume after it.
    const std::size_t q = skip_spaces(in, p);
    const auto lo = match_cv(in, q);
    std::optional<CvMatch> hi;
    std::size_t i = 0;
    if (lo) {
      i = skip_spaces(in, lo->end);
      if (i > lo->end && i < n && in[i] == '-') {
        const std::size_t after_dash = i + 1;
        i = skip_spaces(in, after_dash);
        if (i > after_dash) {
          hi = match_cv(in, i);
        }
      }
    }
    if (!hi) {
      p = q + 1;
      continue;
    }
    const std::size_t end = skip_spaces(in, hi->end);
    const std::string_view matched = in.substr(p, end - p);
    std::string replacement = ">= ";
    replacement += in.substr(lo->begin, lo->end - lo->begin);
    replacement += ", <= ";
    replacement += in.substr(hi->begin, hi->end - hi->begin);
    replacement += ' ';
    if (const auto at = out.find(matched); at != std::string::npos) {
      out.replace(at, matched.size(), replacement);
    }
    p = end;
  }
  return out;
}

struct Atom {
  Op op = Op::tilde_or_equal;
  bool dirty = false;       // some part is a wildcard or missing
  bool minor_dirty = false; // from the minor part on ("1", "1.x")
  bool patch_dirty = false; // the patch part only ("1.2", "1.2.x")
  Version con;
};

struct Group {
  std::vector<Atom> atoms;
  bool include_prerelease = false; // some atom's version has a pre-release (v3.4.0, #267)
};

// The operator at i (longest first; a shorter one could never be followed by a CV there).
Op match_op(std::string_view s, std::size_t& i) noexcept {
  struct Entry {
    std::string_view text;
    Op op;
  };
  static constexpr Entry k_ops[] = {
      {"!=", Op::not_equal},     {">=", Op::greater_equal}, {"=>", Op::greater_equal},
      {"<=", Op::less_equal},    {"=<", Op::less_equal},    {"~>", Op::tilde},
      {"=", Op::tilde_or_equal}, {">", Op::greater},        {"<", Op::less},
      {"~", Op::tilde},          {"^", Op::caret},
  };
  for (const Entry& e : k_ops) {
    if (s.substr(i).starts_with(e.text)) {
      i += e.text.size();
      return e.op;
    }
  }
  return Op::tilde_or_equal;
}

std::string improper(std::string_view segment, std::string_view whole) {
  std::string message = "improper constraint: " + util::quote(segment);
  if (segment != whole) {
    message += " in " + util::quote(whole);
  }
  return message;
}

// parseConstraint for one token.
util::Result<Atom> make_atom(Op op, std::string_view segment, const CvMatch& m,
                             std::string_view whole) {
  Atom atom;
  atom.op = op;
  std::string rebuilt;
  if (is_x(m.major)) {
    atom.dirty = true;
    rebuilt = "0.0.0";
  } else if (m.minor.empty() || is_x(m.minor)) {
    atom.dirty = atom.minor_dirty = true;
    rebuilt.append(m.major).append(".0.0");
  } else if (m.patch.empty() || is_x(m.patch)) {
    atom.dirty = atom.patch_dirty = true;
    rebuilt.append(m.major).append(".").append(m.minor).append(".0");
  }
  const std::string_view cv = segment.substr(m.begin, m.end - m.begin);
  if (atom.dirty) {
    rebuilt.append(m.dash_prerelease);
  }
  auto con = parse(atom.dirty ? std::string_view(rebuilt) : cv);
  if (!con) {
    return util::fail(util::ErrorKind::invalid_input,
                      improper(cv, whole) + ": " + con.error().message);
  }
  atom.con = std::move(*con);
  return atom;
}

// Validates one "||" segment and turns its tokens into a group.
util::Result<Group> parse_group(std::string_view segment, std::string_view whole) {
  Group group;
  const std::size_t n = segment.size();
  std::size_t i = skip_spaces(segment, 0);
  for (;;) {
    const Op op = match_op(segment, i);
    i = skip_spaces(segment, i);
    const auto m = match_cv(segment, i);
    if (!m) {
      return util::fail(util::ErrorKind::invalid_input, improper(segment, whole));
    }
    auto atom = make_atom(op, segment, *m, whole);
    if (!atom) {
      return std::unexpected(std::move(atom.error()));
    }
    group.include_prerelease = group.include_prerelease || !atom->con.prerelease.empty();
    group.atoms.push_back(std::move(*atom));

    // Between constraints: spaces, or one comma with optional spaces around it.
    const std::size_t cv_end = m->end;
    i = skip_spaces(segment, cv_end);
    if (i == n) {
      return group;
    }
    if (segment[i] == ',') {
      i = skip_spaces(segment, i + 1);
    } else if (i == cv_end) {
      return util::fail(util::ErrorKind::invalid_input, improper(segment, whole));
    }
  }
}

// The constraint functions of constraints.go, after the group's pre-release gate.
bool tilde(const Atom& a, const Version& v) noexcept {
  const Version& c = a.con;
  if (compare(v, c) < 0) {
    return false;
  }
  // ~0.0.0 (and "*", "~*", whose wildcard major leaves both flags unset) accept everything.
  if (c.major == 0 && c.minor == 0 && c.patch == 0 && !a.minor_dirty && !a.patch_dirty) {
    return true;
  }
  if (v.major != c.major) {
    return false;
  }
  return v.minor == c.minor || a.minor_dirty;
}

bool not_equal(const Atom& a, const Version& v) noexcept {
  const Version& c = a.con;
  if (a.dirty) {
    if (c.major != v.major) {
      return true;
    }
    if (c.minor != v.minor && !a.minor_dirty) {
      return true;
    }
    if (a.minor_dirty) {
      return false;
    }
    if (c.patch != v.patch && !a.patch_dirty) {
      return true;
    }
    if (a.patch_dirty) {
      // Same major.minor: only a different pre-release tells them apart.
      if (!v.prerelease.empty() || !c.prerelease.empty()) {
        return detail::compare_prerelease(v.prerelease, c.prerelease) != 0;
      }
      return false;
    }
    // A wildcard major ("!=*") falls through to plain inequality with 0.0.0.
  }
  return compare(v, c) != 0;
}

bool greater(const Atom& a, const Version& v) noexcept {
  const Version& c = a.con;
  if (!a.dirty) {
    return compare(v, c) > 0;
  }
  if (v.major != c.major) {
    return v.major > c.major;
  }
  if (a.minor_dirty) {
    return false; // ">11" needs 12 or more
  }
  if (a.patch_dirty) {
    return v.minor > c.minor; // ">11.1" needs 11.2 or more
  }
  return compare(v, c) > 0;
}

bool less_equal(const Atom& a, const Version& v) noexcept {
  const Version& c = a.con;
  if (!a.dirty) {
    return compare(v, c) <= 0;
  }
  if (v.major > c.major) {
    return false;
  }
  return !(v.major == c.major && v.minor > c.minor && !a.minor_dirty);
}

bool caret(const Atom& a, const Version& v) noexcept {
  const Version& c = a.con;
  if (compare(v, c) < 0) {
    return false;
  }
  if (c.major > 0 || a.minor_dirty) {
    return v.major == c.major;
  }
  if (v.major > 0) {
    return false;
  }
  if (c.minor > 0 || a.patch_dirty) {
    return v.minor == c.minor;
  }
  if (v.minor > 0) {
    return false;
  }
  return v.patch == c.patch;
}

bool check_atom(const Atom& a, const Version& v) noexcept {
  switch (a.op) {
  case Op::tilde_or_equal:
    return a.dirty ? tilde(a, v) : compare(v, a.con) == 0;
  case Op::not_equal:
    return not_equal(a, v);
  case Op::greater:
    return greater(a, v);
  case Op::less:
    return compare(v, a.con) < 0;
  case Op::greater_equal:
    return compare(v, a.con) >= 0;
  case Op::less_equal:
    return less_equal(a, v);
  case Op::tilde:
    return tilde(a, v);
  case Op::caret:
    return caret(a, v);
  }
  return false;
}

} // namespace

struct Constraint::Impl {
  std::string text;
  std::vector<Group> groups;
};

util::Result<Constraint> Constraint::parse(std::string_view text) {
  auto impl = std::make_unique<Impl>();
  impl->text.assign(text);
  const std::string rewritten = rewrite_ranges(text);
  const std::string_view rest_all = rewritten;
  std::size_t start = 0;
  for (;;) {
    const auto bar = rest_all.find("||", start);
    const std::string_view segment = rest_all.substr(
        start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    auto group = parse_group(segment, text);
    if (!group) {
      return std::unexpected(std::move(group.error()));
    }
    impl->groups.push_back(std::move(*group));
    if (bar == std::string_view::npos) {
      break;
    }
    start = bar + 2;
  }
  return Constraint(std::move(impl));
}

bool Constraint::check(const Version& v) const noexcept {
  if (!m_impl) {
    return false;
  }
  const bool has_prerelease = !v.prerelease.empty();
  for (const Group& group : m_impl->groups) {
    // Every constraint function of v3.4.0 starts by refusing a pre-release unless the group
    // includes them, so the whole group fails at once.
    if (has_prerelease && !group.include_prerelease) {
      continue;
    }
    bool all = true;
    for (const Atom& atom : group.atoms) {
      if (!check_atom(atom, v)) {
        all = false;
        break;
      }
    }
    if (all) {
      return true;
    }
  }
  return false;
}

const std::string& Constraint::text() const noexcept {
  static const std::string k_empty;
  return m_impl ? m_impl->text : k_empty;
}

Constraint::Constraint(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Constraint::Constraint(Constraint&&) noexcept = default;
Constraint& Constraint::operator=(Constraint&&) noexcept = default;
Constraint::Constraint(const Constraint& other)
    : m_impl(other.m_impl ? std::make_unique<Impl>(*other.m_impl) : nullptr) {}
Constraint& Constraint::operator=(const Constraint& other) {
  if (this != &other) {
    m_impl = other.m_impl ? std::make_unique<Impl>(*other.m_impl) : nullptr;
  }
  return *this;
}
Constraint::~Constraint() = default;

} // namespace common::semver
