#include <string>

#include <gtest/gtest.h>

#include "common/image/reference.hpp"

namespace common::image {
namespace {

const std::string k_sha256 =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string k_sha512 = "sha512:" + std::string(128, 'f');
const std::string k_other_digest = "sha256+b64u.x:0123456789abcdefABCDEF0123456789";

struct Accepted {
  std::string input;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
  std::string familiar;
  std::string to_string;
};

const Accepted k_accepted[] = {
    // Docker Hub normalisation.
    {"nginx", "docker.io", "library/nginx", "", "", "nginx", "docker.io/library/nginx"},
    {"nginx:1.25", "docker.io", "library/nginx", "1.25", "", "nginx",
     "docker.io/library/nginx:1.25"},
    {"docker.io/nginx", "docker.io", "library/nginx", "", "", "nginx", "docker.io/library/nginx"},
    {"docker.io/library/nginx", "docker.io", "library/nginx", "", "", "nginx",
     "docker.io/library/nginx"},
    {"index.docker.io/nginx:latest", "docker.io", "library/nginx", "latest", "", "nginx",
     "docker.io/library/nginx:latest"},
    {"index.docker.io/acme/app", "docker.io", "acme/app", "", "", "acme/app", "docker.io/acme/app"},
    {"acme/app:v1", "docker.io", "acme/app", "v1", "", "acme/app", "docker.io/acme/app:v1"},
    {"library/a/b", "docker.io", "library/a/b", "", "", "library/a/b", "docker.io/library/a/b"},
    {"a/b/c/d", "docker.io", "a/b/c/d", "", "", "a/b/c/d", "docker.io/a/b/c/d"},
    // A single component is never a registry (distribution's fast path).
    {"localhost", "docker.io", "library/localhost", "", "", "localhost",
     "docker.io/library/localhost"},
    {"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost",
     "docker.io/library/localhost:5000"},
    {"example.com", "docker.io", "library/example.com", "", "", "example.com",
     "docker.io/library/example.com"},
    {"index.docker.io", "docker.io", "library/index.docker.io", "", "", "index.docker.io",
     "docker.io/library/index.docker.io"},
    // Other registries: no "library/".
    {"ghcr.io/acme/app:1.2.3", "ghcr.io", "acme/app", "1.2.3", "", "ghcr.io/acme/app",
     "ghcr.io/acme/app:1.2.3"},
    {"quay.io/org/sub/app", "quay.io", "org/sub/app", "", "", "quay.io/org/sub/app",
     "quay.io/org/sub/app"},
    {"gcr.io/app", "gcr.io", "app", "", "", "gcr.io/app", "gcr.io/app"},
    {"localhost/app", "localhost", "app", "", "", "localhost/app", "localhost/app"},
    {"localhost:5000/app:dev", "localhost:5000", "app", "dev", "", "localhost:5000/app",
     "localhost:5000/app:dev"},
    {"registry:5000/app", "registry:5000", "app", "", "", "registry:5000/app", "registry:5000/app"},
    {"127.0.0.1:5000/app:1.0", "127.0.0.1:5000", "app", "1.0", "", "127.0.0.1:5000/app",
     "127.0.0.1:5000/app:1.0"},
    {"[::1]:5000/app:1", "[::1]:5000", "app", "1", "", "[::1]:5000/app", "[::1]:5000/app:1"},
    {"[::1]/app", "[::1]", "app", "", "", "[::1]/app", "[::1]/app"},
    {"[2001:DB8::1]/ns/app", "[2001:DB8::1]", "ns/app", "", "", "[2001:DB8::1]/ns/app",
     "[2001:DB8::1]/ns/app"},
    {"my-registry.example.com:443/a/b", "my-registry.example.com:443", "a/b", "", "",
     "my-registry.example.com:443/a/b", "my-registry.example.com:443/a/b"},
    // An upper-case first component can only be a host.
    {"Foo/bar", "Foo", "bar", "", "", "Foo/bar", "Foo/bar"},
    {"Registry.Example.COM/app", "Registry.Example.COM", "app", "", "", "Registry.Example.COM/app",
     "Registry.Example.COM/app"},
    // Path component separators.
    {"example.com/a-b_c__d.e---f/g", "example.com", "a-b_c__d.e---f/g", "", "",
     "example.com/a-b_c__d.e---f/g", "example.com/a-b_c__d.e---f/g"},
    {"a", "docker.io", "library/a", "", "", "a", "docker.io/library/a"},
    {"0", "docker.io", "library/0", "", "", "0", "docker.io/library/0"},
    // Tags.
    {"app:_x", "docker.io", "library/app", "_x", "", "app", "docker.io/library/app:_x"},
    {"app:A.B-c_D", "docker.io", "library/app", "A.B-c_D", "", "app",
     "docker.io/library/app:A.B-c_D"},
    {"app:" + std::string(128, 't'), "docker.io", "library/app", std::string(128, 't'), "", "app",
     "docker.io/library/app:" + std::string(128, 't')},
    // Digests, with and without a tag.
    {"nginx@" + k_sha256, "docker.io", "library/nginx", "", k_sha256, "nginx",
     "docker.io/library/nginx@" + k_sha256},
    {"nginx:1.25@" + k_sha256, "docker.io", "library/nginx", "1.25", k_sha256, "nginx",
     "docker.io/library/nginx:1.25@" + k_sha256},
    {"ghcr.io/acme/app@" + k_sha512, "ghcr.io", "acme/app", "", k_sha512, "ghcr.io/acme/app",
     "ghcr.io/acme/app@" + k_sha512},
    {"localhost:5000/app:v2@" + k_other_digest, "localhost:5000", "app", "v2", k_other_digest,
     "localhost:5000/app", "localhost:5000/app:v2@" + k_other_digest},
    // Familiar names that would read back as a registry keep the registry.
    {"docker.io/foo.bar/baz", "docker.io", "foo.bar/baz", "", "", "docker.io/foo.bar/baz",
     "docker.io/foo.bar/baz"},
    {"docker.io/localhost/x", "docker.io", "localhost/x", "", "", "docker.io/localhost/x",
     "docker.io/localhost/x"},
    // A 64-hex repository is not an image ID once it has a tag or a path, but its familiar
    // name keeps "library/" so that it is not read as one.
    {std::string(64, 'a') + ":5bc", "docker.io", "library/" + std::string(64, 'a'), "5bc", "",
     "library/" + std::string(64, 'a'), "docker.io/library/" + std::string(64, 'a') + ":5bc"},
    // 255 characters of name exactly.
    {"ghcr.io/" + std::string(247, 'a'), "ghcr.io", std::string(247, 'a'), "", "",
     "ghcr.io/" + std::string(247, 'a'), "ghcr.io/" + std::string(247, 'a')},
};

TEST(ImageReference, ParsesAndNormalises) {
  for (const Accepted& c : k_accepted) {
    SCOPED_TRACE(c.input);
    auto ref = parse_reference(c.input);
    ASSERT_TRUE(ref.has_value()) << ref.error().message;
    EXPECT_EQ(ref->registry, c.registry);
    EXPECT_EQ(ref->repository, c.repository);
    EXPECT_EQ(ref->tag, c.tag);
    EXPECT_EQ(ref->digest, c.digest);
    EXPECT_EQ(ref->name(), c.registry + "/" + c.repository);
    EXPECT_EQ(ref->familiar_name(), c.familiar);
    EXPECT_EQ(ref->to_string(), c.to_string);
  }
}

TEST(ImageReference, ToStringAndFamiliarNameRoundTrip) {
  for (const Accepted& c : k_accepted) {
    SCOPED_TRACE(c.input);
    auto ref = parse_reference(c.input);
    ASSERT_TRUE(ref.has_value()) << ref.error().message;
    auto again = parse_reference(ref->to_string());
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(*again, *ref);
    auto familiar = parse_reference(ref->familiar_name());
    ASSERT_TRUE(familiar.has_value()) << familiar.error().message;
    EXPECT_EQ(familiar->name(), ref->name());
  }
}

struct Rejected {
  std::string input;
  std::string error; // expected substring of the message
};

const Rejected k_rejected[] = {
    {"", "empty reference"},
    // Upper case in the repository.
    {"Nginx", "invalid reference \"Nginx\": repository name must be lowercase"},
    {"docker.io/Library/nginx", "repository name must be lowercase"},
    {"localhost:5000/App", "repository name must be lowercase"},
    {"acme/App:1.0", "repository name must be lowercase"},
    {"Foo_bar/app", "repository name must be lowercase"},      // neither a host nor a namespace
    {"Nginx@sha256:abc", "repository name must be lowercase"}, // the name is checked first
    // An image ID is not a name.
    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image ID"},
    // Path components.
    {"foo//bar", "empty path component"},
    {"foo/", "empty path component"},
    {"/foo", "empty path component"},
    {"localhost/", "repository name must have at least one component"},
    {"-foo", "invalid path component \"-foo\""},
    {"foo-", "invalid path component \"foo-\""},
    {"acme/foo..bar", "invalid path component \"foo..bar\""},
    {"foo___bar", "invalid path component"},
    {"foo_-bar", "invalid path component"},
    {"foo._bar", "invalid path component"},
    {"nginx latest", "invalid path component"},
    {"ngi\nnx", "invalid path component \"ngi\\x0anx\""},
    {"ghcr.io/acme/app/", "empty path component"},
    // Registries.
    {"a__b.c/d", "invalid registry \"a__b.c\""},
    {"-host.com/app", "invalid registry"},
    {"host-.com/app", "invalid registry"},
    {"host..com/app", "invalid registry"},
    {"host.com./app", "invalid registry"},
    {"host.com:/app", "invalid registry"},
    {"host.com:50a/app", "invalid registry"},
    {":5000/app", "invalid registry"},
    {"[::1/app", "invalid registry"},
    {"[zz]:5000/app", "invalid registry"},
    {"[]/app", "invalid path component \"[]\""}, // no '.' or ':': not a registry
    {"[::1]x/app", "invalid registry"},
    {"[::1]:/app", "invalid registry"},
    {"host_name.com/app", "invalid registry"},
    // Tags.
    {"nginx:", "empty tag"},
    {"nginx:-bad", "invalid tag \"-bad\""},
    {"nginx:.bad", "invalid tag"},
    {"nginx:1.0:2", "invalid tag \"1.0:2\""},
    {"nginx:^1.0", "invalid tag"},
    {"nginx:>=1.0 <2", "invalid tag"},
    {"nginx:" + std::string(129, 't'), "longer than 128 characters"},
    {"foo/bar:tag/baz", "invalid tag"},
    // Digests.
    {"nginx@", "invalid digest"},
    {"nginx@sha256", "expected algorithm:hex"},
    {"nginx@sha256:abc", "sha256 needs 64 hex digits"},
    {"nginx@sha256:" + std::string(64, 'A'), "lower-case hex"},
    {"nginx@sha256:" + std::string(65, 'a'), "needs 64 hex digits"},
    {"nginx@sha512:" + std::string(64, 'a'), "sha512 needs 128 hex digits"},
    {"nginx@md5:0123456789abcdef", "at least 32 hex digits"},
    {"nginx@blake3:" + std::string(32, 'g'), "not hex"},
    {"nginx@:" + std::string(64, 'a'), "malformed algorithm"},
    {"nginx@1sha:" + std::string(64, 'a'), "malformed algorithm"},
    {"nginx@sha256+:" + std::string(64, 'a'), "malformed algorithm"},
    {"nginx@sha+-x:" + std::string(64, 'a'), "malformed algorithm"},
    {"nginx@" + k_sha256 + "@x", "invalid digest"},
    {"a@b@c", "invalid digest"},
    {"@" + k_sha256, "repository name must have at least one component"},
    // Length: registry/repository is at most 255 characters.
    {"ghcr.io/" + std::string(248, 'a'), "must not be more than 255 characters"},
};

TEST(ImageReference, RejectsWithReason) {
  for (const Rejected& c : k_rejected) {
    SCOPED_TRACE(c.input);
    auto ref = parse_reference(c.input);
    ASSERT_FALSE(ref.has_value()) << ref->to_string();
    EXPECT_EQ(ref.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(ref.error().message.find(c.error), std::string::npos) << ref.error().message;
  }
}

TEST(ImageReference, LongInputIsCutInMessage) {
  auto ref = parse_reference(std::string(10000, 'A'));
  ASSERT_FALSE(ref.has_value());
  EXPECT_LT(ref.error().message.size(), 500u);
}

TEST(ImageReference, FamiliarNameOfBuiltReferences) {
  EXPECT_EQ((Reference{"docker.io", "library/nginx", "", ""}).familiar_name(), "nginx");
  EXPECT_EQ((Reference{"docker.io", "acme/app", "1", ""}).familiar_name(), "acme/app");
  EXPECT_EQ((Reference{"ghcr.io", "acme/app", "", ""}).familiar_name(), "ghcr.io/acme/app");
  EXPECT_EQ((Reference{"docker.io", "library/a/b", "", ""}).familiar_name(), "library/a/b");
}

struct SpecAccepted {
  std::string input;
  std::string alias;
  std::string written;
  std::string registry;
  std::string repository;
  std::string digest;
  std::string constraint;
};

const SpecAccepted k_specs[] = {
    {"nginx", "nginx", "nginx", "docker.io", "library/nginx", "", ""},
    {"nginx:^0.1", "nginx", "nginx", "docker.io", "library/nginx", "", "^0.1"},
    {"nginx:>=1.0", "nginx", "nginx", "docker.io", "library/nginx", "", ">=1.0"},
    {"nginx:latest", "nginx", "nginx", "docker.io", "library/nginx", "", "latest"},
    {"nginx:1.0 - 2.0", "nginx", "nginx", "docker.io", "library/nginx", "", "1.0 - 2.0"},
    {"nginx:>=1.0, <2 || 3.x", "nginx", "nginx", "docker.io", "library/nginx", "",
     ">=1.0, <2 || 3.x"},
    {"app:=1.2", "app", "app", "docker.io", "library/app", "", "=1.2"},
    {"a=nginx:>=1.0 <2", "a", "nginx", "docker.io", "library/nginx", "", ">=1.0 <2"},
    {"x=app:=1.2", "x", "app", "docker.io", "library/app", "", "=1.2"},
    {"myalias=some/image", "myalias", "some/image", "docker.io", "some/image", "", ""},
    {"web/front=ghcr.io/acme/front:1.x", "web/front", "ghcr.io/acme/front", "ghcr.io", "acme/front",
     "", "1.x"},
    {"a.b_c-D9=nginx", "a.b_c-D9", "nginx", "docker.io", "library/nginx", "", ""},
    {"127.0.0.1:5000/app:~1.2", "127.0.0.1:5000/app", "127.0.0.1:5000/app", "127.0.0.1:5000", "app",
     "", "~1.2"},
    {"localhost:5000/app", "localhost:5000/app", "localhost:5000/app", "localhost:5000", "app", "",
     ""},
    {"[::1]:5000/app:1.x", "[::1]:5000/app", "[::1]:5000/app", "[::1]:5000", "app", "", "1.x"},
    {"ghcr.io/acme/app:^1.2", "ghcr.io/acme/app", "ghcr.io/acme/app", "ghcr.io", "acme/app", "",
     "^1.2"},
    {"index.docker.io/nginx:1.x", "index.docker.io/nginx", "index.docker.io/nginx", "docker.io",
     "library/nginx", "", "1.x"},
    // Without a '/', a ':' starts the constraint, as in a reference it starts the tag.
    {"localhost:5000", "localhost", "localhost", "docker.io", "library/localhost", "", "5000"},
    // Digests.
    {"nginx@" + k_sha256, "nginx@" + k_sha256, "nginx@" + k_sha256, "docker.io", "library/nginx",
     k_sha256, ""},
    {"nginx:1.2@" + k_sha256, "nginx@" + k_sha256, "nginx@" + k_sha256, "docker.io",
     "library/nginx", k_sha256, "1.2"},
    {"d=localhost:5000/app@" + k_sha256, "d", "localhost:5000/app@" + k_sha256, "localhost:5000",
     "app", k_sha256, ""},
    // Surrounding space is ignored, space inside a constraint kept.
    {"  nginx:1.x  ", "nginx", "nginx", "docker.io", "library/nginx", "", "1.x"},
    {"nginx: >=1.0 <2 ", "nginx", "nginx", "docker.io", "library/nginx", "", ">=1.0 <2"},
};

TEST(ImageSpec, ParsesAliasImageAndConstraint) {
  for (const SpecAccepted& c : k_specs) {
    SCOPED_TRACE(c.input);
    auto spec = parse_image_spec(c.input);
    ASSERT_TRUE(spec.has_value()) << spec.error().message;
    EXPECT_EQ(spec->alias, c.alias);
    EXPECT_EQ(spec->written, c.written);
    EXPECT_EQ(spec->ref.registry, c.registry);
    EXPECT_EQ(spec->ref.repository, c.repository);
    EXPECT_EQ(spec->ref.tag, "");
    EXPECT_EQ(spec->ref.digest, c.digest);
    EXPECT_EQ(spec->constraint, c.constraint);
  }
}

const Rejected k_bad_specs[] = {
    {"", "empty image spec"},
    {"   ", "empty image spec"},
    {"=nginx", "empty alias"},
    {"a=", "empty image"},
    {"a=:1.0", "empty image"},
    {":1.0", "empty image"},
    {"my alias=nginx", "invalid alias \"my alias\""},
    {"-a=nginx", "invalid alias \"-a\""},
    {"_a=nginx", "invalid alias"},
    {"Nginx", "invalid image \"Nginx\": repository name must be lowercase"},
    {"a=Nginx:1.0", "invalid image \"Nginx\": repository name must be lowercase"},
    {"ghcr.io/Acme/app:1", "invalid image \"ghcr.io/Acme/app\": repository name must be lowercase"},
    {"nginx:", "empty constraint"},
    {"nginx:   ", "empty constraint"},
    {"nginx@sha256:abc", "invalid image \"nginx@sha256:abc\": invalid digest"},
    {"a=b=c", "invalid image \"b=c\": invalid path component"},
    {"a/b:c/d", "invalid image \"a/b:c/d\": invalid tag"},
    {"host.com:/app:1", "invalid image \"host.com:/app\": invalid registry"},
};

TEST(ImageSpec, RejectsWithReason) {
  for (const Rejected& c : k_bad_specs) {
    SCOPED_TRACE(c.input);
    auto spec = parse_image_spec(c.input);
    ASSERT_FALSE(spec.has_value()) << spec->written;
    EXPECT_EQ(spec.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(spec.error().message.find(c.error), std::string::npos) << spec.error().message;
  }
}

} // namespace
} // namespace common::image
