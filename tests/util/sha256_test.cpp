#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/util/sha256.hpp"

namespace common::util {
namespace {

struct Vector {
  std::string input;
  std::string sha256;
};

// FIPS 180-2 / NIST CAVP vectors.
const std::vector<Vector> k_vectors = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {std::string(1'000'000, 'a'),
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

TEST(Sha256, OneShotAndIncrementalAgreeOnKnownVectors) {
  for (const Vector& v : k_vectors) {
    SCOPED_TRACE(v.input.substr(0, 20));
    EXPECT_EQ(sha256_hex(v.input), v.sha256);
    EXPECT_EQ(to_hex(sha256_bytes(v.input)), v.sha256);
    EXPECT_EQ(sha2_hex(Sha2::sha256, v.input), v.sha256);
    // The same bytes in uneven pieces.
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{4096}}) {
      Sha256 h;
      for (std::size_t at = 0; at < v.input.size(); at += piece) {
        h.update(std::string_view(v.input).substr(at, piece));
      }
      EXPECT_EQ(h.hex(), v.sha256) << "pieces of " << piece;
    }
  }
}

TEST(Sha256, EmbeddedNulBytesCount) {
  const std::string with_nul("a\0b", 3);
  Sha256 h;
  h.update("a").update(std::string_view("\0", 1)).update("b");
  const std::string incremental = h.hex();
  EXPECT_EQ(incremental, sha256_hex(with_nul));
  EXPECT_NE(incremental, sha256_hex("ab"));
}

TEST(Sha256, OtherLengths) {
  struct Case {
    Sha2 algorithm;
    std::string input;
    std::string hex;
  };
  const std::vector<Case> cases = {
      {Sha2::sha384, "abc",
       "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c"
       "825"
       "a7"},
      {Sha2::sha512, "abc",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3f"
       "eeb"
       "bd454d4423643ce80e2a9ac94fa54ca49f"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(sha2_hex(c.algorithm, c.input), c.hex);
  }
}

TEST(Sha256, MovedFromHasherIsSafeToDestroy) {
  Sha256 a;
  a.update("ab");
  Sha256 b(std::move(a));
  b.update("c");
  EXPECT_EQ(b.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ToHex, LowerCaseTwoDigitsPerByte) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""}, {std::string("\x00\x0f\xf0\xff", 4), "000ff0ff"}, {"AZ", "415a"}};
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(to_hex(in), want);
  }
}

} // namespace
} // namespace common::util
