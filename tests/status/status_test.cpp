#include <chrono>

#include <gtest/gtest.h>

#include "common/status/status.hpp"

namespace common::status {
namespace {

using namespace std::chrono_literals;

const util::Timestamp k_t0 = util::Timestamp(std::chrono::seconds(1'700'000'000));

TEST(ConditionsFor, FollowKstatusForEachOutcome) {
  struct Case {
    Progress progress;
    std::vector<std::pair<std::string, ConditionStatus>> want; // type, status in order
  };
  const std::vector<Case> cases = {
      {Progress::ready, {{"Ready", ConditionStatus::true_}}},
      {Progress::retrying,
       {{"Ready", ConditionStatus::false_}, {"Reconciling", ConditionStatus::true_}}},
      {Progress::stalled,
       {{"Ready", ConditionStatus::false_}, {"Stalled", ConditionStatus::true_}}},
  };
  for (const Case& c : cases) {
    const auto got = conditions_for({c.progress, "Why", "what"}, 3, k_t0 + 500ms, {});
    ASSERT_EQ(got.size(), c.want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].type, c.want[i].first);
      EXPECT_EQ(got[i].status, c.want[i].second);
      EXPECT_EQ(got[i].message, "what");
      EXPECT_EQ(got[i].observed_generation, 3);
      EXPECT_EQ(got[i].last_transition_time, k_t0) << "floored to the second";
    }
    EXPECT_EQ(got[0].reason, "Why");
    if (c.progress == Progress::retrying) {
      EXPECT_EQ(got[1].reason, k_progressing_with_retry);
    }
    if (c.progress == Progress::stalled) {
      EXPECT_EQ(got[1].reason, "Why") << "Stalled carries the failure's reason";
    }
  }
}

TEST(ConditionsFor, TransitionTimeMovesOnlyWhenTheStatusChanges) {
  const auto failing = conditions_for({Progress::stalled, "RenderFailed", "a"}, 1, k_t0, {});
  // Still failing, for another reason: Ready stays False, so its time stays.
  const auto still =
      conditions_for({Progress::stalled, "UnknownSetter", "b"}, 2, k_t0 + 1h, failing);
  EXPECT_EQ(still[0].last_transition_time, k_t0);
  EXPECT_EQ(still[0].reason, "UnknownSetter");
  EXPECT_EQ(still[0].observed_generation, 2);
  EXPECT_EQ(still[1].last_transition_time, k_t0);
  // Now retrying: Ready is still False; Reconciling is new.
  const auto retry = conditions_for({Progress::retrying, "SourceFailed", "c"}, 2, k_t0 + 2h, still);
  EXPECT_EQ(retry[0].last_transition_time, k_t0);
  EXPECT_EQ(retry[1].last_transition_time, k_t0 + 2h);
  // Healed: Ready turns True.
  const auto ok = conditions_for({Progress::ready, "Succeeded", "d"}, 2, k_t0 + 3h, retry);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].last_transition_time, k_t0 + 3h);
}

TEST(FindCondition, ByType) {
  const auto conditions = conditions_for({Progress::stalled, "X", ""}, 1, k_t0, {});
  ASSERT_NE(find_condition(conditions, k_stalled), nullptr);
  EXPECT_EQ(find_condition(conditions, k_stalled)->type, "Stalled");
  EXPECT_EQ(find_condition(conditions, k_reconciling), nullptr);
  EXPECT_EQ(to_string(ConditionStatus::unknown), "Unknown");
}

} // namespace
} // namespace common::status
