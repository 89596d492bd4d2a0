#include "common/status/status.hpp"

#include <chrono>

namespace common::status {

std::string_view to_string(ConditionStatus status) noexcept {
  switch (status) {
  case ConditionStatus::true_:
    return "True";
  case ConditionStatus::false_:
    return "False";
  case ConditionStatus::unknown:
    break;
  }
  return "Unknown";
}

const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions) {
    if (c.type == type) {
      return &c;
    }
  }
  return nullptr;
}

std::vector<Condition> conditions_for(const Outcome& outcome, std::int64_t generation,
                                      util::Timestamp now, const std::vector<Condition>& before) {
  const util::Timestamp at = std::chrono::floor<std::chrono::seconds>(now);
  const auto make = [&](std::string_view type, ConditionStatus status, std::string reason) {
    Condition c{std::string(type), status, std::move(reason), outcome.message, generation, at};
    // Kubernetes' rule: the time says when the status changed, not when it was last written.
    if (const Condition* previous = find_condition(before, type);
        previous != nullptr && previous->status == status) {
      c.last_transition_time = previous->last_transition_time;
    }
    return c;
  };
  std::vector<Condition> out;
  const bool ok = outcome.progress == Progress::ready;
  out.push_back(
      make(k_ready, ok ? ConditionStatus::true_ : ConditionStatus::false_, outcome.reason));
  if (outcome.progress == Progress::retrying) {
    out.push_back(
        make(k_reconciling, ConditionStatus::true_, std::string(k_progressing_with_retry)));
  } else if (outcome.progress == Progress::stalled) {
    out.push_back(make(k_stalled, ConditionStatus::true_, outcome.reason));
  }
  return out;
}

} // namespace common::status
