// libcrypto is loaded on first use (dlopen), not linked: imageupdater-cmp starts once per Argo CD
// render and hashes only on some paths, and linking libcrypto.so.3 cost it about 1 ms of a 4 ms
// start-up (mapping and relocating 4.5 MB; measured with hyperfine on `--help`). In
// imageupdater-flux-source libgit2 has loaded it already and dlopen only finds it. The table of
// functions is built once and never changes (a function-local static, thread-safe by C++).
#include "common/util/sha256.hpp"

#include <array>
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <stdexcept>
#include <utility>

namespace common::util {
namespace {

#define IU_STRINGIFY2(x) #x
#define IU_STRINGIFY(x) IU_STRINGIFY2(x)
constexpr const char* k_libcrypto = "libcrypto.so." IU_STRINGIFY(OPENSSL_SHLIB_VERSION);
#undef IU_STRINGIFY
#undef IU_STRINGIFY2

struct Crypto {
  decltype(&EVP_MD_CTX_new) ctx_new = nullptr;
  decltype(&EVP_MD_CTX_free) ctx_free = nullptr;
  decltype(&EVP_DigestInit_ex) init = nullptr;
  decltype(&EVP_DigestUpdate) update = nullptr;
  decltype(&EVP_DigestFinal_ex) final = nullptr;
  decltype(&EVP_sha256) sha256 = nullptr;
  decltype(&EVP_sha384) sha384 = nullptr;
  decltype(&EVP_sha512) sha512 = nullptr;
  std::string error; // why it could not be loaded; "" when loaded
};

template <class F>
void bind(void* handle, const char* name, F& out, std::string& error) {
  out = reinterpret_cast<F>(::dlsym(handle, name)); // NOLINT: dlsym's API
  if (out == nullptr && error.empty()) {
    error = std::string("no ") + name + " in " + k_libcrypto;
  }
}

Crypto load() {
  Crypto c;
  // Never dlclose()d: the functions are used for the life of the process.
  void* handle = ::dlopen(k_libcrypto, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = ::dlerror();
    c.error = std::string("cannot load ") + k_libcrypto + ": " + (reason ? reason : "unknown");
    return c;
  }
  bind(handle, "EVP_MD_CTX_new", c.ctx_new, c.error);
  bind(handle, "EVP_MD_CTX_free", c.ctx_free, c.error);
  bind(handle, "EVP_DigestInit_ex", c.init, c.error);
  bind(handle, "EVP_DigestUpdate", c.update, c.error);
  bind(handle, "EVP_DigestFinal_ex", c.final, c.error);
  bind(handle, "EVP_sha256", c.sha256, c.error);
  bind(handle, "EVP_sha384", c.sha384, c.error);
  bind(handle, "EVP_sha512", c.sha512, c.error);
  return c;
}

// libcrypto is a dependency of the package: its absence is a broken install, reported as an
// exception (like std::bad_alloc) rather than a Result every hash would have to carry.
const Crypto& crypto() {
  static const Crypto c = load();
  if (!c.error.empty()) {
    throw std::runtime_error(c.error);
  }
  return c;
}

const EVP_MD* md_of(const Crypto& c, Sha2 algorithm) {
  switch (algorithm) {
  case Sha2::sha384:
    return c.sha384();
  case Sha2::sha512:
    return c.sha512();
  case Sha2::sha256:
    break;
  }
  return c.sha256();
}

// Init, update and final fail only without memory (the SHA-2 implementations are built in).
EVP_MD_CTX* new_context(Sha2 algorithm) {
  const Crypto& c = crypto();
  EVP_MD_CTX* ctx = c.ctx_new();
  if (ctx == nullptr || c.init(ctx, md_of(c, algorithm), nullptr) != 1) {
    c.ctx_free(ctx);
    throw std::bad_alloc();
  }
  return ctx;
}

void update_context(EVP_MD_CTX* ctx, std::string_view bytes) {
  // EVP_DigestUpdate takes a size_t: no slicing for large inputs (Poco's took an unsigned).
  if (crypto().update(ctx, bytes.data(), bytes.size()) != 1) {
    throw std::bad_alloc();
  }
}

std::string finish_raw(EVP_MD_CTX* ctx) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (crypto().final(ctx, md.data(), &len) != 1) {
    throw std::bad_alloc();
  }
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

void free_context(void* ctx) noexcept {
  if (ctx != nullptr) {
    // Only a context made by new_context reaches here, so libcrypto is loaded: no throw.
    crypto().ctx_free(static_cast<EVP_MD_CTX*>(ctx));
  }
}

std::string digest_raw(Sha2 algorithm, std::string_view bytes) {
  EVP_MD_CTX* ctx = new_context(algorithm);
  std::string out;
  try {
    update_context(ctx, bytes);
    out = finish_raw(ctx);
  } catch (...) {
    free_context(ctx);
    throw;
  }
  free_context(ctx);
  return out;
}

} // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += k_hex[b >> 4];
    out += k_hex[b & 0xf];
  }
  return out;
}

Sha256::Sha256() : m_context(new_context(Sha2::sha256)) {}

Sha256::~Sha256() {
  free_context(m_context);
}

Sha256::Sha256(Sha256&& other) noexcept : m_context(std::exchange(other.m_context, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    free_context(m_context);
    m_context = std::exchange(other.m_context, nullptr);
  }
  return *this;
}

Sha256& Sha256::update(std::string_view bytes) {
  update_context(static_cast<EVP_MD_CTX*>(m_context), bytes);
  return *this;
}

std::string Sha256::hex() {
  return to_hex(finish_raw(static_cast<EVP_MD_CTX*>(m_context)));
}

std::string sha256_hex(std::string_view bytes) {
  return to_hex(digest_raw(Sha2::sha256, bytes));
}

std::string sha256_bytes(std::string_view bytes) {
  return digest_raw(Sha2::sha256, bytes);
}

std::string sha2_hex(Sha2 algorithm, std::string_view bytes) {
  return to_hex(digest_raw(algorithm, bytes));
}

} // namespace common::util
