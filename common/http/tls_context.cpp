#include "common/http/tls_context.hpp"

#include <filesystem>
#include <openssl/err.h>
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
