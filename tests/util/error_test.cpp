#include <gtest/gtest.h>

#include "common/util/error.hpp"

namespace common::util {
namespace {

TEST(UtilError, FailCarriesKindAndMessage) {
  Result<int> r = fail(ErrorKind::not_found, "no tag qualifies");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_EQ(r.error().message, "no tag qualifies");
  EXPECT_FALSE(r.error().where);
}

TEST(UtilError, KindNamesAreStable) {
  EXPECT_STREQ(to_string(ErrorKind::invalid_input), "invalid_input");
  EXPECT_STREQ(to_string(ErrorKind::transient), "transient");
  EXPECT_STREQ(to_string(ErrorKind::too_large), "too_large");
}

TEST(UtilError, LocationsRenderTheKnownParts) {
  struct Case {
    Location where;
    const char* shown;
  };
  Location full = at_line("a.yaml", 3, 7);
  full.field = "spec.images[0]";
  const Case cases[] = {
      {{}, ""},
      {at_line("a.yaml", 0), "a.yaml"},
      {at_line("a.yaml", 3), "a.yaml:3"},
      {at_line("a.yaml", 3, 7), "a.yaml:3:7"},
      {at_line("", 3, 7), "line 3, column 7"}, // the scanner's words, before a file is known
      {at_line("", 3), "line 3"},
      {at_line("a.yaml", 0, 7), "a.yaml"}, // a column without its line says nothing
      {at_field("spec.images"), "spec.images"},
      {full, "a.yaml:3:7: spec.images[0]"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(to_string(c.where), c.shown);
  }
}

TEST(UtilError, LocatedErrorsSayWhereFirst) {
  const Error e = located(ErrorKind::invalid_input, at_line("a.yaml", 3), "want a string");
  EXPECT_EQ(e.kind, ErrorKind::invalid_input);
  EXPECT_EQ(e.message, "a.yaml:3: want a string");
  ASSERT_TRUE(e.where);
  EXPECT_EQ(e.where->line, 3);
  EXPECT_EQ(located(ErrorKind::internal, {}, "bare").message, "bare");

  Result<void> r = fail_at(ErrorKind::too_large, at_field("spec"), "too big");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "spec: too big");
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
}

TEST(UtilError, ContextPrefixesAndKeepsKindAndPlace) {
  Error inner = located(ErrorKind::transient, at_line("", 2, 5), "unclosed");
  Error outer = with_context(inner, "bad.yaml");
  EXPECT_EQ(outer.message, "bad.yaml: line 2, column 5: unclosed");
  EXPECT_EQ(outer.kind, ErrorKind::transient);
  EXPECT_EQ(outer.where, inner.where);
  EXPECT_EQ(with_context(inner, "").message, inner.message);

  Result<int> failed = with_context(Result<int>(fail(ErrorKind::auth, "refused")), "ghcr.io");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "ghcr.io: refused");
  EXPECT_EQ(failed.error().kind, ErrorKind::auth);
  Result<int> passed = with_context(Result<int>(4), "ghcr.io");
  ASSERT_TRUE(passed);
  EXPECT_EQ(*passed, 4);
}

TEST(UtilError, OuterLocationsFillOnlyWhatIsUnknown) {
  Location outer = at_line("a.yaml", 9, 9);
  outer.field = "spec";
  struct Case {
    std::optional<Location> inner;
    Location want;
  };
  Location inner_full = at_line("b.yaml", 2, 3);
  inner_full.field = "spec.x";
  Location line_only_want = at_line("a.yaml", 2, 3);
  line_only_want.field = "spec";
  Location field_only_want = at_line("a.yaml", 9, 9);
  field_only_want.field = "filterTags.extract";
  const Case cases[] = {
      {std::nullopt, outer},
      {at_line("", 2, 3), line_only_want}, // the scanner's line wins, the file is added
      {at_field("filterTags.extract"), field_only_want},
      {inner_full, inner_full},
  };
  for (const auto& c : cases) {
    Error e(ErrorKind::invalid_input, "m", c.inner);
    Error got = with_location(e, outer);
    EXPECT_EQ(got.message, "m") << "the message is unchanged";
    ASSERT_TRUE(got.where);
    EXPECT_EQ(*got.where, c.want) << to_string(*got.where);
  }
  Result<int> r = with_location(Result<int>(fail(ErrorKind::not_found, "x")), outer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where, outer);
}

} // namespace
} // namespace common::util
