#include <array>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "common/store/sqlite_store.hpp"

namespace common::store {
namespace {

TEST(StoreContinueToken, RoundTrips) {
  const Key cases[] = {
      {"default", "a"},
      {"ns", "name-with-dashes.and.dots"},
      {"x", "y"},
      {"kube-system", std::string(253, 'z')},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.namespace_ + "/" + k.name);
    std::string token = encode_continue(k);
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    auto back = decode_continue(token);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(*back, k);
  }
}

TEST(StoreContinueToken, RejectsForgeries) {
  const std::string good = encode_continue(Key{"ns", "name"});
  const std::string cases[] = {
      "!!!!",                                             // not base64url
      "a",                                                // dangling bits
      good + "=",                                         // padding is not issued
      good.substr(0, good.size() - 1) + "/",              // standard alphabet character
      "aGVsbG8",                                          // "hello": no format tag
      encode_continue(Key{"", "name"}),                   // empty namespace
      encode_continue(Key{"ns", ""}),                     // empty name
      encode_continue(Key{"ns", std::string("a\0b", 3)}), // extra separator
      std::string(5000, 'A'),                             // too long
  };
  for (const auto& token : cases) {
    SCOPED_TRACE(token.substr(0, 40));
    auto k = decode_continue(token);
    ASSERT_FALSE(k.has_value());
    EXPECT_EQ(k.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(k.error().message.find("continue token"), std::string::npos);
  }
}

TEST(StoreUuid, IsVersion4Variant1) {
  struct Case {
    std::array<std::uint8_t, 16> bytes;
    const char* uuid;
  };
  const Case cases[] = {
      {{}, "00000000-0000-4000-8000-000000000000"},
      {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff},
       "ffffffff-ffff-4fff-bfff-ffffffffffff"},
      {{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
        0xef},
       "01234567-89ab-4def-8123-456789abcdef"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_uuid_v4(c.bytes), c.uuid);
  }
}

} // namespace
} // namespace common::store
