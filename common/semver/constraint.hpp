// Version constraints with the full Masterminds/semver v3.4.0 grammar:
//   "||" separates OR groups; inside a group constraints are ANDed, separated by spaces or ','.
//   Operators: = (or none), !=, >, <, >=, =>, <=, =<, ~, ~>, ^.
//   Versions may be partial or wildcarded (1, 1.2, 1.x, 1.2.*, *), with -pre and +meta.
//   Hyphen ranges "A - B" (spaces required) mean ">= A, <= B".
//   A missing or wildcard part makes the constraint "dirty" from that part on: "1.2" and "1.2.x"
//   mean ~1.2.0, ">11" means >=12.0.0, "<=1.1" means <1.2.0, "!=4.1" excludes 4.1.*.
// Pre-release rule: a version with a pre-release satisfies an AND group only when some
// constraint of that group carries a pre-release itself (e.g. "*-0", ">=1.0.0-0", "2.x-0").
// Quirks kept for compatibility: with a wildcard major, the operators other than =, ~ and >=
// read "*" as 0.0.0 ("^*" matches only 0.0.0, "<=*" only 0.0.x, "!=*" all but 0.0.0), and the
// hyphen-range rewrite is textual ("=1 - 2" is an error).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/semver/version.hpp"
#include "common/util/error.hpp"

namespace common::semver {

class Constraint {
public:
  // Parses a constraint. The empty string is an error here (as NewConstraint); callers that
  // treat "no constraint" as "*" (the anchors do) pass "*". Errors are invalid_input and
  // name the offending part, e.g. `improper constraint: "latest"`.
  static util::Result<Constraint> parse(std::string_view text);

  // True when the version satisfies the constraint (Masterminds Check, IncludePrerelease off).
  // Never allocates; false on a moved-from constraint.
  bool check(const Version& v) const noexcept;

  // The text the constraint was parsed from.
  const std::string& text() const noexcept;

  Constraint(Constraint&&) noexcept;
  Constraint& operator=(Constraint&&) noexcept;
  Constraint(const Constraint&);
  Constraint& operator=(const Constraint&);
  ~Constraint();

private:
  struct Impl;
  explicit Constraint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace common::semver
