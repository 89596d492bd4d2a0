// Internal to common/http: TLS lives in a module loaded on first use.
//
// Why: Poco::NetSSL and Poco::Crypto (with libssl, libcrypto, Poco::Util, Poco::XML and
// Poco::JSON behind them) cost about 5 ms of dynamic linking in every process that links them,
// which is most of the start-up of a render-time plugin that usually talks to no registry at all
// (warm cache) or to a plain-HTTP loopback one. So poco_client.cpp speaks plain HTTP with
// Poco::Net, and asks this interface for TLS sessions; the implementation (tls_module.cpp,
// tls_context.cpp) is the shared module `imageupdater-tls.so`, loaded by load_tls_module() the
// first time an https origin is contacted.
//
// The module is built with the same compiler and links the same Poco shared libraries, so C++
// types (Url, Error, Poco sessions and exceptions) cross the boundary unchanged. It is never
// unloaded: OpenSSL and Poco keep process-wide state that must not vanish.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/http/poco_client.hpp"
#include "common/http/tls_server.hpp"
#include "common/http/url.hpp"
#include "common/util/error.hpp"

namespace Poco {
class Exception;
namespace Net {
class HTTPClientSession;
} // namespace Net
} // namespace Poco

namespace common::http::detail {

// One TLS setting (an OpenSSL client context); shared by the connections that use it, which keep
// it alive. Poco's SSL library stays initialised while a connector exists.
class TlsConnector {
public:
  virtual ~TlsConnector() = default;

  // A connected HTTPS session to url.host:url.port: TCP connect, then the TLS handshake (SNI,
  // chain verification, then the host name against the certificate), each step bounded by
  // `timeout`. Throws Poco::Exception like Poco does.
  virtual std::unique_ptr<Poco::Net::HTTPClientSession> open(const Url& url,
                                                             std::chrono::milliseconds timeout) = 0;

  // For an exception from a session this connector opened: an auth error when the peer's
  // certificate was not trusted or not valid for the host, internal when OpenSSL could not be
  // set up; nullopt when `e` is not about verification. `what` prefixes the message.
  virtual std::optional<util::Error>
  verification_error(const Poco::Exception& e, const std::string& what, const Url& url) = 0;
};

class TlsModule {
public:
  virtual ~TlsModule() = default;
  // A connector for `tls`, trusting `system_ca` (when the file exists) plus tls.ca_file. Fails
  // with invalid_input when a CA file cannot be loaded, internal when OpenSSL refuses.
  virtual util::Result<std::shared_ptr<TlsConnector>>
  connector(const TlsOptions& tls, const std::string& system_ca) const = 0;
  // The TLS peer closed the connection without a close_notify (SSLConnectionUnexpectedlyClosed).
  virtual bool is_closed_connection(const Poco::Exception& e) const = 0;
  // Any other TLS-layer exception (SSLException).
  virtual bool is_tls_error(const Poco::Exception& e) const = 0;
  // Clears the calling thread's OpenSSL error queue (Poco describes failures from it).
  virtual void clear_errors() const = 0;
  // A context for non-blocking server connections. Fails with invalid_input when the
  // certificate or key cannot be loaded or do not match.
  virtual util::Result<std::unique_ptr<TlsServerContext>>
  server_context(const std::string& cert_file, const std::string& key_file) const = 0;
};

// The entry point the module exports (C linkage, so dlsym finds it by this name).
inline constexpr const char* k_tls_entry = "imageupdater_tls_module_v1";
inline constexpr const char* k_tls_module_file = "imageupdater-tls.so";

// Loads the module (dlopen is reference counted and thread-safe) from, in order,
// `<directory of the running executable>/imageupdater-tls.so` and
// `<that directory>/../lib/imageupdater/imageupdater-tls.so`. Fails with internal naming every
// path tried and dlopen's reason.
util::Result<const TlsModule*> load_tls_module();

} // namespace common::http::detail
