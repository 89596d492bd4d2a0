#include "common/gitsource/tls_verify.hpp"

#include <memory>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace common::gitsource {

namespace {

struct OpenSslFree {
  void operator()(X509* p) const noexcept { X509_free(p); }
  void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); }
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, OpenSslFree>;

util::Error untrusted(std::string_view host, std::string_view why) {
  return util::Error{util::ErrorKind::auth,
                     "TLS certificate of " + std::string(host) +
                         " not trusted by auth.ca_file: " + std::string(why)};
}

bool is_ip_literal(std::string_view host) {
  return host.find(':') != std::string_view::npos ||
         (!host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos);
}

} // namespace

util::Result<void> verify_server_certificate(std::string_view der, std::string_view ca_pem,
                                             std::string_view host) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Ptr<X509> leaf(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!leaf) {
    ERR_clear_error();
    return std::unexpected(untrusted(host, "the server's certificate does not parse"));
  }
  Ptr<X509_STORE> store(X509_STORE_new());
  Ptr<BIO> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  if (!store || !bio) {
    return util::fail(util::ErrorKind::internal, "out of memory verifying a TLS certificate");
  }
  int added = 0;
  while (true) {
    Ptr<X509> ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!ca) {
      break;
    }
    if (X509_STORE_add_cert(store.get(), ca.get()) == 1) {
      ++added;
    }
  }
  ERR_clear_error(); // the end of the PEM text reads as an error
  if (added == 0) {
    return util::fail(util::ErrorKind::invalid_input, "auth.ca_file holds no PEM certificate");
  }
  Ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) != 1) {
    ERR_clear_error();
    return util::fail(util::ErrorKind::internal, "cannot set up TLS certificate verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  std::string h(host);
  int set = is_ip_literal(h) ? X509_VERIFY_PARAM_set1_ip_asc(param, h.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, h.c_str(), h.size());
  if (set != 1) {
    ERR_clear_error();
    return std::unexpected(untrusted(host, "cannot match the host name"));
  }
  int ok = X509_verify_cert(ctx.get());
  if (ok != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return std::unexpected(untrusted(host, X509_verify_cert_error_string(err)));
  }
  return {};
}

} // namespace common::gitsource
