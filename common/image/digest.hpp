// Content digests ("sha256:<hex>") as registries name manifests and blobs and Flux names
// artifacts. Pure; the hashing is util's (OpenSSL EVP).
#pragma once

#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::image {

// "sha256:" + 64 lower-case hex digits of SHA-256(bytes).
std::string sha256_digest(std::string_view bytes);

// Computes `bytes`' digest with the algorithm named by `like` ("sha256:...", "sha384:...",
// "sha512:..."), so that a registry's claim can be checked. Fails (unsupported) on another
// algorithm and (invalid_input) on a malformed digest.
util::Result<std::string> digest_like(std::string_view like, std::string_view bytes);

// True for "<sha256|sha384|sha512>:<64|96|128 lower-case hex digits>".
bool is_valid_digest(std::string_view digest) noexcept;

} // namespace common::image
