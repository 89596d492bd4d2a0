// Update strategies by the names the anchors' users write. Pure.
#pragma once

#include <string_view>

#include "common/util/error.hpp"

namespace common::policy {

enum class Strategy {
  semver,       // highest version satisfying the constraint (default)
  newest_build, // most recent image `created` time; alias "latest"
  alphabetical, // byte-wise greatest (Flux: order asc picks the greatest, desc the least); alias
                // "name"
  numerical,    // Flux numerical: every candidate must parse as a number
  digest,       // track one tag (the constraint) and pin its digest
};

enum class Order { asc, desc };

// Which semver parse applies: Argo CD Image Updater's lenient one, or Flux's three-part one.
enum class SemverDialect { masterminds, flux };

// Accepts semver, newest-build, latest, alphabetical, name, numerical, digest (exact, lower
// case). Fails (invalid_input) with the list of valid names otherwise.
util::Result<Strategy> parse_strategy(std::string_view name);
// The canonical name ("newest-build" for Strategy::newest_build).
std::string_view to_string(Strategy strategy) noexcept;

// Accepts "asc" and "desc" in any case (Flux upper-cases it). Fails (invalid_input) otherwise.
util::Result<Order> parse_order(std::string_view text);

} // namespace common::policy
