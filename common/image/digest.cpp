#include "common/image/digest.hpp"

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util/sha256.hpp"

namespace common::image {
namespace {

using util::ErrorKind;

struct Algorithm {
  std::string_view name;
  std::size_t hex_digits;
  util::Sha2 sha2;
};

constexpr Algorithm k_algorithms[] = {
    {"sha256", 64, util::Sha2::sha256},
    {"sha384", 96, util::Sha2::sha384},
    {"sha512", 128, util::Sha2::sha512},
};

const Algorithm* find_algorithm(std::string_view name) noexcept {
  for (const Algorithm& a : k_algorithms) {
    if (a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

} // namespace

std::string sha256_digest(std::string_view bytes) {
  return "sha256:" + util::sha256_hex(bytes);
}

util::Result<std::string> digest_like(std::string_view like, std::string_view bytes) {
  const std::size_t colon = like.find(':');
  const std::string_view name = like.substr(0, colon);
  const Algorithm* algorithm = find_algorithm(name);
  if (colon == std::string_view::npos || !is_valid_digest(like)) {
    if (colon != std::string_view::npos && algorithm == nullptr && !name.empty()) {
      return util::fail(ErrorKind::unsupported,
                        "unsupported digest algorithm \"" + std::string(name.substr(0, 20)) + "\"");
    }
    return util::fail(ErrorKind::invalid_input,
                      "malformed digest \"" + std::string(like.substr(0, 140)) + "\"");
  }
  return std::string(algorithm->name) + ":" + util::sha2_hex(algorithm->sha2, bytes);
}

bool is_valid_digest(std::string_view digest) noexcept {
  const std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  const Algorithm* algorithm = find_algorithm(digest.substr(0, colon));
  if (algorithm == nullptr) {
    return false;
  }
  const std::string_view hex = digest.substr(colon + 1);
  if (hex.size() != algorithm->hex_digits) {
    return false;
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

} // namespace common::image
