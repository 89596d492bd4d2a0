// IU_TRY: the value on success, the enclosing function returns the error otherwise, once.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/util/error.hpp"
#include "common/util/try.hpp"

namespace common::util {
namespace {

Result<std::unique_ptr<int>> make(bool ok, int& calls) {
  ++calls;
  if (!ok) {
    return fail(ErrorKind::auth, "refused");
  }
  return std::make_unique<int>(40);
}

Result<void> check(bool ok) {
  if (!ok) {
    return fail(ErrorKind::conflict, "changed");
  }
  return {};
}

// Every step propagates with IU_TRY; `reached` counts the steps passed.
Result<int> flow(bool made, bool checked, int& calls, int& reached) {
  auto p = IU_TRY(make(made, calls)); // move-only values are moved out
  ++reached;
  IU_TRY(check(checked));
  ++reached;
  Result<int> two = 2;
  const int v = IU_TRY(two) + IU_TRY(with_context(Result<int>(0), "unused")); // lvalue: copied
  ++reached;
  return *p + v + *two;
}

Result<std::string> nested(bool ok) {
  return "x" + std::to_string(IU_TRY(with_context(
                   Result<int>(ok ? Result<int>(1) : fail(ErrorKind::not_found, "gone")), "ctx")));
}

TEST(UtilTry, ValuesFlowAndErrorsReturnEarly) {
  struct Case {
    bool made;
    bool checked;
    std::optional<ErrorKind> kind; // the error, if any
    int reached;
  };
  const std::vector<Case> cases{
      {true, true, std::nullopt, 3},
      {false, true, ErrorKind::auth, 0},
      {true, false, ErrorKind::conflict, 1},
  };
  for (const auto& c : cases) {
    int calls = 0;
    int reached = 0;
    auto r = flow(c.made, c.checked, calls, reached);
    EXPECT_EQ(calls, 1) << "the operand is evaluated once";
    EXPECT_EQ(reached, c.reached);
    if (c.kind) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().kind, *c.kind);
    } else {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(*r, 44);
    }
  }
}

TEST(UtilTry, ContextOnTheWayOut) {
  EXPECT_EQ(nested(true).value_or(""), "x1");
  auto failed = nested(false);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::not_found);
  EXPECT_EQ(failed.error().message, "ctx: gone");
}

} // namespace
} // namespace common::util
