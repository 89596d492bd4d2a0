// The TLS module (imageupdater-tls.so): Poco::NetSSL sessions over OpenSSL contexts made by
// TlsContext. Loaded by load_tls_module(); see tls_module.hpp for why it is separate.
#include "common/http/tls_module.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "common/http/socket_timeouts.hpp"
#include "common/http/tls_context.hpp"

namespace common::http::detail {
namespace {

using util::ErrorKind;

// Balances Poco::Net::initializeSSL()/uninitializeSSL() (reference counted by Poco).
struct SslLibrary {
  SslLibrary() { Poco::Net::initializeSSL(); }
  ~SslLibrary() { Poco::Net::uninitializeSSL(); }
  SslLibrary(const SslLibrary&) = delete;
  SslLibrary& operator=(const SslLibrary&) = delete;
};

class PocoTlsConnector final : public TlsConnector {
public:
  // `library` first: initialised before the context is made, released after it is gone.
  PocoTlsConnector(std::unique_ptr<SslLibrary> library, std::shared_ptr<TlsContext> context)
      : m_library(std::move(library)), m_context(std::move(context)) {}

  // Poco 1.11 can connect a session itself, but then it does not bound the TLS handshake (a peer
  // that accepts and stays silent blocks it for several read timeouts), so the handshake is
  // driven here. The session has no host of its own, which also disables Poco's silent
  // reconnect-and-resend.
  std::unique_ptr<Poco::Net::HTTPClientSession> open(const Url& url,
                                                     std::chrono::milliseconds timeout) override {
    const Poco::Net::SocketAddress address(url.host, url.port);
    // The session must be made around the unconnected socket (it refuses a connected one); it
    // shares the socket, which is then connected here.
    Poco::Net::SecureStreamSocket socket(Poco::Net::Context::Ptr(m_context->context(), true));
    auto session = std::make_unique<Poco::Net::HTTPSClientSession>(socket);
    socket.setPeerHostName(url.host); // SNI and the host name check
    socket.setLazyHandshake(true);
    socket.connect(address, to_timespan(timeout));
    socket.setNoDelay(true);
    // Poco 1.11 throws TimeoutException when a handshake read/write outlasts the socket timeouts.
    set_timeouts(socket, true, timeout);
    if (socket.completeHandshake() != 1) {
      throw Poco::Net::SSLConnectionUnexpectedlyClosedException("during the TLS handshake");
    }
    // completeHandshake() checks the chain (our verify callback); the name is checked here.
    // With VERIFY_NONE (insecure_skip_verify) Poco skips this check.
    socket.verifyPeerCertificate(url.host);
    return session;
  }

  std::optional<util::Error> verification_error(const Poco::Exception& e, const std::string& what,
                                                const Url& url) override {
    const std::string detail = " (" + e.displayText() + ")";
    const auto make = [&](ErrorKind kind, const std::string& text) {
      return util::Error{kind, what + ": " + text};
    };
    // OpenSSL only says "certificate verify failed"; the callback recorded why.
    if (auto reason = m_context->take_failure()) {
      return make(ErrorKind::auth, "TLS certificate of " + url.host + " not trusted: " + *reason);
    }
    if (dynamic_cast<const Poco::Net::CertificateValidationException*>(&e) != nullptr ||
        dynamic_cast<const Poco::Net::InvalidCertificateException*>(&e) != nullptr) {
      return make(ErrorKind::auth,
                  "TLS certificate is not valid for host name " + url.host + detail);
    }
    if (dynamic_cast<const Poco::Net::SSLContextException*>(&e) != nullptr) {
      return make(ErrorKind::internal, "TLS setup failed" + detail);
    }
    if (dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr &&
        e.displayText().find("certificate verify failed") != std::string::npos) {
      return make(ErrorKind::auth, "TLS certificate of " + url.host + " not trusted" + detail);
    }
    return std::nullopt;
  }

private:
  std::unique_ptr<SslLibrary> m_library;
  std::shared_ptr<TlsContext> m_context;
};

class PocoTlsModule final : public TlsModule {
public:
  util::Result<std::shared_ptr<TlsConnector>>
  connector(const TlsOptions& tls, const std::string& system_ca) const override {
    auto library = std::make_unique<SslLibrary>();
    auto context = TlsContext::make(tls, system_ca);
    if (!context) {
      return std::unexpected(context.error());
    }
    return std::make_shared<PocoTlsConnector>(std::move(library), std::move(*context));
  }

  bool is_closed_connection(const Poco::Exception& e) const override {
    return dynamic_cast<const Poco::Net::SSLConnectionUnexpectedlyClosedException*>(&e) != nullptr;
  }

  bool is_tls_error(const Poco::Exception& e) const override {
    return dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr;
  }

  void clear_errors() const override { clear_openssl_errors(); }

  util::Result<std::unique_ptr<Poco::Net::ServerSocket>>
  server_socket(const std::string& host, std::uint16_t port, const std::string& cert_file,
                const std::string& key_file) const override {
    // A serving process keeps TLS for its whole life: initialised once, never released.
    static const SslLibrary library;
    Poco::Net::Context::Ptr context;
    try {
      Poco::Net::Context::Params params;
      params.privateKeyFile = key_file;
      params.certificateFile = cert_file;
      params.verificationMode = Poco::Net::Context::VERIFY_NONE; // no client certificates
      params.loadDefaultCAs = false;
      params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:@STRENGTH";
      context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      context->enableSessionCache(false);
    } catch (const Poco::Exception& e) {
      clear_openssl_errors();
      return util::fail(ErrorKind::invalid_input, "cannot load TLS certificate " + cert_file +
                                                      " and key " + key_file + ": " +
                                                      e.displayText());
    }
    try {
      // Poco's secure server socket only prepares the TLS session on accept; the handshake
      // happens on the connection's first read, in the worker thread, within its timeouts.
      auto socket = std::make_unique<Poco::Net::SecureServerSocket>(
          Poco::Net::SocketAddress(host, port), 64, context);
      return std::unique_ptr<Poco::Net::ServerSocket>(std::move(socket));
    } catch (const Poco::Exception& e) {
      return util::fail(ErrorKind::transient, "cannot listen on " + host + ":" +
                                                  std::to_string(port) + ": " + e.displayText());
    }
  }
};

} // namespace
} // namespace common::http::detail

// The module's one exported symbol (everything else is hidden: -fvisibility=hidden).
extern "C" __attribute__((visibility("default"))) const common::http::detail::TlsModule*
imageupdater_tls_module_v1() {
  // Stateless, constant: the one object the module hands out.
  static const common::http::detail::PocoTlsModule k_module;
  return &k_module;
}
