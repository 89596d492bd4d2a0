// Internal to the TLS module (tls_module.cpp): one OpenSSL client context per distinct
// TLS setting, with certificate verification that remembers why it failed.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/http/poco_client.hpp"
#include "common/util/error.hpp"

namespace Poco::Net {
class Context;
} // namespace Poco::Net

namespace common::http::detail {

class TlsContext {
public:
  // A TLS 1.2+ client context. Verifying (the default): the chain against `system_ca` (skipped
  // when that file does not exist) plus `tls.ca_file`, through a callback that records the
  // reason of a failure; host names are checked by the caller after the handshake. Insecure: no
  // verification at all; tls.ca_pem is trusted too. The client certificate and key of `tls`, if
  // any, are loaded either way. Fails with invalid_input when a CA (file or PEM text) or the
  // client certificate or key cannot be loaded or do not match, internal when
  // OpenSSL refuses to make a context.
  static util::Result<std::shared_ptr<TlsContext>> make(const TlsOptions& tls,
                                                        const std::string& system_ca);
  explicit TlsContext(Poco::Net::Context* context); // takes one reference
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // The Poco context (reference counted: wrap as Context::Ptr(ptr, true)).
  Poco::Net::Context* context() const { return m_context; }

  // Why the calling thread's last handshake failed verification, once; nullopt if it did not.
  // OpenSSL itself only says "certificate verify failed". The handshake runs synchronously on
  // the calling thread, so the thread id is the key.
  std::optional<std::string> take_failure();
  void record_failure(std::string reason); // for the verify callback

private:
  Poco::Net::Context* m_context;
  std::mutex m_mutex;
  std::map<std::thread::id, std::string> m_failures;
};

// Clears the calling thread's OpenSSL error queue (Poco describes failures from it).
void clear_openssl_errors();

} // namespace common::http::detail
