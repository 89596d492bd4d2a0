#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/cache/entry_file.hpp"

namespace common::cache {
namespace {

using std::chrono::system_clock;

const system_clock::time_point k_t0{std::chrono::seconds(1'700'000'000)};

std::string encode(std::string_view ns, std::string_view key, std::string_view data,
                   system_clock::time_point at = k_t0) {
  return encode_header(ns, key, data, at) + std::string(ns) + std::string(key) + std::string(data);
}

TEST(CacheEntryFile, ChecksKeys) {
  struct Case {
    std::string ns;
    std::string key;
    bool ok;
  };
  const Case cases[] = {
      {"tags", "https://registry-1.docker.io/library/nginx", true},
      {"blob", "sha256:0123", true},
      {"A.b_c-9", "k", true},
      {std::string(64, 'n'), "k", true},
      {"", "k", false},
      {std::string(65, 'n'), "k", false},
      {"../etc", "k", false},
      {"a/b", "k", false},
      {std::string("a\0b", 3), "k", false},
      {"tags", "", false},
      {"tags", std::string(k_max_key_size, 'k'), true},
      {"tags", std::string(k_max_key_size + 1, 'k'), false},
      {"tags", std::string("any\0bytes/../\n", 14), true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ns + " " + c.key.substr(0, 40));
    auto r = check_key(c.ns, c.key);
    EXPECT_EQ(r.has_value(), c.ok);
    if (!r) {
      EXPECT_EQ(r.error().kind, util::ErrorKind::invalid_input);
    }
  }
}

TEST(CacheEntryFile, DigestIsSha256OfNamespaceNulKey) {
  EXPECT_EQ(key_digest("tags", "https://registry-1.docker.io/library/nginx"),
            "622c16a69ea00f92161fd838dbe3ca6990082f03e857a57fb428c6af62268a0f");
  EXPECT_NE(key_digest("tags", "x"), key_digest("blob", "x"));
  EXPECT_NE(key_digest("tags", "ax"), key_digest("tagsa", "x"));
}

// File names: the key escaped (no hashing, no path, injective), SHA-256 only for long keys.
TEST(CacheEntryFile, EntryNamesEscapeTheKeyAndNeverNameAPath) {
  struct Case {
    std::string ns, key, name;
  };
  const std::vector<Case> cases = {
      {"tags", "https://registry-1.docker.io/library/nginx",
       "tags=https_3a_2f_2fregistry-1.docker.io_2flibrary_2fnginx"},
      {"tags", "../../etc/passwd", "tags=.._2f.._2fetc_2fpasswd"},
      {"blob", "a=b#c_d", "blob=a_3db_23c_5fd"},
      {"x", std::string("\0\n\xff", 3), "x=_00_0a_ff"},
      {"tags", std::string(200, 'a'), "tags#" + key_digest("tags", std::string(200, 'a'))},
  };
  for (const auto& c : cases) {
    const std::string name = entry_name(c.ns, c.key);
    EXPECT_EQ(name, c.name);
    EXPECT_LE(name.size(), k_max_entry_name + 0u);
    EXPECT_EQ(name.find('/'), std::string::npos);
    EXPECT_TRUE(is_entry_name(name)) << name;
    const std::string shard = shard_of(c.ns, c.key);
    ASSERT_EQ(shard.size(), 2u);
    EXPECT_TRUE(is_entry_name(std::string(64, 'a'))) << "earlier versions' names";
  }
  // Injective where a naive escape would not be: "_" itself is escaped.
  EXPECT_NE(entry_name("t", "_2f"), entry_name("t", "/"));
  EXPECT_NE(entry_name("t", "a"), entry_name("t=a", ""));
  const std::vector<std::string> bad_names = {"",
                                              "=",
                                              "#",
                                              "README",
                                              ".tmp.x",
                                              "tags=a/b",
                                              "tags#abc",
                                              "ta/gs=x",
                                              std::string(64, 'g'),
                                              "tags=x.lock" + std::string(200, 'a')};
  for (const std::string& bad : bad_names) {
    EXPECT_FALSE(is_entry_name(bad)) << bad;
  }
}

TEST(CacheEntryFile, RoundTrips) {
  struct Case {
    std::string ns;
    std::string key;
    std::string data;
    system_clock::time_point at;
  };
  const Case cases[] = {
      {"tags", "https://r/x", "[\"1.0\",\"1.1\"]", k_t0},
      {"blob", "sha256:ab", "", k_t0},
      {"b", std::string("k\0\n", 3), std::string("\0\n\r\xff", 4), k_t0},
      {"tags", "k", std::string(1 << 20, 'x'), k_t0 + std::chrono::nanoseconds(123456789)},
      {"tags", "k", "before the epoch", system_clock::time_point(-std::chrono::seconds(5))},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ns + " " + c.key);
    const std::string bytes = encode(c.ns, c.key, c.data, c.at);
    auto e = decode_entry(bytes);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->ns, c.ns);
    EXPECT_EQ(e->key, c.key);
    EXPECT_EQ(e->data, c.data);
    EXPECT_EQ(e->stored_at, c.at);
    auto h = decode_header(bytes.substr(0, k_max_header_size));
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->file_size(), bytes.size());
  }
}

TEST(CacheEntryFile, RejectsEveryTruncationAndExtension) {
  const std::string bytes = encode("tags", "https://r/x", "[\"1.0\",\"1.1\"]");
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_FALSE(decode_entry(bytes.substr(0, n)).has_value());
  }
  EXPECT_FALSE(decode_entry(bytes + "x").has_value());
}

TEST(CacheEntryFile, RejectsDamage) {
  const std::string good = encode("tags", "key", "data");
  const std::string header = encode_header("tags", "key", "data", k_t0);
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::string flipped = good;
  flipped.back() ^= 1;
  std::string flipped_key = good;
  flipped_key[header.size() + 5] ^= 1;
  const Case cases[] = {
      {"data byte flipped", flipped},
      {"key byte flipped", flipped_key},
      {"magic", replaced("iu-cache 1", "iu-cache 2")},
      {"plus sign", replaced(" 4 ", " +4 ")},
      {"leading zero", replaced(" 4 ", " 04 ")},
      {"time changed", replaced("1700000000", "1700000001")},
      {"two spaces", replaced(" 3 ", "  3 ")},
      {"garbage", "hello world"},
      {"empty", ""},
      {"magic only", "iu-cache 1\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(decode_entry(c.bytes).has_value());
  }
  std::string upper = good;
  for (std::size_t i = header.size() - 17; i < header.size() - 1; ++i) {
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  }
  if (upper != good) {
    EXPECT_FALSE(decode_entry(upper).has_value());
  }
}

TEST(CacheEntryFile, RejectsOverflowingSizes) {
  std::string bytes =
      "iu-cache 1\n0 18446744073709551615 18446744073709551615 1 0000000000000000\n";
  EXPECT_FALSE(decode_entry(bytes).has_value());
  auto h = decode_header(bytes);
  ASSERT_TRUE(h.has_value());
  EXPECT_FALSE(h->file_size().has_value());
}

} // namespace
} // namespace common::cache
