#include "common/policy/policy.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "common/policy/filter.hpp"
#include "common/policy/glob.hpp"
#include "common/semver/constraint.hpp"
#include "common/semver/version.hpp"

// select() is one pass over the tags that keeps the best candidate so far: no sort, no
// per-tag allocation beyond semver::parse's result, and reasons kept as an enum and counters.
// Reason text is built only for --explain and for the "no tag qualifies" error.

namespace common::policy {
namespace {

enum class Reason : std::uint8_t {
  kept,
  signature,
  not_allowed,
  ignored, // by the glob at `glob` in the verdict
  filtered,
  not_semver,
  prerelease, // a pre-release under a constraint without one
  outside_constraint,
  not_tracked,
  not_number, // fatal (numerical)
  no_created, // fatal (newest-build)
};
constexpr std::size_t k_reason_count = 11;
static_assert(static_cast<std::size_t>(Reason::no_created) + 1 == k_reason_count);

// cosign's tags: sha256-<digest>.sig, .att and .sbom. The last byte picks the one suffix to test.
bool is_signature_tag(std::string_view tag) noexcept {
  if (tag.empty()) {
    return false;
  }
  switch (tag.back()) {
  case 'g':
    return tag.ends_with(".sig");
  case 't':
    return tag.ends_with(".att");
  case 'm':
    return tag.ends_with(".sbom");
  default:
    return false;
  }
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// The numeric prefix of a possible version: what semver::parse's grammar (an optional 'v', one
// to three dot-separated numbers, then only "-pre" or "+meta") says before any allocation.
// `possible` false means parse would fail; when it is true and parse succeeds, the version has
// exactly this major.minor.patch (when `known`: a part of 20 digits is left to parse).
struct Triple {
  bool possible = false;
  bool known = true;
  bool plain = false; // nothing follows the numbers: a release without pre-release or metadata
  bool pre = false;   // a '-' follows the numbers: a pre-release
  std::uint64_t part[3] = {0, 0, 0};
};

Triple scan_triple(std::string_view text) noexcept {
  Triple out;
  const std::size_t n = text.size();
  std::size_t i = 0;
  if (i < n && text[i] == 'v') {
    ++i;
  }
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      if (i + 1 >= n || text[i] != '.' || !is_digit(text[i + 1])) {
        break;
      }
      ++i;
    }
    const std::size_t begin = i;
    std::uint64_t value = 0;
    while (i < n && is_digit(text[i])) {
      value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
      ++i;
    }
    if (i == begin) {
      return out; // no number where the first one must be
    }
    if (i - begin > 19) {
      out.known = false; // may or may not fit 64 bits: let parse decide
    }
    out.part[k] = value;
  }
  out.possible = i == n || text[i] == '-' || text[i] == '+';
  out.plain = i == n;
  out.pre = i < n && text[i] == '-';
  return out;
}

// Compares major.minor.patch only: -1, 0 or 1.
int compare_release(const Triple& t, const semver::Version& v) noexcept {
  const std::uint64_t w[3] = {v.major, v.minor, v.patch};
  for (int k = 0; k < 3; ++k) {
    if (t.part[k] != w[k]) {
      return t.part[k] < w[k] ? -1 : 1;
    }
  }
  return 0;
}

// The semver strategy's step: classifies one value and keeps the best version so far.
//
// Most of the cost of a semver policy is parse(), so it runs only when needed:
//  - scan_triple() rejects what cannot parse and reads major.minor.patch without allocating;
//  - a plain release ("1.2.3", "v1.2") is fully known from the scan: the probe below is the
//    version parse() would return (Masterminds dialect only; Flux's parse has rules of its own);
//  - in "shortcut" mode (no explain wanted and a best exists), a tag that cannot beat the best
//    is dropped uncounted, as is a pre-release when the constraint has no '-' (then no part of
//    it carries a pre-release, so no pre-release satisfies it). The counts only feed the error
//    that says why *no* tag qualified, which cannot happen once a best exists.
class SemverChooser {
public:
  SemverChooser(const semver::Constraint& constraint, SemverDialect dialect,
                bool constraint_takes_prereleases)
      : m_constraint(constraint), m_dialect(dialect),
        m_takes_prereleases(constraint_takes_prereleases) {}

  // The reason for the value (Reason::kept when it satisfies the constraint), or nothing when
  // it was dropped in shortcut mode.
  std::optional<Reason> consider(std::string_view value, std::size_t index, bool explaining) {
    const Triple triple = scan_triple(value);
    if (!triple.possible) {
      return Reason::not_semver;
    }
    const bool shortcut = !explaining && m_best.has_value();
    const int release = m_best && triple.known ? compare_release(triple, *m_best) : 1;
    if (shortcut && (release < 0 || (triple.pre && !m_takes_prereleases))) {
      return std::nullopt;
    }

    const semver::Version* version = &m_probe;
    util::Result<semver::Version> parsed = std::unexpected(util::Error{});
    if (triple.plain && triple.known && m_dialect == SemverDialect::masterminds) {
      m_probe.major = triple.part[0];
      m_probe.minor = triple.part[1];
      m_probe.patch = triple.part[2];
      m_probe.original.assign(value);
    } else {
      parsed = m_dialect == SemverDialect::flux ? semver::parse_flux(value) : semver::parse(value);
      if (!parsed) {
        return Reason::not_semver;
      }
      version = &*parsed;
    }
    // A higher release beats any version of a lower one; equal releases need the full order.
    const bool beats = !m_best || (triple.known && release != 0
                                       ? release > 0
                                       : semver::compare_with_tiebreak(*version, *m_best) >= 0);
    if (shortcut && !beats) {
      return std::nullopt;
    }
    if (!version->prerelease.empty() && !m_takes_prereleases) {
      // Masterminds would say "outside constraint"; users need to hear why (#426, #1535).
      return Reason::prerelease;
    }
    if (!m_constraint.check(*version)) {
      return Reason::outside_constraint;
    }
    if (beats) {
      if (version == &m_probe) {
        m_best = m_probe; // copies into storage that is reused
      } else {
        m_best = std::move(*parsed);
      }
      m_best_index = index;
    }
    return Reason::kept;
  }

  bool has_best() const noexcept { return m_best.has_value(); }
  std::size_t best_index() const noexcept { return m_best_index; }
  const semver::Version& best() const noexcept { return *m_best; }

private:
  const semver::Constraint& m_constraint;
  SemverDialect m_dialect;
  bool m_takes_prereleases;
  semver::Version m_probe; // a plain release; its pre-release and metadata stay ""
  std::optional<semver::Version> m_best;
  std::size_t m_best_index = 0;
};

} // namespace

struct Policy::Impl {
  Impl(const Options& o, detail::AllowTags a) : options(o), allow(std::move(a)) {}

  Options options;
  detail::AllowTags allow;
  std::vector<Glob> ignore;
  std::optional<detail::TagPattern> filter;
  std::optional<semver::Constraint> constraint; // semver only
  std::string constraint_text;                  // as shown in reasons: "*" for ""
  bool constraint_takes_prereleases = false;    // the constraint has a '-' somewhere

  // Steps 1 to 4 of the pipeline, cheapest first. On Reason::kept, `value` is what the strategy
  // sees (the tag, or its extraction in `scratch`); on Reason::ignored, `glob` is the index.
  Reason filter_tag(std::string_view tag, std::string& scratch, std::string_view& value,
                    std::size_t& glob) const {
    if (options.exclude_signature_tags && is_signature_tag(tag)) {
      return Reason::signature;
    }
    if (!allow.allows_all() && !allow.allows(tag)) {
      return Reason::not_allowed;
    }
    for (glob = 0; glob < ignore.size(); ++glob) {
      if (ignore[glob].matches(tag)) {
        return Reason::ignored;
      }
    }
    if (!filter) {
      value = tag;
    } else if (!filter->apply(tag, scratch, value)) {
      return Reason::filtered;
    }
    return Reason::kept;
  }

  // The not_found error: how many tags each reason dropped, the most common reason first.
  util::Error nothing_qualifies(std::size_t tag_count,
                                const std::array<std::size_t, k_reason_count>& counts,
                                const std::vector<std::size_t>& glob_counts) const {
    if (tag_count == 0) {
      return {util::ErrorKind::not_found, "no tag qualifies: there are no tags"};
    }
    std::vector<std::pair<std::size_t, std::string>> why;
    for (std::size_t r = 0; r < k_reason_count; ++r) {
      if (counts[r] != 0 && static_cast<Reason>(r) != Reason::ignored) {
        why.emplace_back(counts[r], reason_text(static_cast<Reason>(r), 0));
      }
    }
    for (std::size_t g = 0; g < glob_counts.size(); ++g) {
      if (glob_counts[g] != 0) {
        why.emplace_back(glob_counts[g], reason_text(Reason::ignored, g));
      }
    }
    std::sort(why.begin(), why.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::string message = "no tag qualifies among " + std::to_string(tag_count) +
                          (tag_count == 1 ? " tag: " : " tags: ");
    for (std::size_t k = 0; k < why.size(); ++k) {
      message += k == 0 ? "" : ", ";
      message += std::to_string(why[k].first) + " " + why[k].second;
    }
    return {util::ErrorKind::not_found, std::move(message)};
  }

  // The text of a reason, without the extracted value.
  std::string reason_text(Reason reason, std::size_t glob) const {
    switch (reason) {
    case Reason::kept:
      return "kept";
    case Reason::signature:
      return "signature or attestation tag";
    case Reason::not_allowed:
      return "not allowed by " + options.allow_tags;
    case Reason::ignored:
      return "ignored by glob " + ignore[glob].pattern();
    case Reason::filtered:
      return "not matched by filterTags pattern " + options.filter_pattern;
    case Reason::not_semver:
      return "not a semantic version";
    case Reason::prerelease:
      return "pre-release, excluded by " + constraint_text + " (" + constraint_text +
             "-0 includes pre-releases)";
    case Reason::outside_constraint:
      return "outside constraint " + constraint_text;
    case Reason::not_tracked:
      return "not the tracked tag " + options.constraint;
    case Reason::not_number:
      return "not a number";
    case Reason::no_created:
      return "no created time";
    }
    return "";
  }

  std::string kept_text(const Tag& tag) const {
    switch (options.strategy) {
    case Strategy::semver:
      return "satisfies " + constraint_text;
    case Strategy::newest_build:
      return "created " + util::format_rfc3339(*tag.created);
    case Strategy::digest:
      return "the tracked tag";
    case Strategy::alphabetical:
    case Strategy::numerical:
      break;
    }
    return "candidate";
  }
};

Policy::Policy(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;
Policy::~Policy() = default;

const Options& Policy::options() const noexcept {
  return m_impl->options;
}

util::Result<Policy> Policy::compile(const Options& options) {
  auto allow = detail::AllowTags::compile(options.allow_tags);
  if (!allow) {
    return std::unexpected(std::move(allow.error()));
  }
  auto impl = std::make_unique<Impl>(options, std::move(*allow));

  impl->ignore.reserve(options.ignore_tags.size());
  for (const std::string& pattern : options.ignore_tags) {
    auto glob = Glob::parse(pattern);
    if (!glob) {
      return util::fail(util::ErrorKind::invalid_input,
                        "invalid ignore-tags entry: " + glob.error().message);
    }
    impl->ignore.push_back(std::move(*glob));
  }

  if (!options.filter_pattern.empty() || !options.filter_extract.empty()) {
    auto filter = detail::TagPattern::compile(options.filter_pattern, options.filter_extract);
    if (!filter) {
      return std::unexpected(std::move(filter.error()));
    }
    impl->filter.emplace(std::move(*filter));
  }

  switch (options.strategy) {
  case Strategy::semver: {
    // The anchors treat "no constraint" as "*" (which still excludes pre-releases).
    impl->constraint_text = options.constraint.empty() ? "*" : options.constraint;
    auto constraint = semver::Constraint::parse(impl->constraint_text);
    if (!constraint) {
      return util::fail(util::ErrorKind::invalid_input, "invalid constraint \"" +
                                                            options.constraint +
                                                            "\": " + constraint.error().message);
    }
    impl->constraint.emplace(std::move(*constraint));
    impl->constraint_takes_prereleases = impl->constraint_text.find('-') != std::string::npos;
    break;
  }
  case Strategy::digest:
    if (options.constraint.empty()) {
      return util::fail(util::ErrorKind::invalid_input,
                        "the digest strategy needs the tag to track, e.g. nginx:latest");
    }
    impl->constraint_text = options.constraint;
    break;
  case Strategy::newest_build:
  case Strategy::alphabetical:
  case Strategy::numerical:
    break;
  }
  return Policy(std::move(impl));
}

std::vector<std::size_t> Policy::candidates(std::span<const Tag> tags) const {
  std::vector<std::size_t> out;
  std::string scratch;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string_view value;
    std::size_t glob = 0;
    if (m_impl->filter_tag(tags[i].name, scratch, value, glob) == Reason::kept) {
      out.push_back(i);
    }
  }
  return out;
}

util::Result<Selection> Policy::select(std::span<const Tag> tags,
                                       std::vector<Verdict>* explain) const {
  const Impl& p = *m_impl;
  const Options& o = p.options;
  const bool extracting = p.filter && p.filter->extracts();
  const bool asc = o.order == Order::asc;

  std::array<std::size_t, k_reason_count> counts{};
  std::vector<std::size_t> glob_counts(p.ignore.size());
  std::string scratch; // the current extraction

  constexpr std::size_t k_none = std::numeric_limits<std::size_t>::max();
  std::size_t best = k_none;
  std::string_view best_value; // into the tags, or into best_value_copy when extracting
  std::string best_value_copy;
  std::optional<SemverChooser> semver_chooser;
  if (o.strategy == Strategy::semver) {
    semver_chooser.emplace(*p.constraint, o.dialect, p.constraint_takes_prereleases);
  }
  double best_number = 0;
  Timestamp best_created{};

  if (explain != nullptr) {
    explain->reserve(explain->size() + tags.size());
  }
  const auto verdict = [&](const Tag& tag, std::string_view value, bool kept, std::string reason) {
    if (extracting && value.data() != nullptr) {
      reason += " (extracted \"" + std::string(value) + "\")";
    }
    explain->push_back(Verdict{std::string(tag.name), kept, std::move(reason)});
  };
  const auto take = [&](std::size_t index, std::string_view value) {
    best = index;
    if (extracting) {
      best_value_copy.assign(value);
      best_value = best_value_copy;
    } else {
      best_value = value;
    }
  };

  for (std::size_t i = 0; i < tags.size(); ++i) {
    const Tag& tag = tags[i];
    std::size_t glob = 0;
    std::string_view value; // set once past the filterTags step
    bool skip = false;      // cannot win, and nobody asks why

    Reason reason = p.filter_tag(tag.name, scratch, value, glob);
    if (reason == Reason::kept) {
      switch (o.strategy) {
      case Strategy::semver: {
        const std::optional<Reason> r = semver_chooser->consider(value, i, explain != nullptr);
        skip = !r.has_value();
        reason = r.value_or(Reason::kept);
        break;
      }
      case Strategy::digest:
        if (tag.name != o.constraint) {
          reason = Reason::not_tracked;
        }
        break;
      case Strategy::numerical:
      case Strategy::newest_build:
      case Strategy::alphabetical:
        break;
      }
    }

    if (skip) {
      continue;
    }
    if (reason != Reason::kept) {
      ++counts[static_cast<std::size_t>(reason)];
      if (reason == Reason::ignored) {
        ++glob_counts[glob];
      }
      if (explain != nullptr) {
        verdict(tag, value, false, p.reason_text(reason, glob));
      }
      continue;
    }

    // A candidate: compare with the best so far. Equal candidates go to the later tag (Flux's
    // numerical rule, and its map of extracted values where the last tag wins).
    switch (o.strategy) {
    case Strategy::semver: // chosen by the chooser, while the parse result was at hand
      break;
    case Strategy::digest:
      take(i, value);
      break;
    case Strategy::alphabetical:
      if (best == k_none || (asc ? value >= best_value : value <= best_value)) {
        take(i, value);
      }
      break;
    case Strategy::numerical: {
      const std::optional<double> number = detail::parse_go_float(value);
      if (!number) {
        if (explain != nullptr) {
          verdict(tag, value, false, p.reason_text(Reason::not_number, 0));
        }
        std::string message = "the numerical strategy needs every tag to be a number, but tag \"" +
                              std::string(tag.name) + "\"";
        if (extracting) {
          message += " (extracted \"" + std::string(value) + "\")";
        }
        message += " is not; narrow the tags with filterTags";
        return util::fail(util::ErrorKind::invalid_input, std::move(message));
      }
      // Flux's loop, NaN included: a value replaces the best unless it is strictly worse.
      if (best == k_none || !(asc ? *number < best_number : *number > best_number)) {
        best_number = *number;
        take(i, value);
      }
      break;
    }
    case Strategy::newest_build:
      if (!tag.created) {
        if (explain != nullptr) {
          verdict(tag, value, false, p.reason_text(Reason::no_created, 0));
        }
        return util::fail(util::ErrorKind::invalid_input,
                          "the newest-build strategy needs the creation time of every tag, but "
                          "tag \"" +
                              std::string(tag.name) + "\" has none");
      }
      if (best == k_none || *tag.created > best_created ||
          (*tag.created == best_created && value >= best_value)) {
        best_created = *tag.created;
        take(i, value);
      }
      break;
    }
    if (explain != nullptr) {
      verdict(tag, value, true, p.kept_text(tag));
    }
  }

  if (semver_chooser && semver_chooser->has_best()) {
    return Selection{std::string(tags[semver_chooser->best_index()].name),
                     semver_chooser->best().original};
  }
  if (best != k_none) {
    return Selection{std::string(tags[best].name), std::string(best_value)};
  }

  return std::unexpected(p.nothing_qualifies(tags.size(), counts, glob_counts));
}

} // namespace common::policy
