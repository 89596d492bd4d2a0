#include "common/http/tls_context.hpp"

#include <filesystem>
#include <memory>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>

namespace common::http::detail {
namespace {

using util::ErrorKind;

int verify_callback(int ok, X509_STORE_CTX* store) {
  if (ok == 1) {
    return 1;
  }
  try {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    // The SSL_CTX's app data (ex_data index 0, which Poco does not use) is its TlsContext.
    auto* self = ssl == nullptr
                     ? nullptr
                     : static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    if (self != nullptr) {
      std::string reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
      if (X509* cert = X509_STORE_CTX_get_current_cert(store); cert != nullptr) {
        char subject[256] = {};
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        reason += " (certificate \"" + std::string(subject) + "\" at depth " +
                  std::to_string(X509_STORE_CTX_get_error_depth(store)) + ")";
      }
      self->record_failure(std::move(reason));
    }
  } catch (...) { // NOLINT: nothing may escape into OpenSSL; the handshake fails anyway
  }
  return 0;
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown error";
  }
  char buffer[256] = {};
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio memory_bio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Adds every certificate of `pem` to the context's trust store; false when none could be read.
bool add_ca_pem(SSL_CTX* ctx, const std::string& pem) {
  Bio bio = memory_bio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (bio) {
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      return false;
    }
    ++added;
  }
  ERR_clear_error(); // the end of the PEM text reads as an error
  return added > 0;
}

// The client certificate (with any chain after it) and key from PEM text.
bool use_client_pem(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  Bio bio = memory_bio(cert_pem);
  std::unique_ptr<X509, X509Free> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                           : nullptr);
  if (!cert || SSL_CTX_use_certificate(ctx, cert.get()) != 1) {
    return false;
  }
  while (true) {
    X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (extra == nullptr) {
      break;
    }
    if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1) { // takes ownership on success
      X509_free(extra);
      return false;
    }
  }
  ERR_clear_error();
  Bio key_bio = memory_bio(key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  return key && SSL_CTX_use_PrivateKey(ctx, key.get()) == 1;
}

// Loads the client certificate and key of `tls`, if any. The message names the files (or says
// PEM text), never the key's content.
util::Result<void> use_client_certificate(SSL_CTX* ctx, const TlsOptions& tls) {
  if (tls.client_cert_file.empty() && tls.client_cert_pem.empty()) {
    return {};
  }
  const std::string what =
      tls.client_cert_file.empty()
          ? std::string("the client certificate PEM data")
          : "client certificate " + tls.client_cert_file +
                (tls.client_key_file.empty() ? "" : " and key " + tls.client_key_file);
  bool ok = false;
  if (!tls.client_cert_file.empty()) {
    ok = SSL_CTX_use_certificate_chain_file(ctx, tls.client_cert_file.c_str()) == 1;
  } else {
    ok = use_client_pem(ctx, tls.client_cert_pem, tls.client_key_pem);
  }
  if (ok && !tls.client_key_file.empty()) {
    ok = SSL_CTX_use_PrivateKey_file(ctx, tls.client_key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  } else if (ok && !tls.client_cert_file.empty()) { // a file with PEM key text
    Bio bio = memory_bio(tls.client_key_pem);
    std::unique_ptr<EVP_PKEY, KeyFree> key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ok = key && SSL_CTX_use_PrivateKey(ctx, key.get()) == 1;
  }
  if (ok && SSL_CTX_check_private_key(ctx) != 1) {
    return util::fail(ErrorKind::invalid_input,
                      "cannot load " + what + ": the key does not match the certificate");
  }
  if (!ok) {
    return util::fail(ErrorKind::invalid_input, "cannot load " + what + ": " + openssl_error());
  }
  return {};
}

} // namespace

util::Result<std::shared_ptr<TlsContext>> TlsContext::make(const TlsOptions& tls,
                                                           const std::string& system_ca) {
  try {
    Poco::Net::Context::Params params;
    // STRICT, not RELAXED: Poco skips the host name check for loopback peers in RELAXED mode.
    params.verificationMode = tls.insecure_skip_verify ? Poco::Net::Context::VERIFY_NONE
                                                       : Poco::Net::Context::VERIFY_STRICT;
    params.loadDefaultCAs = false;
    params.cipherList = "DEFAULT";
    auto out = std::make_shared<TlsContext>(
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params));
    out->m_context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    SSL_CTX* raw = out->m_context->sslContext();
    if (auto client = use_client_certificate(raw, tls); !client) {
      return std::unexpected(client.error());
    }
    if (tls.insecure_skip_verify) {
      // No callback at all: Poco's would report to SSLManager's process-wide event.
      SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
      return out;
    }
    std::error_code ec;
    if (std::filesystem::is_regular_file(system_ca, ec) &&
        SSL_CTX_load_verify_locations(raw, system_ca.c_str(), nullptr) != 1) {
      return util::fail(ErrorKind::invalid_input,
                        "cannot load the system CA bundle " + system_ca + ": " + openssl_error());
    }
    if (!tls.ca_file.empty() &&
        SSL_CTX_load_verify_locations(raw, tls.ca_file.c_str(), nullptr) != 1) {
      return util::fail(ErrorKind::invalid_input,
                        "cannot load CA file " + tls.ca_file + ": " + openssl_error());
    }
    if (!tls.ca_pem.empty() && !add_ca_pem(raw, tls.ca_pem)) {
      return util::fail(ErrorKind::invalid_input,
                        "cannot load the CA PEM data: no certificate could be read from it");
    }
    SSL_CTX_set_app_data(raw, out.get());
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, &verify_callback);
    return out;
  } catch (const Poco::Exception& e) {
    ERR_clear_error();
    return util::fail(ErrorKind::internal, "cannot create a TLS context: " + e.displayText());
  }
}

TlsContext::TlsContext(Poco::Net::Context* context) : m_context(context) {}

TlsContext::~TlsContext() {
  SSL_CTX_set_app_data(m_context->sslContext(), nullptr);
  m_context->release();
}

void TlsContext::record_failure(std::string reason) {
  const std::lock_guard lock(m_mutex);
  m_failures.try_emplace(std::this_thread::get_id(), std::move(reason));
}

std::optional<std::string> TlsContext::take_failure() {
  const std::lock_guard lock(m_mutex);
  const auto it = m_failures.find(std::this_thread::get_id());
  if (it == m_failures.end()) {
    return std::nullopt;
  }
  std::string reason = std::move(it->second);
  m_failures.erase(it);
  return reason;
}

void clear_openssl_errors() {
  ERR_clear_error();
}

} // namespace common::http::detail
