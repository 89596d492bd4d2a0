#include <gtest/gtest.h>

#include "common/util/error.hpp"

namespace common::util {
namespace {

TEST(UtilError, FailCarriesKindAndMessage) {
  Result<int> r = fail(ErrorKind::not_found, "no tag qualifies");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_EQ(r.error().message, "no tag qualifies");
}

TEST(UtilError, KindNamesAreStable) {
  EXPECT_STREQ(to_string(ErrorKind::invalid_input), "invalid_input");
  EXPECT_STREQ(to_string(ErrorKind::transient), "transient");
  EXPECT_STREQ(to_string(ErrorKind::too_large), "too_large");
}

} // namespace
} // namespace common::util
