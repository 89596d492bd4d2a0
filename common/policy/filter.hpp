// Internal to the policy module (not part of its API): the tag filters of the pipeline in
// policy.hpp and Go's strconv.ParseFloat. RE2 stays behind a pointer so that only filter.cpp
// includes it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace re2 {
class RE2;
}

namespace common::policy::detail {

// Argo CD Image Updater's allow-tags: "" or "any" (any case) allow every tag; "regexp:<RE2>"
// (prefix in any case) allows the tags the expression matches anywhere. Unlike the anchor,
// which silently allows nothing, an unknown form or an invalid expression fails
// (invalid_input, naming the value).
class AllowTags {
public:
  static util::Result<AllowTags> compile(std::string_view expression);
  bool allows_all() const noexcept { return m_regexp == nullptr; }
  bool allows(std::string_view tag) const noexcept;

  AllowTags(AllowTags&&) noexcept;
  AllowTags& operator=(AllowTags&&) noexcept;
  ~AllowTags();

private:
  AllowTags();
  std::unique_ptr<re2::RE2> m_regexp; // null: everything is allowed
};

// Flux's filterTags: an RE2 pattern matched anywhere, and an optional extract template in Go's
// Regexp.ExpandString syntax ($name, ${name}, $1, ${1}, $$). Deviations from Go, all compile
// errors: a reference to a group the pattern does not have (Go expands it to nothing, which
// collapses every tag into one value), "${" without its '}' or with an empty name, and an
// extract without a pattern. A group that exists but did not take part in the match expands to
// nothing, as in Go. Names are ASCII letters, digits and '_' (Go also takes Unicode letters).
// Errors (invalid_input) carry the option at fault as their field ("filterTags.pattern" or
// "filterTags.extract", Flux's names) in Error::where.
class TagPattern {
public:
  static util::Result<TagPattern> compile(std::string_view pattern, std::string_view extract);

  // False when the pattern does not match. Otherwise `value` is the tag itself, or the
  // expansion written into `scratch` (reused across calls to avoid allocation).
  bool apply(std::string_view tag, std::string& scratch, std::string_view& value) const;
  bool extracts() const noexcept { return m_extracts; }

  TagPattern(TagPattern&&) noexcept;
  TagPattern& operator=(TagPattern&&) noexcept;
  ~TagPattern();

private:
  struct Piece {
    std::string literal;     // appended first
    std::vector<int> groups; // then the text of the first of these that took part in the match
  };
  TagPattern();
  std::unique_ptr<re2::RE2> m_regexp;
  std::vector<Piece> m_template;
  int m_groups_needed = 0; // 1 + the highest group the template references
  bool m_extracts = false;
};

// Go's strconv.ParseFloat(text, 64): decimal and hexadecimal (with a 'p' exponent) Go float
// literals with '_' between digits, an optional sign, "inf"/"infinity" (signed) and "nan", in
// any case. Empty when Go returns an error (syntax, or a value too large for a double).
std::optional<double> parse_go_float(std::string_view text) noexcept;

} // namespace common::policy::detail
