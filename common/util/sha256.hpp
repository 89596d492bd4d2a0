// SHA-2 digests, written once: every hash in the project (content digests, cache keys, token
// hashes, mirror names, known_hosts fingerprints) goes through here. The implementation is
// OpenSSL's EVP (libcrypto, loaded on first use), which is several times faster than Poco's
// SHA2Engine on large inputs (the push path hashes whole artifacts). No files (beyond loading
// libcrypto once), network or clock. Every function throws std::runtime_error when libcrypto.so.3
// cannot be loaded (a broken install) and std::bad_alloc when it cannot allocate; nothing else
// fails.
#pragma once

#include <string>
#include <string_view>

namespace common::util {

enum class Sha2 { sha256, sha384, sha512 };

// Incremental SHA-256: update() any number of times, then hex() once (after that the object must
// not be updated again). Move-only.
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::string_view bytes);
  std::string hex(); // 64 lower-case hex digits

private:
  void* m_context; // EVP_MD_CTX*; OpenSSL's headers stay in the .cpp
};

// One-shot: the 64 lower-case hex digits of SHA-256(bytes), and the 32 raw bytes.
std::string sha256_hex(std::string_view bytes);
std::string sha256_bytes(std::string_view bytes);

// One-shot with the algorithm chosen at run time (registry digests may be sha384 or sha512):
// lower-case hex of 64, 96 or 128 digits.
std::string sha2_hex(Sha2 algorithm, std::string_view bytes);

// Lower-case hex of raw bytes.
std::string to_hex(std::string_view bytes);

} // namespace common::util
