#include "common/policy/strategy.hpp"

#include <array>
#include <string>
#include <utility>

namespace common::policy {
namespace {

struct StrategyName {
  std::string_view name;
  Strategy strategy;
};

// Aliases ("latest", "name") sit beside their canonical names so the error lists them in the
// order users read them in the anchors' documentation.
constexpr std::array<StrategyName, 7> k_strategy_names{{
    {"semver", Strategy::semver},
    {"newest-build", Strategy::newest_build},
    {"latest", Strategy::newest_build},
    {"alphabetical", Strategy::alphabetical},
    {"name", Strategy::alphabetical},
    {"numerical", Strategy::numerical},
    {"digest", Strategy::digest},
}};

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

} // namespace

util::Result<Strategy> parse_strategy(std::string_view name) {
  for (const auto& entry : k_strategy_names) {
    if (entry.name == name) {
      return entry.strategy;
    }
  }
  std::string message = "unknown update strategy \"" + std::string(name) + "\" (valid: ";
  for (std::size_t i = 0; i < k_strategy_names.size(); ++i) {
    message += i == 0 ? "" : ", ";
    message += k_strategy_names[i].name;
  }
  message += ")";
  return util::fail(util::ErrorKind::invalid_input, std::move(message));
}

std::string_view to_string(Strategy strategy) noexcept {
  switch (strategy) {
  case Strategy::semver:
    return "semver";
  case Strategy::newest_build:
    return "newest-build";
  case Strategy::alphabetical:
    return "alphabetical";
  case Strategy::numerical:
    return "numerical";
  case Strategy::digest:
    return "digest";
  }
  return "semver";
}

util::Result<Order> parse_order(std::string_view text) {
  if (equals_ignore_case(text, "asc")) {
    return Order::asc;
  }
  if (equals_ignore_case(text, "desc")) {
    return Order::desc;
  }
  return util::fail(util::ErrorKind::invalid_input,
                    "invalid order \"" + std::string(text) + "\" (valid: asc, desc)");
}

} // namespace common::policy
