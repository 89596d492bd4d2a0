#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/image/platform.hpp"

namespace common::image {
namespace {

struct Parsed {
  std::string input;
  Platform want;
};

const Parsed k_platforms[] = {
    {"linux/amd64", {"linux", "amd64", ""}},
    {"linux/arm64", {"linux", "arm64", ""}},
    {"linux/arm/v7", {"linux", "arm", "v7"}},
    {"linux/arm64/v8", {"linux", "arm64", "v8"}},
    {"linux/386", {"linux", "386", ""}},
    {"linux/ppc64le", {"linux", "ppc64le", ""}},
    {"windows/amd64", {"windows", "amd64", ""}},
    {"linux/mips64_le.x-y/v1", {"linux", "mips64_le.x-y", "v1"}},
};

TEST(ImagePlatform, Parses) {
  for (const Parsed& c : k_platforms) {
    SCOPED_TRACE(c.input);
    auto p = parse_platform(c.input);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(*p, c.want);
    EXPECT_EQ(p->to_string(), c.input);
  }
}

struct Rejected {
  std::string input;
  std::string error;
};

const Rejected k_bad_platforms[] = {
    {"", "expected os/arch[/variant]"},
    {"linux", "invalid platform \"linux\": expected os/arch[/variant]"},
    {"linux/amd64/v8/x", "expected os/arch[/variant]"},
    {"linux/", "empty part"},
    {"/amd64", "empty part"},
    {"linux//v7", "empty part"},
    {"linux/arm/", "empty part"},
    {"Linux/amd64", "\"Linux\" is not lower-case"},
    {"linux/AMD64", "\"AMD64\" is not lower-case"},
    {"linux amd64", "expected os/arch[/variant]"},
    {" linux/amd64", "is not lower-case"},
    {"linux/arm/v7+", "\"v7+\" is not lower-case"},
};

TEST(ImagePlatform, RejectsWithReason) {
  for (const Rejected& c : k_bad_platforms) {
    SCOPED_TRACE(c.input);
    auto p = parse_platform(c.input);
    ASSERT_FALSE(p.has_value()) << p->to_string();
    EXPECT_EQ(p.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(p.error().message.find(c.error), std::string::npos) << p.error().message;
  }
}

struct List {
  std::string input;
  std::vector<std::string> want;
};

const List k_lists[] = {
    {"", {}},
    {"  ", {}},
    {"linux/amd64", {"linux/amd64"}},
    {"linux/amd64, linux/arm64", {"linux/amd64", "linux/arm64"}},
    {" linux/amd64 ,\tlinux/arm/v7 ", {"linux/amd64", "linux/arm/v7"}},
    {"linux/arm64,linux/amd64,linux/arm64", {"linux/arm64", "linux/amd64", "linux/arm64"}},
};

TEST(ImagePlatform, ParsesLists) {
  for (const List& c : k_lists) {
    SCOPED_TRACE(c.input);
    auto list = parse_platforms(c.input);
    ASSERT_TRUE(list.has_value()) << list.error().message;
    std::vector<std::string> got;
    for (const Platform& p : *list) {
      got.push_back(p.to_string());
    }
    EXPECT_EQ(got, c.want);
  }
}

const Rejected k_bad_lists[] = {
    {"linux/amd64,,linux/arm64", "empty platform in list"},
    {"linux/amd64,", "empty platform in list"},
    {",linux/amd64", "empty platform in list"},
    {"linux/amd64, bad", "invalid platform \"bad\""},
    {"linux/amd64, Linux/arm64", "invalid platform \"Linux/arm64\""},
};

TEST(ImagePlatform, RejectsBadLists) {
  for (const Rejected& c : k_bad_lists) {
    SCOPED_TRACE(c.input);
    auto list = parse_platforms(c.input);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(list.error().message.find(c.error), std::string::npos) << list.error().message;
  }
}

struct Match {
  std::string wanted;
  std::string candidate;
  bool want;
};

const Match k_matches[] = {
    {"linux/amd64", "linux/amd64", true},
    {"linux/arm64", "linux/arm64/v8", true}, // no variant asked: any variant
    {"linux/arm", "linux/arm/v7", true},
    {"linux/arm/v7", "linux/arm/v7", true},
    {"linux/arm/v6", "linux/arm", false}, // a variant asked: exactly that one
    {"linux/arm/v6", "linux/arm/v7", false},
    {"linux/arm64/v8", "linux/arm64", false},
    {"linux/amd64", "windows/amd64", false},
    {"linux/amd64", "linux/arm64", false},
    {"linux/amd64", "linux/amd64/v3", true},
};

TEST(ImagePlatform, Matches) {
  for (const Match& c : k_matches) {
    SCOPED_TRACE(c.wanted + " vs " + c.candidate);
    auto wanted = parse_platform(c.wanted);
    auto candidate = parse_platform(c.candidate);
    ASSERT_TRUE(wanted.has_value() && candidate.has_value());
    EXPECT_EQ(matches(*wanted, *candidate), c.want);
  }
}

} // namespace
} // namespace common::image
