#include "common/registry/digest.hpp"

#include <cstddef>
#include <string>
#include <string_view>

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

namespace common::registry {
namespace {

using util::ErrorKind;

// SHA2Engine::update takes an unsigned length; large inputs go in slices.
std::string hash(Poco::SHA2Engine::ALGORITHM algorithm, std::string_view bytes) {
  Poco::SHA2Engine engine(algorithm);
  constexpr std::size_t k_slice = std::size_t{1} << 30;
  for (std::size_t pos = 0; pos < bytes.size(); pos += k_slice) {
    const std::string_view part = bytes.substr(pos, k_slice);
    engine.update(part.data(), static_cast<unsigned>(part.size()));
  }
  return Poco::DigestEngine::digestToHex(engine.digest());
}

struct Algorithm {
  std::string_view name;
  std::size_t hex_digits;
  Poco::SHA2Engine::ALGORITHM poco;
};

constexpr Algorithm k_algorithms[] = {
    {"sha256", 64, Poco::SHA2Engine::SHA_256},
    {"sha384", 96, Poco::SHA2Engine::SHA_384},
    {"sha512", 128, Poco::SHA2Engine::SHA_512},
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
  return "sha256:" + hash(Poco::SHA2Engine::SHA_256, bytes);
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
  return std::string(algorithm->name) + ":" + hash(algorithm->poco, bytes);
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

} // namespace common::registry
