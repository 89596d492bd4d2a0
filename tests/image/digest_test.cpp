#include <string>

#include <gtest/gtest.h>

#include "common/image/digest.hpp"

namespace common::image {
namespace {

struct Vector {
  std::string input;
  std::string digest;
};

// FIPS 180-2 test vectors.
const Vector k_vectors[] = {
    {"", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

TEST(ImageDigest, Sha256KnownVectors) {
  for (const Vector& v : k_vectors) {
    SCOPED_TRACE(v.input);
    EXPECT_EQ(sha256_digest(v.input), v.digest);
    auto like = digest_like(v.digest, v.input);
    ASSERT_TRUE(like.has_value()) << like.error().message;
    EXPECT_EQ(*like, v.digest);
  }
}

TEST(ImageDigest, OtherAlgorithms) {
  auto sha512 = digest_like("sha512:" + std::string(128, '0'), "abc");
  ASSERT_TRUE(sha512.has_value());
  EXPECT_EQ(*sha512, "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  auto sha384 = digest_like("sha384:" + std::string(96, 'a'), "abc");
  ASSERT_TRUE(sha384.has_value());
  EXPECT_EQ(*sha384, "sha384:cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                     "8086072ba1e7cc2358baeca134c825a7");
}

struct Validity {
  std::string digest;
  bool valid;
};

const Validity k_validity[] = {
    {"sha256:" + std::string(64, 'a'), true},
    {"sha256:" + std::string(63, 'a'), false},
    {"sha256:" + std::string(64, 'A'), false},
    {"sha256:" + std::string(63, 'a') + "g", false},
    {"sha512:" + std::string(128, '0'), true},
    {"md5:" + std::string(32, '0'), false},
    {std::string(64, 'a'), false},
    {"", false},
};

TEST(ImageDigest, Validity) {
  for (const Validity& v : k_validity) {
    SCOPED_TRACE(v.digest);
    EXPECT_EQ(is_valid_digest(v.digest), v.valid);
  }
  EXPECT_EQ(digest_like("md5:" + std::string(32, '0'), "x").error().kind,
            util::ErrorKind::unsupported);
  EXPECT_EQ(digest_like("sha256:zz", "x").error().kind, util::ErrorKind::invalid_input);
}

} // namespace
} // namespace common::image
