#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/image/reference.hpp"
#include "common/manifest/image_text.hpp"

namespace common::manifest {
namespace {

const std::string k_d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const std::string k_d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

struct SplitCase {
  std::string text;
  std::string name;
  std::string tag;
  std::string digest;
};

TEST(SplitWritten, KeepsTheSpelling) {
  const std::vector<SplitCase> cases = {
      {"nginx", "nginx", "", ""},
      {"nginx:1.25", "nginx", "1.25", ""},
      {"docker.io/library/nginx:1.25.3", "docker.io/library/nginx", "1.25.3", ""},
      {"127.0.0.1:5000/tools/busybox:1.36", "127.0.0.1:5000/tools/busybox", "1.36", ""},
      {"127.0.0.1:5000/tools/busybox", "127.0.0.1:5000/tools/busybox", "", ""},
      {"app@" + k_d1, "app", "", k_d1},
      {"ghcr.io/a/b:v1@" + k_d1, "ghcr.io/a/b", "v1", k_d1},
      {"[::1]:5000/app:1", "[::1]:5000/app", "1", ""},
  };
  for (const SplitCase& c : cases) {
    SCOPED_TRACE(c.text);
    const WrittenImage w = split_written(c.text);
    EXPECT_EQ(w.name, c.name);
    EXPECT_EQ(w.tag, c.tag);
    EXPECT_EQ(w.digest, c.digest);
    EXPECT_EQ(image::compose(w.name, w.tag, w.digest), c.text);
  }
}

struct ApplyCase {
  std::optional<std::string> tag;
  std::optional<std::string> digest;
  std::string current_tag;
  std::string current_digest;
  std::string tag_after;
  std::string digest_after;
};

TEST(ApplyTagDigest, KustomizeRules) {
  const std::vector<ApplyCase> cases = {
      {"2", std::nullopt, "1", "", "2", ""},
      {"2", std::nullopt, "1", k_d1, "2", ""},   // a tag drops the old digest
      {std::nullopt, k_d2, "1", k_d1, "", k_d2}, // a digest drops the tag
      {std::nullopt, k_d2, "", "", "", k_d2},
      {"2", k_d2, "1", k_d1, "2", k_d2}, // digest pinning
      {"2", k_d2, "", "", "2", k_d2},
      {std::nullopt, std::nullopt, "1", k_d1, "1", k_d1}, // a rename keeps both
  };
  for (const ApplyCase& c : cases) {
    ImageOverride o;
    o.repository = "app";
    o.tag = c.tag;
    o.digest = c.digest;
    const TagDigest out = apply_tag_digest(o, {c.current_tag, c.current_digest});
    EXPECT_EQ(out.tag, c.tag_after);
    EXPECT_EQ(out.digest, c.digest_after);
  }
}

TEST(HelmTagValue, ArgoCdImageUpdaterForms) {
  ImageOverride o;
  o.repository = "app";
  EXPECT_EQ(helm_tag_value(o), std::nullopt);
  o.tag = "1.2";
  EXPECT_EQ(helm_tag_value(o), "1.2");
  o.digest = k_d1;
  EXPECT_EQ(helm_tag_value(o), "1.2@" + k_d1);
  o.tag.reset();
  EXPECT_EQ(helm_tag_value(o), "latest@" + k_d1);
}

} // namespace
} // namespace common::manifest
