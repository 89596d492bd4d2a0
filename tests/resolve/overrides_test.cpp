#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/resolve/overrides.hpp"

namespace common::resolve {
namespace {

ImageResult result(std::string repo, std::string tag, std::string strategy = "semver",
                   std::string alias = "a") {
  ImageResult r;
  r.updater = "ns/u";
  r.alias = std::move(alias);
  r.image = repo;
  r.repository = std::move(repo);
  r.strategy = std::move(strategy);
  r.tag = std::move(tag);
  r.digest = "sha256:" + std::string(64, 'd');
  return r;
}

TEST(OverridesFrom, TagsDigestsAndAgreeingDuplicates) {
  const std::vector<ImageResult> results = {
      result("docker.io/library/nginx", "1.25.3"),
      result("ghcr.io/acme/app", "v2", "digest", "b"),
      result("docker.io/library/nginx", "1.25.3", "semver", "c"),
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
  auto bad = result("ghcr.io/acme/app", "");
  bad.error = "no tag qualifies among 3 tags";
  auto failed = overrides_from({result("docker.io/library/nginx", "1"), bad}, {});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, util::ErrorKind::not_found);
  EXPECT_NE(failed.error().message.find("cannot resolve 1 of 2 image(s)"), std::string::npos);
  EXPECT_NE(failed.error().message.find("ns/u a (ghcr.io/acme/app): no tag qualifies"),
            std::string::npos)
      << failed.error().message;

  auto conflict = overrides_from({result("docker.io/library/nginx", "1.25"),
                                  result("docker.io/library/nginx", "1.26", "semver", "z")},
                                 {});
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().kind, util::ErrorKind::conflict);
  EXPECT_NE(conflict.error().message.find("ns/u a chose 1.25, ns/u z chose 1.26"),
            std::string::npos)
      << conflict.error().message;
}

} // namespace
} // namespace common::resolve
