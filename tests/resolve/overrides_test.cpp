#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/resolve/overrides.hpp"

#include "tests/support/image_result.hpp"

namespace common::resolve {
namespace {

using tests::image_result;

TEST(OverridesFrom, TagsDigestsAndAgreeingDuplicates) {
  const std::vector<ImageResult> results = {
      image_result("docker.io/library/nginx", "1.25.3"),
      image_result("ghcr.io/acme/app", "v2", "digest", "b"),
      image_result("docker.io/library/nginx", "1.25.3", "semver", "c"),
  };
  auto o = overrides_from(results, {});
  ASSERT_TRUE(o.has_value()) << o.error().message;
  ASSERT_EQ(o->images.size(), 2u);
  EXPECT_EQ(o->images[0].repository, "docker.io/library/nginx");
  EXPECT_EQ(o->images[0].tag, "1.25.3");
  EXPECT_EQ(o->images[0].digest, std::nullopt);
  EXPECT_EQ(o->images[0].label, "ns/u a");
  EXPECT_EQ(o->images[1].digest, "sha256:" + std::string(64, 'd')) << "digest strategy pins";

  auto pinned = overrides_from(results, {.pin_digests = true});
  ASSERT_TRUE(pinned.has_value());
  EXPECT_TRUE(pinned->images[0].digest.has_value());
}

TEST(OverridesFrom, FailuresAndConflictsAreErrors) {
  auto bad = image_result("ghcr.io/acme/app", "");
  bad.error = util::Error(util::ErrorKind::not_found, "no tag qualifies among 3 tags");
  auto failed = overrides_from({image_result("docker.io/library/nginx", "1"), bad}, {});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, util::ErrorKind::not_found);
  EXPECT_NE(failed.error().message.find("cannot resolve 1 of 2 image(s)"), std::string::npos);
  EXPECT_NE(failed.error().message.find("ns/u a (ghcr.io/acme/app): no tag qualifies"),
            std::string::npos)
      << failed.error().message;

  auto conflict = overrides_from({image_result("docker.io/library/nginx", "1.25"),
                                  image_result("docker.io/library/nginx", "1.26", "semver", "z")},
                                 {});
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().kind, util::ErrorKind::conflict);
  EXPECT_NE(conflict.error().message.find("ns/u a chose 1.25, ns/u z chose 1.26"),
            std::string::npos)
      << conflict.error().message;
}

// The failure's kind is the first failed image's kind, whatever its text says: a registry
// timeout is transient because the registry said so, not because the message says "timed out".
TEST(OverridesFrom, FailuresKeepTheFirstFailuresKind) {
  struct Case {
    util::ErrorKind first;
    std::string text;
    util::ErrorKind second;
  };
  const std::vector<Case> cases{
      {util::ErrorKind::transient, "GET https://ghcr.io/v2/: read timed out", //
       util::ErrorKind::not_found},
      {util::ErrorKind::transient, "registry answered 503", util::ErrorKind::invalid_input},
      {util::ErrorKind::invalid_input, "constraint \"timed out\" does not parse",
       util::ErrorKind::transient},
      {util::ErrorKind::not_found, "the deadline of nothing: no tag qualifies",
       util::ErrorKind::transient},
      {util::ErrorKind::auth, "ghcr.io refused access (HTTP 403)", util::ErrorKind::transient},
  };
  for (const auto& c : cases) {
    auto first = image_result("ghcr.io/acme/app", "");
    first.error = util::Error(c.first, c.text);
    auto second = image_result("ghcr.io/acme/other", "", "semver", "b");
    second.error = util::Error(c.second, "second");
    auto failed = overrides_from({image_result("docker.io/library/nginx", "1"), first, second}, {});
    ASSERT_FALSE(failed.has_value()) << c.text;
    EXPECT_EQ(failed.error().kind, c.first) << c.text;
    EXPECT_NE(failed.error().message.find("cannot resolve 2 of 3 image(s)"), std::string::npos);
    EXPECT_NE(failed.error().message.find(c.text), std::string::npos) << failed.error().message;
  }
}

} // namespace
} // namespace common::resolve
