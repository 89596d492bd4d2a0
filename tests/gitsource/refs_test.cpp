#include <gtest/gtest.h>

#include "common/gitsource/refs.hpp"

namespace common::gitsource {
namespace {

using util::ErrorKind;

const std::string k_c1 = "7b382405c3a6262c44c8cee2bee0c286937ca22b";
const std::string k_c2 = "95090d8f5fdc335436611280de79e41a27cd9008";
const std::string k_tag_object = "14ab8f20b6589bab13ce5938f794f550e6ffc2fe";
const std::string k_url = "https://git.example/deploy.git";

// A Ref from field/value pairs ({"branch", "main"}, {"commit", ...}).
Ref ref(std::initializer_list<std::pair<std::string, std::string>> fields) {
  Ref r;
  for (const auto& [field, value] : fields) {
    std::string* slot = field == "branch"   ? &r.branch
                        : field == "tag"    ? &r.tag
                        : field == "semver" ? &r.semver
                        : field == "name"   ? &r.name
                                            : &r.commit;
    *slot = value;
  }
  return r;
}

// The advertisement of the harness's deploy.git.
std::vector<RemoteRef> advertised() {
  return {
      {"HEAD", k_c2, ""},
      {"refs/heads/main", k_c2, ""},
      {"refs/heads/release", k_c1, ""},
      {"refs/tags/v1.0.0", k_tag_object, k_c1},
      {"refs/tags/v1.1.0", k_c2, ""},
      {"refs/tags/v1.1.0-rc.1", k_c1, ""},
      {"refs/tags/v2.0.0-rc.1", k_c2, ""},
      {"refs/tags/not-a-version", k_c1, ""},
      {"refs/pull/7/head", k_c1, ""},
  };
}

TEST(GitRefs, SelectsByFluxPrecedence) {
  struct Case {
    const char* name;
    Ref ref;
    TargetKind kind;
    std::string refname, oid, label, commit;
  };
  const std::vector<Case> cases = {
      {"default branch = HEAD",
       {},
       TargetKind::default_branch,
       "refs/heads/main",
       k_c2,
       "main",
       ""},
      {"branch", ref({{"branch", "release"}}), TargetKind::branch, "refs/heads/release", k_c1,
       "release", ""},
      {"annotated tag peeled", ref({{"tag", "v1.0.0"}}), TargetKind::tag, "refs/tags/v1.0.0", k_c1,
       "v1.0.0", ""},
      {"tag over branch", ref({{"branch", "main"}, {"tag", "v1.1.0"}}), TargetKind::tag,
       "refs/tags/v1.1.0", k_c2, "v1.1.0", ""},
      {"semver: highest release", ref({{"semver", ">=1.0.0"}}), TargetKind::semver,
       "refs/tags/v1.1.0", k_c2, "v1.1.0", ""},
      {"semver: bounded", ref({{"semver", "~1.0"}}), TargetKind::semver, "refs/tags/v1.0.0", k_c1,
       "v1.0.0", ""},
      {"semver: prereleases when asked", ref({{"semver", ">=1.0.0-0"}}), TargetKind::semver,
       "refs/tags/v2.0.0-rc.1", k_c2, "v2.0.0-rc.1", ""},
      {"semver over tag", ref({{"tag", "v1.0.0"}, {"semver", "1.1.x"}}), TargetKind::semver,
       "refs/tags/v1.1.0", k_c2, "v1.1.0", ""},
      {"name", ref({{"name", "refs/pull/7/head"}}), TargetKind::name, "refs/pull/7/head", k_c1,
       "refs/pull/7/head", ""},
      {"name over semver", ref({{"semver", "*"}, {"name", "refs/heads/release"}}), TargetKind::name,
       "refs/heads/release", k_c1, "refs/heads/release", ""},
      {"commit alone", ref({{"commit", k_c1}}), TargetKind::commit, "", "", "", k_c1},
      {"commit upper case", ref({{"commit", "7B382405C3A6262C44C8CEE2BEE0C286937CA22B"}}),
       TargetKind::commit, "", "", "", k_c1},
      {"commit on a branch", ref({{"branch", "main"}, {"commit", k_c1}}), TargetKind::commit,
       "refs/heads/main", k_c2, "main", k_c1},
      {"commit over tag, with its branch",
       ref({{"branch", "main"}, {"tag", "v1.0.0"}, {"commit", k_c1}}), TargetKind::commit,
       "refs/heads/main", k_c2, "main", k_c1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = select_target(c.ref, advertised(), "refs/heads/main", k_url);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->kind, c.kind);
    EXPECT_EQ(t->refname, c.refname);
    EXPECT_EQ(t->oid, c.oid);
    EXPECT_EQ(t->label, c.label);
    EXPECT_EQ(t->commit, c.commit);
  }
}

TEST(GitRefs, MissingRefsAreNotFoundNamingTheUrl) {
  struct Case {
    const char* name;
    Ref ref;
    std::string head;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {"branch", ref({{"branch", "nope"}}), "refs/heads/main", "branch \"nope\" not found"},
      {"tag", ref({{"tag", "v9"}}), "refs/heads/main", "tag \"v9\" not found"},
      {"name", ref({{"name", "refs/heads/nope"}}), "refs/heads/main", "ref \"refs/heads/nope\""},
      {"semver", ref({{"semver", ">=3.0.0"}}), "refs/heads/main", "satisfies semver \">=3.0.0\""},
      {"no HEAD", {}, "", "no default branch"},
      {"HEAD elsewhere", {}, "refs/heads/gone", "default branch \"gone\" not found"},
      {"commit's branch", ref({{"branch", "nope"}, {"commit", k_c1}}), "", "branch \"nope\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = select_target(c.ref, advertised(), c.head, k_url);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().kind, ErrorKind::not_found);
    EXPECT_NE(t.error().message.find(c.in_message), std::string::npos) << t.error().message;
    EXPECT_NE(t.error().message.find(k_url), std::string::npos) << t.error().message;
  }
}

TEST(GitRefs, ValidatesTheFieldsThatAreUsed) {
  struct Case {
    const char* name;
    Ref ref;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"empty", {}, true},
      {"nested branch", ref({{"branch", "feature/x-1"}}), true},
      {"branch with ..", ref({{"branch", "a..b"}}), false},
      {"branch with space", ref({{"branch", "a b"}}), false},
      {"branch ending .lock", ref({{"branch", "x.lock"}}), false},
      {"branch with ~", ref({{"branch", "x~1"}}), false},
      {"branch ending /", ref({{"branch", "x/"}}), false},
      {"tag with :", ref({{"tag", "v1:2"}}), false},
      {"tag with @{", ref({{"tag", "v@{1}"}}), false},
      {"name not under refs/", ref({{"name", "heads/main"}}), false},
      {"name HEAD", ref({{"name", "HEAD"}}), false},
      {"semver garbage", ref({{"semver", "latest"}}), false},
      {"commit short", ref({{"commit", "7b38240"}}), false},
      {"commit not hex", ref({{"commit", std::string(40, 'g')}}), false},
      {"bad branch ignored under a tag", ref({{"branch", "a..b"}, {"tag", "v1"}}), true},
      {"bad branch used with a commit", ref({{"branch", "a..b"}, {"commit", k_c1}}), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = validate_ref(c.ref);
    EXPECT_EQ(r.has_value(), c.ok) << (r ? "" : r.error().message);
    if (!r) {
      EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
      EXPECT_EQ(r.error().message.rfind("ref.", 0), 0u) << r.error().message;
    }
  }
}

TEST(GitRefs, IgnoredFieldsFollowPrecedence) {
  EXPECT_EQ(ignored_fields({}), std::vector<std::string>{});
  EXPECT_EQ(ignored_fields(ref({{"branch", "main"}, {"commit", k_c1}})),
            std::vector<std::string>{});
  EXPECT_EQ(ignored_fields(ref({{"branch", "main"}, {"tag", "v1"}})),
            std::vector<std::string>{"branch"});
  EXPECT_EQ(
      ignored_fields(ref({{"branch", "b"}, {"tag", "t"}, {"semver", "*"}, {"name", "refs/x"}})),
      (std::vector<std::string>{"semver", "tag", "branch"}));
  EXPECT_EQ(ignored_fields(ref({{"branch", "b"}, {"tag", "t"}, {"commit", k_c1}})),
            std::vector<std::string>{"tag"});
}

TEST(GitRefs, RefspecsAreNarrow) {
  Target branch{TargetKind::branch, "refs/heads/main", k_c2, "main", ""};
  EXPECT_EQ(refspecs_for(branch), std::vector<std::string>{"+refs/heads/main:refs/heads/main"});
  Target tag{TargetKind::tag, "refs/tags/v1.0.0", k_c1, "v1.0.0", ""};
  EXPECT_EQ(refspecs_for(tag), std::vector<std::string>{"+refs/tags/v1.0.0:refs/tags/v1.0.0"});
  Target commit{TargetKind::commit, "", "", "", k_c1};
  EXPECT_EQ(refspecs_for(commit),
            (std::vector<std::string>{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}));
}

TEST(GitRefs, RevisionsInFluxFormat) {
  EXPECT_EQ(format_revision("main", k_c2), "main@sha1:" + k_c2);
  EXPECT_EQ(format_revision("v1.0.0", k_c1), "v1.0.0@sha1:" + k_c1);
  EXPECT_EQ(format_revision("refs/pull/7/head", k_c1), "refs/pull/7/head@sha1:" + k_c1);
  EXPECT_EQ(format_revision("", k_c1), "sha1:" + k_c1);
  EXPECT_EQ(short_ref_name("refs/heads/feature/x"), "feature/x");
  EXPECT_EQ(short_ref_name("refs/tags/v1"), "v1");
  EXPECT_EQ(short_ref_name("refs/pull/1/head"), "refs/pull/1/head");
}

} // namespace
} // namespace common::gitsource
