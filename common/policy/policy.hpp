// Tag policies: given the tags of one repository, choose the one to deploy, the way Argo CD
// Image Updater and Flux's image-reflector-controller do, and explain the choice.
//
// Pipeline for every tag, in order (the first rule that drops a tag is its reason):
//   1. signature/attestation tags (*.sig, *.att, *.sbom) are dropped unless disabled;
//   2. allow_tags: "" or "any" keeps all; "regexp:<RE2>" keeps tags it matches anywhere
//      (unanchored, prefix case-insensitive);
//   3. ignore_tags: a tag matching any glob is dropped;
//   4. Flux filterTags: the pattern (RE2, unanchored) must match; when extract is set the
//      policy sees the expansion ("$name", "${1}") instead of the tag;
//   5. the strategy: semver parses (lenient or Flux's three-part) and checks the constraint
//      (empty = "*"); numerical parses a number; digest keeps only the tag equal to the
//      constraint; newest-build needs a created time.
// Then the best survivor wins: semver highest version, ties broken by the greatest original
// text; newest-build latest created, ties by greatest name; alphabetical greatest (asc) or
// least (desc) byte-wise; numerical greatest (asc) or least (desc), equal values: later tag
// in the input wins. Pure: no I/O.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/policy/strategy.hpp"
#include "common/util/error.hpp"
#include "common/util/time.hpp"

namespace common::policy {

using Timestamp = util::Timestamp;

struct Options {
  Strategy strategy = Strategy::semver;
  std::string constraint; // semver constraint ("" = "*"); for digest: the tag to track
  SemverDialect dialect = SemverDialect::masterminds;
  Order order = Order::asc;             // alphabetical and numerical
  std::string allow_tags;               // "", "any" or "regexp:<re>"
  std::vector<std::string> ignore_tags; // globs
  std::string filter_pattern;           // Flux filterTags.pattern, "" = none
  std::string filter_extract;           // Flux filterTags.extract, "" = the tag itself
  bool exclude_signature_tags = true;   // drop *.sig, *.att, *.sbom
};

// A tag as listed by a registry. The name is borrowed: the caller keeps the text alive.
struct Tag {
  std::string_view name;
  std::optional<Timestamp> created; // needed by newest-build only
};

// Why a tag was kept or dropped, for --explain.
struct Verdict {
  std::string tag;
  bool kept = false;
  std::string reason; // "satisfies ^1.2", "ignored by glob *-dev", "not a semantic version", ...
};

struct Selection {
  std::string tag;   // the chosen tag, as listed
  std::string value; // what the strategy compared: the tag, or the filterTags extraction
};

class Policy {
public:
  // Compiles the options. Fails (invalid_input, naming the option and value) on an invalid
  // constraint, allow_tags expression or regexp, glob, filter pattern or extract template, or
  // a digest strategy without a tag to track. Where the anchors silently match nothing we fail
  // instead: an allow_tags that is neither "", "any" nor "regexp:..."; an extract naming a
  // group the pattern does not have, an unterminated "${", or an extract without a pattern.
  // Filter errors name their option in Error::where->field (TagPattern::compile).
  static util::Result<Policy> compile(const Options& options);

  // Chooses among the tags. When `explain` is given, one verdict per input tag is appended, in
  // input order (kept = survived every step; the Selection names the winner). Fails with
  // not_found ("no tag qualifies among N tags: 3 not a semantic version, 2 outside constraint
  // ^1.2, ...", counts per reason, the largest first, ties by text) when no tag survives, and
  // with invalid_input, naming the tag, for a numerical policy that meets a non-number or a
  // newest-build policy that meets a tag without a created time; the verdicts then stop at
  // that tag. Runs in one pass without sorting; with explain == nullptr it builds no text.
  util::Result<Selection> select(std::span<const Tag> tags,
                                 std::vector<Verdict>* explain = nullptr) const;

  // Indices (in input order) of the tags that pass the filters (steps 1 to 4 above), before
  // the strategy's own test. A resolver fetches newest-build metadata for these tags only.
  std::vector<std::size_t> candidates(std::span<const Tag> tags) const;

  const Options& options() const noexcept;

  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  ~Policy();

private:
  struct Impl;
  explicit Policy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace common::policy
