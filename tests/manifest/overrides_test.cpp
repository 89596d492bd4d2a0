#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/manifest/overrides.hpp"

namespace common::manifest {
namespace {

const std::string k_digest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct ImageArgCase {
  std::string arg;
  std::string repository;
  std::optional<std::string> new_name;
  std::optional<std::string> tag;
  std::optional<std::string> digest;
};

TEST(ParseImageArg, Accepted) {
  const std::vector<ImageArgCase> cases = {
      {"nginx=:1.27.0", "nginx", std::nullopt, "1.27.0", std::nullopt},
      {"nginx=@" + k_digest, "nginx", std::nullopt, std::nullopt, k_digest},
      {"nginx=:1.27@" + k_digest, "nginx", std::nullopt, "1.27", k_digest},
      {"nginx=nginx:1.27", "nginx", "nginx", "1.27", std::nullopt},
      {"nginx=docker.io/library/nginx:1.27", "nginx", "docker.io/library/nginx", "1.27",
       std::nullopt},
      {"ghcr.io/acme/app=registry.acme.example/mirror/app:2.0.0@" + k_digest, "ghcr.io/acme/app",
       "registry.acme.example/mirror/app", "2.0.0", k_digest},
      {"ghcr.io/acme/app=registry.acme.example/mirror/app", "ghcr.io/acme/app",
       "registry.acme.example/mirror/app", std::nullopt, std::nullopt},
      {"127.0.0.1:5000/tools/busybox=:1.37", "127.0.0.1:5000/tools/busybox", std::nullopt, "1.37",
       std::nullopt},
      {"localhost:5000/app=localhost:5000/app:v2", "localhost:5000/app", "localhost:5000/app", "v2",
       std::nullopt},
  };
  for (const ImageArgCase& c : cases) {
    SCOPED_TRACE(c.arg);
    auto parsed = parse_image_arg(c.arg);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->repository, c.repository);
    EXPECT_EQ(parsed->new_name, c.new_name);
    EXPECT_EQ(parsed->tag, c.tag);
    EXPECT_EQ(parsed->digest, c.digest);
    EXPECT_TRUE(parsed->helm.empty());
  }
}

struct Rejected {
  std::string arg;
  std::string message_part;
};

TEST(ParseImageArg, RejectedNamingTheArgument) {
  const std::vector<Rejected> cases = {
      {"nginx", "expected REPO=NEWREF"},
      {"=:1.0", "empty REPO"},
      {"nginx=", "empty NEWREF"},
      {"nginx=:", "empty tag"},
      {"nginx=:bad tag", "invalid tag"},
      {"nginx=:-x", "invalid tag"},
      {"nginx=@sha256:123", "invalid digest"},
      {"nginx=:1.0@", "invalid digest"},
      {"Nginx=:1.0", "lowercase"},
      {"nginx:1.0=:1.1", "without tag or digest"},
      {"nginx@" + k_digest + "=:1.1", "without tag or digest"},
      {"nginx=Nginx:1.0", "lowercase"},
      {"nginx=nginx:1.0 ", "invalid"},
  };
  for (const Rejected& c : cases) {
    SCOPED_TRACE(c.arg);
    auto parsed = parse_image_arg(c.arg);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(parsed.error().message.find("--image"), std::string::npos) << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << parsed.error().message;
  }
}

TEST(ParseSetterArg, Accepted) {
  auto a = parse_setter_arg("flux-system:podinfo=ghcr.io/stefanprodan/podinfo:6.5.0");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->setter, "flux-system:podinfo");
  EXPECT_EQ(a->value, (SetterValue{"ghcr.io/stefanprodan/podinfo", "6.5.0", ""}));
  EXPECT_EQ(a->value.full(), "ghcr.io/stefanprodan/podinfo:6.5.0");

  auto b = parse_setter_arg("ns:p=image:v1.0.0@" + k_digest);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->value, (SetterValue{"image", "v1.0.0", k_digest}));
  EXPECT_EQ(b->value.full(), "image:v1.0.0@" + k_digest);

  // The name is kept as written, not normalised (Flux writes latestRef.name as the
  // ImageRepository spells it).
  auto c = parse_setter_arg("ns:p=127.0.0.1:5000/app:1");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->value.name, "127.0.0.1:5000/app");
  EXPECT_EQ(c->value.tag, "1");
}

TEST(ParseSetterArg, RejectedNamingTheArgument) {
  const std::vector<Rejected> cases = {
      {"ns:p", "expected NS:NAME="},
      {"p=image:1", "NS:NAME"},
      {":p=image:1", "NS:NAME"},
      {"ns:=image:1", "NS:NAME"},
      {"ns:p:tag=image:1", "NS:NAME"},
      {"ns :p=image:1", "white space"},
      {"ns:p=", "empty IMAGE:TAG"},
      {"ns:p=image", "needs a tag"},
      {"ns:p=image@" + k_digest, "needs a tag"},
      {"ns:p=Image:1", "lowercase"},
  };
  for (const Rejected& c : cases) {
    SCOPED_TRACE(c.arg);
    auto parsed = parse_setter_arg(c.arg);
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message.find("--setter"), std::string::npos) << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << parsed.error().message;
  }
}

TEST(ParseHelmPath, Accepted) {
  using S = HelmPathSegment;
  EXPECT_EQ(*parse_helm_path("spec"), (std::vector<S>{S{std::string("spec")}}));
  EXPECT_EQ(*parse_helm_path("image.repository"),
            (std::vector<S>{S{std::string("image")}, S{std::string("repository")}}));
  EXPECT_EQ(*parse_helm_path("images[0].tag"),
            (std::vector<S>{S{std::string("images")}, S{std::size_t{0}}, S{std::string("tag")}}));
  EXPECT_EQ(*parse_helm_path("a[1][2].b-c_d"),
            (std::vector<S>{S{std::string("a")}, S{std::size_t{1}}, S{std::size_t{2}},
                            S{std::string("b-c_d")}}));
}

TEST(ParseHelmPath, Rejected) {
  for (const char* path :
       {"", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[]", "a[0]b", "a.[0]", "a[1234567890]"}) {
    SCOPED_TRACE(path);
    auto parsed = parse_helm_path(path);
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message.find("helm path"), std::string::npos);
  }
}

TEST(Validate, ChecksEveryPart) {
  ImageOverride o;
  o.repository = "ghcr.io/acme/app";
  o.tag = "1.2.3";
  o.helm.tag = "image.tag";
  EXPECT_TRUE(validate(o));

  ImageOverride bad_helm = o;
  bad_helm.helm.name = "image..name";
  ASSERT_FALSE(validate(bad_helm));
  EXPECT_NE(validate(bad_helm).error().message.find("ghcr.io/acme/app"), std::string::npos);

  ImageOverride bad_name = o;
  bad_name.new_name = "acme/App";
  EXPECT_FALSE(validate(bad_name));

  ImageOverride empty_tag = o;
  empty_tag.tag = "";
  EXPECT_FALSE(validate(empty_tag));

  ImageOverride no_repo;
  EXPECT_FALSE(validate(no_repo));
}

} // namespace
} // namespace common::manifest
