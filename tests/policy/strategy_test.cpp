#include <string>

#include <gtest/gtest.h>

#include "common/policy/strategy.hpp"

namespace common::policy {
namespace {

TEST(PolicyStrategy, ParsesNamesAndAliases) {
  struct Case {
    const char* name;
    Strategy strategy;
    const char* canonical;
  };
  const Case cases[] = {
      {"semver", Strategy::semver, "semver"},
      {"newest-build", Strategy::newest_build, "newest-build"},
      {"latest", Strategy::newest_build, "newest-build"},
      {"alphabetical", Strategy::alphabetical, "alphabetical"},
      {"name", Strategy::alphabetical, "alphabetical"},
      {"numerical", Strategy::numerical, "numerical"},
      {"digest", Strategy::digest, "digest"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto s = parse_strategy(c.name);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(*s, c.strategy);
    EXPECT_EQ(to_string(*s), c.canonical);
  }
}

TEST(PolicyStrategy, RejectsUnknownNamesListingTheValidOnes) {
  for (const char* name : {"", "Semver", "SEMVER", "newest", "newestbuild", "lexical", " semver"}) {
    SCOPED_TRACE(name);
    const auto s = parse_strategy(name);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(s.error().message.find("\"" + std::string(name) + "\""), std::string::npos);
    EXPECT_NE(s.error().message.find("semver, newest-build, latest, alphabetical, name, "
                                     "numerical, digest"),
              std::string::npos)
        << s.error().message;
  }
}

TEST(PolicyStrategy, ParsesOrderInAnyCase) {
  struct Case {
    const char* text;
    bool ok;
    Order order;
  };
  const Case cases[] = {
      {"asc", true, Order::asc},   {"ASC", true, Order::asc},   {"Asc", true, Order::asc},
      {"desc", true, Order::desc}, {"DESC", true, Order::desc}, {"dEsC", true, Order::desc},
      {"", false, Order::asc},     {"up", false, Order::asc},   {"ascending", false, Order::asc},
      {" asc", false, Order::asc},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto o = parse_order(c.text);
    ASSERT_EQ(o.has_value(), c.ok);
    if (c.ok) {
      EXPECT_EQ(*o, c.order);
    } else {
      EXPECT_EQ(o.error().kind, util::ErrorKind::invalid_input);
      EXPECT_NE(o.error().message.find("\"" + std::string(c.text) + "\""), std::string::npos);
    }
  }
}

} // namespace
} // namespace common::policy
