// Continue tokens and uids: small pure helpers of the SQLite store.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/store/sqlite_store.hpp"
#include "common/util/strings.hpp"

namespace common::store {

namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Version tag of the token's encoding, so a later format can be told apart.
constexpr std::string_view k_token_tag = "k1";
constexpr std::size_t k_max_token = 4096;

std::string base64url(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(k_alphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) {
    out.push_back(k_alphabet[(acc << (6 - bits)) & 0x3f]);
  }
  return out;
}

// Unpadded base64url only; non-zero leftover bits are rejected so each value has one encoding.
bool unbase64url(std::string_view in, std::string& out) {
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = k_alphabet.find(c);
    if (pos == std::string_view::npos) {
      return false;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return bits < 6 && (acc & ((1u << bits) - 1)) == 0;
}

} // namespace

std::string format_uuid_v4(std::array<std::uint8_t, 16> bytes) {
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out.push_back('-');
    }
    out.push_back(hex[bytes[i] >> 4]);
    out.push_back(hex[bytes[i] & 0x0f]);
  }
  return out;
}

std::string encode_continue(const Key& last) {
  std::string raw(k_token_tag);
  raw.push_back('\0');
  raw += last.namespace_;
  raw.push_back('\0');
  raw += last.name;
  return base64url(raw);
}

util::Result<Key> decode_continue(std::string_view token) {
  auto bad = [&](std::string_view why) {
    return util::fail(util::ErrorKind::invalid_input,
                      "continue token " + util::quote(token, 64) + ": " + std::string(why));
  };
  if (token.size() > k_max_token) {
    return bad("too long");
  }
  std::string raw;
  if (!unbase64url(token, raw)) {
    return bad("not a token this server issued (bad encoding)");
  }
  std::string_view rest = raw;
  auto first = rest.find('\0');
  if (first == std::string_view::npos || rest.substr(0, first) != k_token_tag) {
    return bad("not a token this server issued (unknown format)");
  }
  rest.remove_prefix(first + 1);
  auto second = rest.find('\0');
  if (second == std::string_view::npos || second == 0 || second + 1 >= rest.size() ||
      rest.find('\0', second + 1) != std::string_view::npos) {
    return bad("not a token this server issued (malformed key)");
  }
  return Key{std::string(rest.substr(0, second)), std::string(rest.substr(second + 1))};
}

} // namespace common::store
